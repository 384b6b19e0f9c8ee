// regfront/dns/resolver.h — asynchronous DNS for registrar names, on the control thread.
//
// A thin owner of a c-ares channel that fits the control loop's poll(): the loop asks for the
// descriptors to watch and a timeout, and hands back readiness. Names are looked up in the hosts
// file first, then in DNS. Results carry a Status (never an exception) and the smallest TTL of
// the answer, so the caller re-resolves when it runs out.
//
//   auto r = regfront::dns::Resolver::create();
//   if (!r.ok()) return r.status();
//   std::unique_ptr<regfront::dns::Resolver> resolver = std::move(*r);
//   resolver->lookup("registrar.example.com", 5060, [](const Resolver::Result& res) {
//     if (!res.status.ok()) log(res.status.message());   // "Domain name not found"
//   });
//   for (;;) {
//     auto fds = resolver->pollfds();
//     poll(fds.data(), fds.size(), resolver->timeout_ms(1000));
//     resolver->process(fds);
//   }
#pragma once

#include <poll.h>
#include <sys/socket.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "regfront/common/status.h"

namespace regfront::dns {

// How a Resolver asks. The defaults are the daemon's; tests point `servers` at a port where
// nothing listens so that a DNS query is refused at once instead of timing out.
struct ResolverOptions {
  int timeout_ms = 2000;  // per try
  int tries = 3;
  // "HOST[:PORT],…" replacing the name servers of /etc/resolv.conf; empty: the system's.
  std::string servers;
};

// One SRV record (RFC 2782) and one NAPTR record (RFC 3403), as the server sent them.
struct SrvRecord {
  std::uint16_t priority = 0;
  std::uint16_t weight = 0;
  std::uint16_t port = 0;
  std::string target;  // "." (the service is decidedly not there) is kept as is
};
struct NaptrRecord {
  std::uint16_t order = 0;
  std::uint16_t preference = 0;
  std::string flags;        // "s", "a", "u", ""
  std::string service;      // "SIP+D2U", …
  std::string replacement;  // the next name to look up ("." for none)
};

class Resolver {
 public:
  // The outcome of one lookup.
  struct Result {
    // OK with at least one address; otherwise why not, in c-ares' words ("Domain name not
    // found", "Timeout while contacting DNS servers"): not_found when the name has no address,
    // unavailable when no server answered, internal for the rest.
    Status status;
    std::vector<sockaddr_storage> addresses;  // IPv4 first, then IPv6, port filled in
    std::vector<socklen_t> lengths;
    std::uint32_t ttl_s = 0;                  // smallest TTL of the answer (0 = none given)
  };
  using Callback = std::function<void(const Result&)>;

  // The outcome of an SRV or NAPTR query (DNS only, no hosts file): OK with the records, or
  // not_found (no such name, or no record of the type), unavailable (no server answered),
  // internal. ttl_s is the smallest TTL of the answer's records.
  template <class Record>
  struct Records {
    Status status;
    std::vector<Record> records;
    std::uint32_t ttl_s = 0;
  };
  using SrvResult = Records<SrvRecord>;
  using NaptrResult = Records<NaptrRecord>;

  // A resolver with its c-ares channel, or why c-ares could not give one (internal).
  static StatusOr<std::unique_ptr<Resolver>> create(const ResolverOptions& options = {});
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Starts resolving `host`; `cb` runs once with the addresses (`port` filled in) or the
  // failure, from inside lookup() (hosts file, literals) or from a later process(). Pending
  // lookups are answered with a failure when the Resolver is destroyed.
  void lookup(const std::string& host, std::uint16_t port, Callback cb);
  // An SRV query for `name` (e.g. "_sip._udp.example.com") and a NAPTR query; `cb` runs once,
  // from a later process() (or at once when the query cannot be sent).
  void query_srv(const std::string& name, std::function<void(const SrvResult&)> cb);
  void query_naptr(const std::string& name, std::function<void(const NaptrResult&)> cb);
  // True when `host` is in the hosts file (then it is a local alias, not a DNS domain: the
  // registry looks up no NAPTR/SRV for it). Reads the file; sends nothing.
  bool in_hosts_file(const std::string& host) const;

  // The descriptors c-ares waits on, for the control loop's poll().
  std::vector<pollfd> pollfds() const;
  // How long poll() may sleep: `max_ms`, or less when a lookup is pending and times out sooner.
  int timeout_ms(int max_ms) const;
  // Hands poll()'s readiness (`revents`) of pollfds() back to c-ares; with none ready, runs its
  // timeouts. Callbacks of finished lookups run from here.
  void process(const std::vector<pollfd>& fds);

 private:
  Resolver() = default;

  void* channel_ = nullptr;
  int pending_ = 0;
  friend struct ResolverAccess;
};

}  // namespace regfront::dns
