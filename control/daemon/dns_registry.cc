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

// When to look up again after an answer (its TTL, at least kMinTtlS; kNoTtlS without one).
std::uint32_t ttl_of(const dns::Resolver::Result& res) {
  return res.ttl_s ? std::max<std::uint32_t>(res.ttl_s, kMinTtlS) : kNoTtlS;
}

bool same_address(const snapshot::ResolvedRegistrar& a, const snapshot::ResolvedRegistrar& b) {
  return a.addr_len == b.addr_len && std::memcmp(&a.addr, &b.addr, a.addr_len) == 0;
}

}  // namespace

snapshot::ResolvedRegistrar DnsRegistry::resolved(const dns::Resolver::Result& res) const {
  snapshot::ResolvedRegistrar rr;
  rr.addr = res.addresses.front();
  rr.addr_len = res.lengths.front();
  rr.local_ip = local_ip_(rr.addr, rr.addr_len);
  return rr;
}

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
  return update_targets(cfg, now) || changed;
}

bool DnsRegistry::update_targets(const config::Config& cfg, std::uint64_t now) {
  bool changed = false;
  std::map<std::string, Target> wanted;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    if (!dp.is_voip() || !dp.voip) continue;
    const config::SessionTarget& t = dp.voip->session_target;
    const std::string key = snapshot::session_target_key(t);
    if (key.empty()) continue;
    Target& w = wanted[key];
    w.host = t.host;
    w.port = t.port != 0 ? t.port : config::kDefaultSipPort;
    w.dns = t.kind == config::SessionTargetKind::dns;
  }
  // Targets no dial peer names any more are forgotten (a lookup in flight is ignored then).
  for (auto it = targets_.begin(); it != targets_.end();) {
    if (wanted.count(it->first) != 0) {
      ++it;
      continue;
    }
    changed |= target_addrs_.erase(it->first) != 0;
    it = targets_.erase(it);
  }
  for (auto& [key, w] : wanted) {
    auto [it, added] = targets_.emplace(key, w);
    Target& t = it->second;
    if (!t.dns) {
      if (target_addrs_.count(key) != 0) continue;  // a literal is resolved once
      snapshot::ResolvedRegistrar rr;
      if (literal_address(t.host, t.port, rr.addr, rr.addr_len)) {
        rr.local_ip = local_ip_(rr.addr, rr.addr_len);
        target_addrs_[key] = rr;
        changed = true;
      }
      continue;
    }
    if (t.in_progress || (t.refresh_at_ms != 0 && t.refresh_at_ms > now)) continue;
    lookup_target(key);
  }
  return changed;
}

void DnsRegistry::lookup_target(const std::string& key) {
  Target& t = targets_[key];
  t.in_progress = true;
  resolver_->lookup(t.host, t.port, [this, key](const dns::Resolver::Result& res) {
    const auto it = targets_.find(key);
    if (it == targets_.end()) return;  // no dial peer names it any more
    Target& st = it->second;
    st.in_progress = false;
    const std::uint64_t now = monotonic_ms();
    if (!res.status.ok()) {
      st.refresh_at_ms = now + kRetryFailedMs;
      log("session target %s: cannot resolve: %s (retrying in 30 s)", key.c_str(), res.status.message().c_str());
      return;
    }
    const std::uint32_t ttl = ttl_of(res);
    st.refresh_at_ms = now + std::uint64_t{ttl} * 1000;
    const snapshot::ResolvedRegistrar rr = resolved(res);
    const auto old = target_addrs_.find(key);
    if (old == target_addrs_.end() || !same_address(old->second, rr)) {
      log("session target %s resolved to %s (ttl %u s)", key.c_str(), ip_text(rr.addr).c_str(), ttl);
      target_addrs_[key] = rr;
      changed_ = true;
    }
  });
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
    const std::uint32_t ttl = ttl_of(res);
    st.refresh_at_ms = t + std::uint64_t{ttl} * 1000;
    const snapshot::ResolvedRegistrar rr = resolved(res);
    const bool moved = !addrs_[slot] || !same_address(*addrs_[slot], rr);
    if (moved) {
      log("registrar %d: %s resolved to %s (ttl %u s)", slot + 1, st.host.c_str(), ip_text(rr.addr).c_str(), ttl);
      addrs_[slot] = rr;
      changed_ = true;
    }
  });
}

}  // namespace regfront::daemon
