// regfront/daemon/dns_registry.h — where each configured registrar is: literal addresses at once,
// `dns:` names through the resolver (c-ares, on the control thread), looked up again when the
// answer's TTL runs out, retried 30 s after a failure. Also our source address towards each
// one (the snapshot's local_ip). What it holds is what `show sip-ua status registrar` prints.
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
#include "regfront/dns/resolver.h"
#include "regfront/snapshot/builder.h"

namespace regfront::daemon {

class DnsRegistry {
 public:
  // Our address towards a destination (explicit --listen address, the kernel's route, or the
  // DPDK interface's): the snapshot's local_ip of that registrar.
  using LocalIp = std::function<std::string(const sockaddr_storage&, socklen_t)>;

  DnsRegistry(std::unique_ptr<dns::Resolver> resolver, LocalIp local_ip);
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

  // What show prints about registrar slot `slot` (index - 1).
  struct Entry {
    config::RegistrarAddress address;  // what was configured when this entry was made
    std::string host;
    std::uint16_t port = 0;
    std::uint64_t refresh_at_ms = 0;   // 0 = no lookup scheduled
    std::string last_error;            // the last lookup's failure, "" after a success
    bool in_progress = false;
  };
  const Entry& entry(int slot) const { return entries_[slot]; }

  // The resolver's part of the control loop's poll().
  std::vector<pollfd> pollfds() const { return resolver_->pollfds(); }
  int timeout_ms(int max_ms) const { return resolver_->timeout_ms(max_ms); }
  void process(const std::vector<pollfd>& fds) { resolver_->process(fds); }

 private:
  void lookup(int slot, const config::RegistrarAddress& asked);
  // An answer's first address, with our address towards it.
  snapshot::ResolvedRegistrar resolved(const dns::Resolver::Result& res) const;
  bool update_targets(const config::Config& cfg, std::uint64_t now_ms);
  void lookup_target(const std::string& key);

  struct Target {
    std::string host;
    std::uint16_t port = 0;
    bool dns = false;
    std::uint64_t refresh_at_ms = 0;
    bool in_progress = false;
  };
  std::map<std::string, Target> targets_;       // by key, those the configuration names
  snapshot::TargetAddresses target_addrs_;       // the resolved ones

  LocalIp local_ip_;
  std::unique_ptr<dns::Resolver> resolver_;
  snapshot::RegistrarAddresses addrs_{};
  Entry entries_[reg::kRegistrarSlots];
  bool changed_ = false;
};

}  // namespace regfront::daemon
