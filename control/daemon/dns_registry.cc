// Registrar addresses (see regfront/daemon/dns_registry.h).
#include "regfront/daemon/dns_registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <utility>

#include "regfront/common/clock.h"
#include "regfront/daemon/addresses.h"
#include "regfront/daemon/log.h"
#include "regfront/dns/sip_srv.h"

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

std::string target_text(const DnsRegistry::Target& t) {
  return ip_text(t.addr) + ":" + std::to_string(port_of(t.addr));
}

// The same targets, whatever their order within a priority (a re-resolution draws the
// weighted order again; that alone must not move a registrar's bindings).
bool same_targets(std::vector<DnsRegistry::Target> a, std::vector<DnsRegistry::Target> b) {
  if (a.size() != b.size()) return false;
  auto key = [](const DnsRegistry::Target& t) {
    return std::make_tuple(t.priority, t.weight, t.host,
                           std::string(reinterpret_cast<const char*>(&t.addr), t.addr_len));
  };
  auto less = [&](const DnsRegistry::Target& x, const DnsRegistry::Target& y) { return key(x) < key(y); };
  std::sort(a.begin(), a.end(), less);
  std::sort(b.begin(), b.end(), less);
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (key(a[i]) != key(b[i])) return false;
  }
  return true;
}

// A literal IPv4/IPv6 address (no NAPTR/SRV for those, RFC 3263 §4.2).
bool is_literal(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  std::string h = host;
  if (h.size() > 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  return inet_pton(AF_INET, h.c_str(), buf) == 1 || inet_pton(AF_INET6, h.c_str(), buf) == 1;
}

}  // namespace

snapshot::ResolvedRegistrar DnsRegistry::resolved(const dns::Resolver::Result& res) const {
  snapshot::ResolvedRegistrar rr;
  rr.addr = res.addresses.front();
  rr.addr_len = res.lengths.front();
  rr.local_ip = local_ip_(rr.addr, rr.addr_len);
  return rr;
}

DnsRegistry::DnsRegistry(std::unique_ptr<dns::Resolver> resolver, LocalIp local_ip, FailoverPolicy failover)
    : local_ip_(std::move(local_ip)), resolver_(std::move(resolver)), failover_policy_(failover),
      rng_state_(std::random_device{}()) {
  for (Entry& e : entries_) e.failover = TargetFailover(failover_policy_);
}

DnsRegistry::~DnsRegistry() {
  // Pending lookups are answered (failed) while the resolver goes: before anything they touch.
  closing_ = true;
  resolver_.reset();
}

bool DnsRegistry::take_changed() { return std::exchange(changed_, false); }

