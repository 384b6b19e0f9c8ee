// regfront/daemon/dns_registry.h — where each configured registrar is: literal addresses at once,
// `dns:` names through the resolver (c-ares, on the control thread), looked up again when the
// answer's TTL runs out, retried 30 s after a failure. Also our source address towards each
// one (the snapshot's local_ip). What it holds is what `show sip-ua register registrars` prints.
//
// A `dns:NAME` registrar without a port is found as RFC 3263 §4 says (regfront/dns/sip_srv.h):
// NAPTR (SIP+D2U) → SRV (priority, weighted random) → A/AAAA, every address of every SRV target
// one target, in that order; without SRV records NAME's addresses on 5060. With a port, a
// literal, or a name from the hosts file: its A/AAAA addresses only. The snapshot carries the
// target in use; watch() moves a registrar to the next target when the one in use stops
// answering (regfront/daemon/target_failover.h), and back when a better one's hold-down is over.
//
//   DnsRegistry dns(std::move(*dns::Resolver::create()), local_ip_fn);
//   for (;;) {
//     poll(dns.pollfds() + …, dns.timeout_ms(100));
//     dns.process(fds);
//     if (dns.update(cfg, monotonic_ms()) | dns.take_changed()) rebuild_and_publish();
//   }
#pragma once

#include <poll.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "regfront/config/model.h"
#include "regfront/daemon/target_failover.h"
#include "regfront/dns/resolver.h"
#include "regfront/snapshot/builder.h"

namespace regfront::daemon {

class DnsRegistry {
 public:
  // Our address towards a destination (explicit --listen address, the kernel's route, or the
  // DPDK interface's): the snapshot's local_ip of that registrar.
  using LocalIp = std::function<std::string(const sockaddr_storage&, socklen_t)>;

  DnsRegistry(std::unique_ptr<dns::Resolver> resolver, LocalIp local_ip, FailoverPolicy failover = {});
  ~DnsRegistry();

  // Brings the registry in line with the configured registrars: a registrar removed or
  // re-addressed forgets what was resolved for it, a literal address is known at once, a
  // `dns:` name is looked up when due. True when an address changed or went away (the
  // snapshot must be rebuilt).
  bool update(const config::Config& cfg, std::uint64_t now_ms);
  // True (once) when a lookup answered since the last call and changed an address.
  bool take_changed();

  // The addresses the snapshot builder uses (slot = index - 1; empty = not resolved).
  const snapshot::RegistrarAddresses& addresses() const { return addrs_; }

  // The voip dial peers' session targets (`ipv4:…` at once, `dns:…` through the resolver, as
  // for registrars), by snapshot::session_target_key(). update() keeps them in line with the
  // configuration too.
  const snapshot::TargetAddresses& target_addresses() const { return target_addrs_; }

  // One address a registrar may be reached at, in RFC 3263 order.
  struct Target {
    std::uint16_t priority = 0;  // SRV priority and weight (0 without SRV)
    std::uint16_t weight = 0;
    std::string host;            // the SRV target, or the configured name
    sockaddr_storage addr{};     // port filled in
    socklen_t addr_len = 0;
  };

  // What show prints about registrar slot `slot` (index - 1).
  struct Entry {
    config::RegistrarAddress address;  // what was configured when this entry was made
    std::string host;
    std::uint16_t port = 0;
    std::uint64_t refresh_at_ms = 0;   // 0 = no lookup scheduled
    std::string last_error;            // the last lookup's failure, "" after a success
    bool in_progress = false;
    std::string method;                // how the targets were found: "NAPTR+SRV", "SRV", "A/AAAA"
    std::vector<Target> targets;       // in order; failover.current() is the one in use
    TargetFailover failover;
    std::uint64_t switches = 0;        // moves to another target (failover and return)
    std::uint64_t lookup_seq = 0;      // the lookup whose answer is awaited
  };
  const Entry& entry(int slot) const { return entries_[slot]; }

  // The registrar's counters summed over the workers (2xx; timeouts + ICMP-failed + 503s).
  // True when its target in use changed (the snapshot must be rebuilt); the move is logged.
  bool watch(int slot, std::uint64_t accepted, std::uint64_t failures, std::uint64_t now_ms);

  // The resolver's part of the control loop's poll().
  std::vector<pollfd> pollfds() const { return resolver_->pollfds(); }
  int timeout_ms(int max_ms) const { return resolver_->timeout_ms(max_ms); }
  void process(const std::vector<pollfd>& fds) { resolver_->process(fds); }

 private:
  void lookup(int slot, const config::RegistrarAddress& asked);
  // RFC 3263 steps of a registrar lookup `seq` (see the header comment).
  void lookup_srv(int slot, std::uint64_t seq, const std::string& srv_name, bool via_naptr, std::uint32_t ttl);
  void lookup_addresses(int slot, std::uint64_t seq, const std::string& host, std::uint16_t port, std::uint32_t ttl);
  // The end of lookup `seq`: its targets (empty: failed with `error`) and smallest TTL.
  void finish(int slot, std::uint64_t seq, std::vector<Target> targets, std::string method, std::uint32_t ttl,
              std::string error);
  // Publishes the entry's target in use as the registrar's address; true when it changed.
  bool use_target(int slot);
  // An answer's first address, with our address towards it.
  snapshot::ResolvedRegistrar resolved(const dns::Resolver::Result& res) const;
  bool update_targets(const config::Config& cfg, std::uint64_t now_ms);
  void lookup_target(const std::string& key);

  struct SessionTarget {
    std::string host;
    std::uint16_t port = 0;
    bool dns = false;
    std::uint64_t refresh_at_ms = 0;
    bool in_progress = false;
  };
  std::map<std::string, SessionTarget> targets_;  // by key, those the configuration names
  snapshot::TargetAddresses target_addrs_;       // the resolved ones

  LocalIp local_ip_;
  std::unique_ptr<dns::Resolver> resolver_;
  snapshot::RegistrarAddresses addrs_{};
  Entry entries_[reg::kRegistrarSlots];
  FailoverPolicy failover_policy_;
  std::uint64_t next_seq_ = 1;
  std::uint64_t rng_state_;  // SRV weighted selection
  bool changed_ = false;
  bool closing_ = false;     // destroying: answers the resolver fails now are ignored
};

}  // namespace regfront::daemon
