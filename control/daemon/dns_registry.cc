// Registrar addresses (see regfront/daemon/dns_registry.h).
#include "regfront/daemon/dns_registry.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "regfront/common/clock.h"
#include "regfront/daemon/addresses.h"
#include "regfront/daemon/log.h"

namespace regfront::daemon {
namespace {

constexpr std::uint64_t kRetryFailedMs = 30000;  // a failed lookup is tried again after this
constexpr std::uint32_t kMinTtlS = 10;           // answers are not looked up again sooner
constexpr std::uint32_t kNoTtlS = 3600;          // an answer without a TTL is kept this long

}  // namespace

DnsRegistry::DnsRegistry(std::unique_ptr<dns::Resolver> resolver, LocalIp local_ip)
    : local_ip_(std::move(local_ip)), resolver_(std::move(resolver)) {}

DnsRegistry::~DnsRegistry() = default;

bool DnsRegistry::take_changed() { return std::exchange(changed_, false); }

bool DnsRegistry::update(const config::Config& cfg, std::uint64_t now) {
  bool changed = false;
  // A registrar removed or given another address forgets what was resolved for it (a lookup
  // still in flight for the old name is ignored when it answers: see lookup()).
  for (int slot = 0; slot < reg::kRegistrarSlots; ++slot) {
    const auto it = cfg.sip_ua.registrars.find(slot + 1);
    if (it == cfg.sip_ua.registrars.end() || !(it->second.address == entries_[slot].address)) {
      changed |= addrs_[slot].has_value();
      addrs_[slot].reset();
      const bool in_progress = entries_[slot].in_progress;
      entries_[slot] = Entry{};
      entries_[slot].in_progress = in_progress;
      if (it != cfg.sip_ua.registrars.end()) entries_[slot].address = it->second.address;
    }
  }
  for (const auto& [index, r] : cfg.sip_ua.registrars) {
    if (index < 1 || index > reg::kRegistrarSlots) continue;
    Entry& e = entries_[index - 1];
    const std::uint16_t port = r.address.port ? r.address.port : config::kDefaultSipPort;
    e.host = r.address.host;
    e.port = port;
    if (r.address.kind == config::AddressKind::ipv4 || r.address.kind == config::AddressKind::ipv6) {
      if (addrs_[index - 1]) continue;  // a literal is resolved once
      snapshot::ResolvedRegistrar rr;
      if (literal_address(r.address.host, port, rr.addr, rr.addr_len)) {
        rr.local_ip = local_ip_(rr.addr, rr.addr_len);
        addrs_[index - 1] = rr;
        changed = true;
      }
      continue;
    }
    if (r.address.kind != config::AddressKind::dns || e.in_progress) continue;
    if (e.refresh_at_ms != 0 && e.refresh_at_ms > now) continue;
    lookup(index - 1, r.address);
  }
  return changed;
}

void DnsRegistry::lookup(int slot, const config::RegistrarAddress& asked) {
  Entry& e = entries_[slot];
  e.in_progress = true;
  resolver_->lookup(e.host, e.port, [this, slot, asked](const dns::Resolver::Result& res) {
    Entry& st = entries_[slot];
    st.in_progress = false;
    if (!(st.address == asked)) return;  // the registrar changed while we were asking
    const std::uint64_t t = monotonic_ms();
    if (!res.status.ok()) {
      st.last_error = res.status.message();
      st.refresh_at_ms = t + kRetryFailedMs;
      log("registrar %d: cannot resolve %s: %s (retrying in 30 s)", slot + 1, st.host.c_str(),
          res.status.message().c_str());
      return;
    }
    st.last_error.clear();
    const std::uint32_t ttl = res.ttl_s ? std::max<std::uint32_t>(res.ttl_s, kMinTtlS) : kNoTtlS;
    st.refresh_at_ms = t + std::uint64_t{ttl} * 1000;
    snapshot::ResolvedRegistrar rr;
    rr.addr = res.addresses.front();
    rr.addr_len = res.lengths.front();
    rr.local_ip = local_ip_(rr.addr, rr.addr_len);
    const bool moved = !addrs_[slot] || addrs_[slot]->addr_len != rr.addr_len ||
                       std::memcmp(&addrs_[slot]->addr, &rr.addr, rr.addr_len) != 0;
    if (moved) {
      log("registrar %d: %s resolved to %s (ttl %u s)", slot + 1, st.host.c_str(), ip_text(rr.addr).c_str(), ttl);
      addrs_[slot] = rr;
      changed_ = true;
    }
  });
}

}  // namespace regfront::daemon