bool DnsRegistry::update(const config::Config& cfg, std::uint64_t now) {
  bool changed = false;
  // A registrar removed or given another address forgets what was resolved for it.
  for (int slot = 0; slot < reg::kRegistrarSlots; ++slot) {
    const auto it = cfg.sip_ua.registrars.find(slot + 1);
    if (it == cfg.sip_ua.registrars.end() || !(it->second.address == entries_[slot].address)) {
      changed |= addrs_[slot].has_value();
      addrs_[slot].reset();
      // A lookup still in flight for the old address is ignored when it answers (its
      // lookup_seq is not the entry's any more).
      entries_[slot] = Entry{};
      entries_[slot].failover = TargetFailover(failover_policy_);
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
  std::map<std::string, SessionTarget> wanted;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    if (!dp.is_voip() || !dp.voip) continue;
    const config::SessionTarget& t = dp.voip->session_target;
    const std::string key = snapshot::session_target_key(t);
    if (key.empty()) continue;
    SessionTarget& w = wanted[key];
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
    SessionTarget& t = it->second;
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
  SessionTarget& t = targets_[key];
  t.in_progress = true;
  resolver_->lookup(t.host, t.port, [this, key](const dns::Resolver::Result& res) {
    const auto it = targets_.find(key);
    if (it == targets_.end()) return;  // no dial peer names it any more
    SessionTarget& st = it->second;
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
  const std::uint64_t seq = e.lookup_seq = next_seq_++;
  // RFC 3263 §4.2: an explicit port or a literal address: A/AAAA only. A name from the hosts
  // file is a local alias, not a DNS domain: the same.
  if (asked.port != 0 || is_literal(e.host) || resolver_->in_hosts_file(e.host)) {
    lookup_addresses(slot, seq, e.host, e.port, 0);
    return;
  }
  const std::string host = e.host;
  resolver_->query_naptr(host, [this, slot, seq, host](const dns::Resolver::NaptrResult& res) {
    if (closing_ || entries_[slot].lookup_seq != seq) return;
    // No NAPTR answer (or none for UDP): SRV directly (§4.1).
    const std::string srv = res.status.ok() ? dns::udp_srv_name(res.records) : std::string();
    const bool via_naptr = !srv.empty();
    lookup_srv(slot, seq, via_naptr ? srv : dns::default_srv_name(host), via_naptr, via_naptr ? res.ttl_s : 0);
  });
}

void DnsRegistry::lookup_srv(int slot, std::uint64_t seq, const std::string& srv_name, bool via_naptr,
                             std::uint32_t ttl) {
  resolver_->query_srv(srv_name, [this, slot, seq, via_naptr, ttl](const dns::Resolver::SrvResult& res) {
    if (closing_ || entries_[slot].lookup_seq != seq) return;
    const Entry& e = entries_[slot];
    std::vector<dns::SrvRecord> order;
    if (res.status.ok()) {
      order = dns::order_srv(res.records, [this](std::uint32_t n) {
        // splitmix64: cheap and good enough to spread load over equal-priority targets
        std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        return static_cast<std::uint32_t>(z % (std::uint64_t{n} + 1));
      });
    }
    if (order.empty()) {  // no SRV: the name's own addresses on 5060 (§4.2)
      lookup_addresses(slot, seq, e.host, e.port, ttl);
      return;
    }
    std::uint32_t t = ttl;
    if (res.ttl_s != 0 && (t == 0 || res.ttl_s < t)) t = res.ttl_s;
    // Every target's addresses, in parallel; assembled in SRV order once all have answered.
    struct Job {
      std::vector<dns::SrvRecord> order;
      std::vector<std::vector<Target>> found;
      std::size_t waiting;
      std::uint32_t ttl;
      std::string error;
    };
    auto job = std::make_shared<Job>(Job{order, std::vector<std::vector<Target>>(order.size()), order.size(), t, {}});
    const std::string method = via_naptr ? "NAPTR+SRV" : "SRV";
    for (std::size_t k = 0; k < order.size(); ++k) {
      const dns::SrvRecord rec = order[k];
      resolver_->lookup(rec.target, rec.port, [this, slot, seq, job, k, rec, method](const dns::Resolver::Result& r) {
        if (closing_) return;
        if (r.status.ok()) {
          for (std::size_t i = 0; i < r.addresses.size(); ++i) {
            Target tg;
            tg.priority = rec.priority;
            tg.weight = rec.weight;
            tg.host = rec.target;
            tg.addr = r.addresses[i];
            tg.addr_len = r.lengths[i];
            job->found[k].push_back(tg);
          }
          if (r.ttl_s != 0 && (job->ttl == 0 || r.ttl_s < job->ttl)) job->ttl = r.ttl_s;
        } else {
          job->error = rec.target + ": " + r.status.message();
        }
        if (--job->waiting != 0) return;
        std::vector<Target> all;
        for (auto& f : job->found) all.insert(all.end(), f.begin(), f.end());
        finish(slot, seq, std::move(all), method, job->ttl, job->error);
      });
    }
  });
}

void DnsRegistry::lookup_addresses(int slot, std::uint64_t seq, const std::string& host, std::uint16_t port,
                                   std::uint32_t ttl) {
  resolver_->lookup(host, port, [this, slot, seq, host, ttl](const dns::Resolver::Result& res) {
    if (closing_) return;
    std::vector<Target> all;
    std::uint32_t t = ttl;
    if (res.status.ok()) {
      for (std::size_t i = 0; i < res.addresses.size(); ++i) {
        Target tg;
        tg.host = host;
        tg.addr = res.addresses[i];
        tg.addr_len = res.lengths[i];
        all.push_back(tg);
      }
      if (res.ttl_s != 0 && (t == 0 || res.ttl_s < t)) t = res.ttl_s;
    }
    finish(slot, seq, std::move(all), "A/AAAA", t, res.status.ok() ? std::string() : res.status.message());
  });
}

void DnsRegistry::finish(int slot, std::uint64_t seq, std::vector<Target> targets, std::string method,
                         std::uint32_t ttl, std::string error) {
  Entry& st = entries_[slot];
  if (st.lookup_seq != seq) return;  // the registrar changed while we were asking
  st.in_progress = false;
  const std::uint64_t t = monotonic_ms();
  if (targets.empty()) {
    st.last_error = error.empty() ? "no address" : error;
    st.refresh_at_ms = t + kRetryFailedMs;
    log("registrar %d: cannot resolve %s: %s (retrying in 30 s)", slot + 1, st.host.c_str(), st.last_error.c_str());
    return;
  }
  st.last_error.clear();
  const std::uint32_t ttl_s = ttl ? std::max<std::uint32_t>(ttl, kMinTtlS) : kNoTtlS;
  st.refresh_at_ms = t + std::uint64_t{ttl_s} * 1000;
  st.method = std::move(method);
  if (!same_targets(st.targets, targets)) {
    // A new list: the best target first, hold-downs forgotten.
    st.targets = std::move(targets);
    st.failover.reset(st.targets.size());
    std::string list;
    for (const Target& tg : st.targets) {
      list += (list.empty() ? "" : ", ") + target_text(tg);
      if (st.method != "A/AAAA") list += " (" + tg.host + " " + std::to_string(tg.priority) + "/" + std::to_string(tg.weight) + ")";
    }
    log("registrar %d: %s resolved by %s to %s (ttl %u s)", slot + 1, st.host.c_str(), st.method.c_str(), list.c_str(),
        ttl_s);
  }
  if (use_target(slot)) changed_ = true;
}

bool DnsRegistry::use_target(int slot) {
  const Entry& e = entries_[slot];
  if (e.targets.empty()) return false;
  const Target& tg = e.targets[e.failover.current()];
  snapshot::ResolvedRegistrar rr;
  rr.addr = tg.addr;
  rr.addr_len = tg.addr_len;
  if (addrs_[slot] && same_address(*addrs_[slot], rr)) return false;
  rr.local_ip = local_ip_(rr.addr, rr.addr_len);
  addrs_[slot] = rr;
  return true;
}

bool DnsRegistry::watch(int slot, std::uint64_t accepted, std::uint64_t failures, std::uint64_t now_ms) {
  Entry& e = entries_[slot];
  if (e.targets.size() < 2) return false;
  const std::size_t from = e.failover.current();
  if (!e.failover.observe(accepted, failures, now_ms)) return false;
  ++e.switches;
  event(kWarnings, "SIP", "REGISTRAR_FAILOVER", "Registrar %d target %s -> %s: %s (switch %llu)", slot + 1,
        target_text(e.targets[from]).c_str(), target_text(e.targets[e.failover.current()]).c_str(),
        e.failover.why().c_str(), static_cast<unsigned long long>(e.switches));
  return use_target(slot);
}

}  // namespace regfront::daemon
