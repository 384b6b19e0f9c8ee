// Configuration model → worker snapshot. Control plane only: allocation is fine here.
//
// Build order:
//   1. registrars (slots 0..5) and their identity keys;
//   2. which binding slots stay, which are new, which are leaving (left the configuration but
//      still have to unregister) — decided from the configuration alone, so that
//   3. realms can include the realms of leaving endpoints' credentials before
//   4. credentials (HA1s; realm-less entries need the final realm count) and endpoints;
//   5. ghosts: copies, from the previous snapshot, of each leaving binding's endpoint (with its
//      realm-specific credentials) and, when the registrar itself left or changed, of the
//      registrar into slot 6 + (index - 1);
//   6. the per-worker plans.
#include "regfront/control/snapshot_builder.h"

#include <algorithm>
#include <cstring>
#include <unordered_set>

#include "regfront/auth/digest.h"

namespace regfront::control {
namespace {

std::string registrar_domain(const config::RegistrarAddress& a) {
  if (a.kind == config::AddressKind::ipv6) return "[" + a.host + "]";
  return a.host;
}

std::string registrar_key(const config::Registrar& r) {
  // A binding is re-created (new Call-ID, new registration) when the registrar's identity
  // changes; its expiry or rate changing does not make it another binding.
  return std::to_string(r.index) + "|" + registrar_domain(r.address) + ":" + std::to_string(r.address.port);
}

bool usable(const config::Registrar& r) {
  // Only UDP to sip: URIs is carried today; a tcp/sips registrar is left out (the daemon says
  // so at start-up) rather than being sent UDP it will not answer.
  return r.index >= 1 && r.index <= reg::kRegistrarSlots && r.address.kind != config::AddressKind::dhcp &&
         !r.tcp && r.scheme != config::Scheme::sips;
}

}  // namespace

std::uint32_t owner_worker(const std::string& number, std::uint32_t workers) {
  if (workers <= 1) return 0;
  return static_cast<std::uint32_t>(reg::RealmTable::hash(number) % workers);
}

std::uint64_t SnapshotBuilder::scan_next_expiry() const {
  std::uint64_t next = 0;
  for (const auto& st : slots_) {
    for (const auto& sl : st.slots) {
      if (sl.leaving_until != 0 && (next == 0 || sl.leaving_until < next)) next = sl.leaving_until;
    }
  }
  return next;
}

std::unique_ptr<reg::Snapshot> SnapshotBuilder::build(const config::Config& cfg, const RegistrarAddresses& addrs,
                                                      std::uint16_t listen_port,
                                                      const std::vector<std::string>& learned_realms,
                                                      const reg::Snapshot* previous, std::uint64_t now_ms) {
  auto snap = std::make_unique<reg::Snapshot>();
  reg::Snapshot& s = *snap;
  s.version = ++version_;
  s.listen_port = listen_port;
  s.t1_ms = cfg.sip_ua.timers_register_ms;
  s.retry_register = cfg.sip_ua.retry_register;
  if (previous == nullptr || previous->plans.size() != workers_) previous = nullptr;

  // ---- 1. registrars ----
  std::array<std::string, reg::kSnapRegistrarSlots> reg_keys{};
  for (const auto& [index, r] : cfg.sip_ua.registrars) {
    if (usable(r)) reg_keys[index - 1] = registrar_key(r);
  }
  const std::vector<std::string> numbers = config::endpoint_numbers(cfg);

  // ---- 2. slots: kept, new, leaving ----
  struct Leaving {
    std::uint32_t worker, slot;
    reg::PlanEntry prev;       // the entry in the previous snapshot
  };
  std::vector<Leaving> leaving;
  std::array<std::size_t, reg::kRegistrarSlots> leaving_per_index{};
  {
    std::unordered_set<std::string_view> active_numbers(numbers.begin(), numbers.end());
    auto active = [&](const Slot& sl) {
      if (active_numbers.count(sl.number) == 0) return false;
      for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
        if (reg_keys[ri] == sl.registrar) return true;
      }
      return false;
    };
    for (std::uint32_t w = 0; w < workers_; ++w) {
      SlotState& st = slots_[w];
      for (std::uint32_t slot = 0; slot < st.slots.size(); ++slot) {
        Slot& sl = st.slots[slot];
        if (sl.registrar.empty()) continue;
        if (active(sl)) {
          if (sl.leaving_until != 0) {
            // Configured again while it was still unregistering: a new binding, not the old one.
            sl.leaving_until = 0;
            sl.generation = next_generation_++;
          }
          continue;
        }
        const reg::PlanEntry* prev = nullptr;
        if (previous != nullptr && slot < previous->plans[w].size() && previous->plans[w][slot].endpoint != reg::kNoEntry &&
            previous->plans[w][slot].generation == sl.generation) {
          prev = &previous->plans[w][slot];
        }
        if (prev == nullptr || (sl.leaving_until != 0 && sl.leaving_until <= now_ms)) {
          release(st, slot);  // nothing left to unregister, or its time is up
          continue;
        }
        leaving.push_back({w, slot, *prev});
        if (sl.leaving_until == 0) ++leaving_per_index[prev->registrar % reg::kRegistrarSlots];
      }
    }
  }

  // ---- 3. realms: every realm the configuration names, each registrar's domain (the realm
  // most registrars challenge with, so that realm-less entries can answer it), realms learned
  // from challenges, and the realms of leaving endpoints' credentials ----
  for (const auto& [index, r] : cfg.sip_ua.registrars) {
    if (!r.auth_realm.empty()) s.realms.add(r.auth_realm);
    if (r.address.kind == config::AddressKind::dns) s.realms.add(r.address.host);
  }
  for (const auto& a : cfg.sip_ua.authentication) {
    if (!a.realm.empty()) s.realms.add(a.realm);
  }
  for (const auto& c : cfg.sip_ua.credentials) s.realms.add(c.realm);
  for (const auto& [tag, dp] : cfg.dial_peers) {
    for (const auto& a : dp.authentication) {
      if (!a.realm.empty()) s.realms.add(a.realm);
    }
  }
  for (const auto& realm : learned_realms) s.realms.add(realm);
  for (auto it = retired_.begin(); it != retired_.end();) {
    std::erase_if(it->second, [&](const RetiredCredential& r) { return r.until <= now_ms; });
    it = it->second.empty() ? retired_.erase(it) : std::next(it);
  }
  for (const Leaving& l : leaving) {
    const reg::SnapEndpoint& e = previous->endpoints[l.prev.endpoint];
    for (std::uint32_t i = 0; i < e.cred_count; ++i) {
      const reg::SnapCredential& c = previous->credentials[previous->endpoint_creds[e.cred_begin + i]];
      if (c.realm != reg::kNoRealm) s.realms.add(previous->realms.names[c.realm]);
    }
    if (const auto it = retired_.find(e.number); it != retired_.end()) {
      for (const RetiredCredential& r : it->second) s.realms.add(r.realm);
    }
  }
  const std::size_t realms_n = s.realms.names.size();

  // Registrar slots 0..5.
  for (const auto& [index, r] : cfg.sip_ua.registrars) {
    if (!usable(r)) continue;
    reg::SnapRegistrar& sr = s.registrars[index - 1];
    sr.present = true;
    sr.index = static_cast<std::uint8_t>(index);
    sr.domain = registrar_domain(r.address);
    sr.request_uri = "sip:" + sr.domain;
    if (r.address.port != 0) sr.request_uri += ":" + std::to_string(r.address.port);
    sr.expires = r.expires;
    sr.refresh_ratio = r.refresh_ratio;
    sr.auth_realm = r.auth_realm.empty() ? reg::kNoRealm : s.realms.find(r.auth_realm);
    sr.rate_per_worker = static_cast<double>(cfg.sip_ua.registration_rate) / std::max<std::uint32_t>(1, workers_);
    if (const auto& a = addrs[index - 1]) {
      std::memcpy(&sr.addr, &a->addr, a->addr_len);
      sr.addr_len = a->addr_len;
      sr.local_ip = a->local_ip;
    }
  }

  // ---- 4. credentials and endpoints ----
  auto add_cred = [&](const std::string& user, const std::string& realm, const std::string& password,
                      std::uint8_t tier) -> std::uint32_t {
    reg::SnapCredential c;
    c.username = user;
    c.tier = tier;
    if (realm.empty()) {
      c.realm = reg::kNoRealm;
      c.anyrealm_row = realms_n == 0 ? 0 : static_cast<std::uint32_t>(s.anyrealm_ha1.size() / realms_n);
      for (std::uint32_t id = 0; id < realms_n; ++id) {
        s.anyrealm_ha1.push_back(ha1(user, s.realms.names[id], password));
      }
    } else {
      c.realm = s.realms.find(realm);
      c.ha1 = ha1(user, realm, password);
    }
    s.credentials.push_back(std::move(c));
    return static_cast<std::uint32_t>(s.credentials.size() - 1);
  };

  s.ua_auth_by_realm.assign(realms_n, reg::kNoEntry);
  for (const auto& a : cfg.sip_ua.authentication) {
    if (a.realm.empty()) {
      s.ua_anyrealm.push_back(add_cred(a.username, a.realm, a.password, 4));
    } else {
      const std::uint32_t id = s.realms.find(a.realm);
      // The first entry configured for a realm answers it (F4.3).
      if (s.ua_auth_by_realm[id] == reg::kNoEntry) s.ua_auth_by_realm[id] = add_cred(a.username, a.realm, a.password, 3);
    }
  }

  // Dial peers' entries are shared by every endpoint of the dial peer: one SnapCredential each.
  std::map<std::uint32_t, std::vector<std::uint32_t>> dp_realm, dp_anyrealm;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    for (const auto& a : dp.authentication) {
      if (a.realm.empty()) dp_anyrealm[tag].push_back(add_cred(a.username, a.realm, a.password, 4));
      else dp_realm[tag].push_back(add_cred(a.username, a.realm, a.password, 1));
    }
  }
  std::unordered_map<std::string, std::vector<std::uint32_t>> by_number;
  by_number.reserve(cfg.sip_ua.credentials.size());
  for (const auto& c : cfg.sip_ua.credentials) by_number[c.number].push_back(add_cred(c.username, c.realm, c.password, 2));

  std::unordered_map<std::string, std::uint32_t> number_dial_peer;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    if (config::is_endpoint_number(dp.destination_pattern)) number_dial_peer.emplace(dp.destination_pattern, tag);
  }
  s.endpoints.reserve(numbers.size() + leaving.size());
  for (const std::string& number : numbers) {
    reg::SnapEndpoint e;
    e.number = number;
    e.cred_begin = static_cast<std::uint32_t>(s.endpoint_creds.size());
    const auto dp = number_dial_peer.find(number);
    if (dp != number_dial_peer.end()) {
      e.dial_peer = dp->second;
      for (std::uint32_t c : dp_realm[dp->second]) s.endpoint_creds.push_back(c);   // F4.1
    }
    if (const auto it = by_number.find(number); it != by_number.end()) {
      for (std::uint32_t c : it->second) s.endpoint_creds.push_back(c);           // F4.2
    }
    if (dp != number_dial_peer.end()) {
      for (std::uint32_t c : dp_anyrealm[dp->second]) s.endpoint_creds.push_back(c);  // F4.4
    }
    e.cred_count = static_cast<std::uint16_t>(s.endpoint_creds.size() - e.cred_begin);
    s.endpoints.push_back(std::move(e));
  }

  // Realm-specific credentials that endpoints still configured no longer have: remember them
  // for as long as a registration made with them can last (the longest expiry configured,
  // plus Timer F and a margin).
  if (previous != nullptr) {
    std::uint64_t keep_ms = 64ull * s.t1_ms + 10000;
    std::uint32_t longest = 0;
    for (const auto& [index, r] : cfg.sip_ua.registrars) longest = std::max(longest, r.expires);
    keep_ms += 1000ull * longest;
    std::unordered_map<std::string_view, std::uint32_t> now_index;
    now_index.reserve(s.endpoints.size());
    for (std::uint32_t i = 0; i < s.endpoints.size(); ++i) now_index.emplace(s.endpoints[i].number, i);
    for (const reg::SnapEndpoint& pe : previous->endpoints) {
      const auto it = now_index.find(pe.number);
      if (it == now_index.end()) continue;  // the endpoint left: its ghost takes its credentials
      const reg::SnapEndpoint& ne = s.endpoints[it->second];
      for (std::uint32_t k = 0; k < pe.cred_count; ++k) {
        const reg::SnapCredential& pc = previous->credentials[previous->endpoint_creds[pe.cred_begin + k]];
        if (pc.realm == reg::kNoRealm || pc.tier > 2) continue;  // the endpoint's own entries
        const std::string& realm = previous->realms.names[pc.realm];
        bool still = false;
        for (std::uint32_t j = 0; j < ne.cred_count && !still; ++j) {
          const reg::SnapCredential& nc = s.credentials[s.endpoint_creds[ne.cred_begin + j]];
          still = nc.realm != reg::kNoRealm && s.realms.names[nc.realm] == realm;
        }
        if (still) continue;
        auto& list = retired_[pe.number];
        std::erase_if(list, [&](const RetiredCredential& r) { return r.realm == realm; });
        list.push_back({realm, pc, now_ms + keep_ms});
      }
    }
  }

  // ---- 5. ghosts of leaving bindings ----
  std::vector<reg::PlanEntry> ghost_entries(leaving.size());
  std::unordered_map<std::uint32_t, std::uint32_t> ghost_endpoint;  // previous index → new index
  for (std::size_t i = 0; i < leaving.size(); ++i) {
    const Leaving& l = leaving[i];
    Slot& sl = slots_[l.worker].slots[l.slot];
    // The registrar: still configured with the same identity → its live slot; otherwise a copy
    // of the previous one in its leaving slot.
    const std::uint8_t pr = l.prev.registrar;
    const std::string prev_key = prev_reg_keys_[pr];
    int slot_r = -1;
    if (pr < reg::kRegistrarSlots && !prev_key.empty() && reg_keys[pr] == prev_key) {
      slot_r = pr;
    } else {
      const int g = reg::kRegistrarSlots + pr % reg::kRegistrarSlots;
      if (reg_keys[g].empty()) {
        s.registrars[g] = previous->registrars[pr];
        s.registrars[g].present = true;
        reg_keys[g] = prev_key;
      }
      if (reg_keys[g] == prev_key) slot_r = g;
    }
    if (slot_r < 0) {
      // Its leaving slot is taken by an earlier removal of the same index still under way:
      // this binding is dropped without an unregistration (it expires at the registrar).
      release(slots_[l.worker], l.slot);
      ghost_entries[i].endpoint = reg::kNoEntry;
      continue;
    }
    if (sl.leaving_until == 0) {
      // Time to unregister at the registrar's rate, plus a whole transaction (Timer F) and a
      // margin for challenges.
      const std::uint32_t rate = std::max<std::uint32_t>(1, cfg.sip_ua.registration_rate);
      sl.leaving_until = now_ms + 64ull * s.t1_ms + 10000 +
                         1000ull * leaving_per_index[pr % reg::kRegistrarSlots] / rate;
    }
    auto [it, fresh] = ghost_endpoint.emplace(l.prev.endpoint, 0);
    if (fresh) {
      const reg::SnapEndpoint& pe = previous->endpoints[l.prev.endpoint];
      reg::SnapEndpoint e;
      e.number = pe.number;
      e.dial_peer = pe.dial_peer;
      e.cred_begin = static_cast<std::uint32_t>(s.endpoint_creds.size());
      for (std::uint32_t k = 0; k < pe.cred_count; ++k) {
        const reg::SnapCredential& pc = previous->credentials[previous->endpoint_creds[pe.cred_begin + k]];
        if (pc.realm == reg::kNoRealm) continue;  // realm-less HA1s are per realm: not carried
        reg::SnapCredential c = pc;
        c.realm = s.realms.find(previous->realms.names[pc.realm]);
        s.credentials.push_back(std::move(c));
        s.endpoint_creds.push_back(static_cast<std::uint32_t>(s.credentials.size() - 1));
      }
      // Credentials removed earlier, one by one, while the endpoint stayed (R7): its bindings at
      // those realms' registrars may still be registered and must answer their challenges.
      if (const auto rt = retired_.find(pe.number); rt != retired_.end()) {
        for (const RetiredCredential& r : rt->second) {
          reg::SnapCredential c = r.credential;
          c.realm = s.realms.find(r.realm);
          s.credentials.push_back(std::move(c));
          s.endpoint_creds.push_back(static_cast<std::uint32_t>(s.credentials.size() - 1));
        }
      }
      e.cred_count = static_cast<std::uint16_t>(s.endpoint_creds.size() - e.cred_begin);
      it->second = static_cast<std::uint32_t>(s.endpoints.size());
      s.endpoints.push_back(std::move(e));
    }
    ghost_entries[i] = reg::PlanEntry{it->second, static_cast<std::uint8_t>(slot_r), sl.generation, true};
  }

  // ---- 6. plans ----
  s.plans.assign(workers_, {});
  for (std::uint32_t w = 0; w < workers_; ++w) s.plans[w].resize(slots_[w].slots.size());
  // Per worker and registrar, the number → slot map (looked up once per registrar, not per
  // binding).
  std::vector<std::array<std::unordered_map<std::string, std::uint32_t>*, reg::kRegistrarSlots>> maps(workers_);
  for (std::uint32_t w = 0; w < workers_; ++w) {
    for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
      maps[w][ri] = reg_keys[ri].empty() ? nullptr : &slots_[w].by_key[reg_keys[ri]];
    }
  }
  for (std::uint32_t ei = 0; ei < numbers.size(); ++ei) {
    const std::string& number = numbers[ei];
    const std::uint32_t w = owner_worker(number, workers_);
    SlotState& st = slots_[w];
    for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
      if (maps[w][ri] == nullptr) continue;
      std::uint32_t slot;
      if (auto it = maps[w][ri]->find(number); it != maps[w][ri]->end()) {
        slot = it->second;
      } else {
        slot = acquire(st, reg_keys[ri], number);
        if (s.plans[w].size() < st.slots.size()) s.plans[w].resize(st.slots.size());
      }
      s.plans[w][slot] = reg::PlanEntry{ei, static_cast<std::uint8_t>(ri), st.slots[slot].generation, false};
    }
  }
  for (std::size_t i = 0; i < leaving.size(); ++i) {
    if (ghost_entries[i].endpoint == reg::kNoEntry) continue;
    s.plans[leaving[i].worker][leaving[i].slot] = ghost_entries[i];
  }
  prev_reg_keys_ = reg_keys;
  std::erase_if(ha1_cache_, [&](const auto& e) { return e.second.used_in != version_; });
  next_expiry_ = scan_next_expiry();
  return snap;
}

std::uint32_t SnapshotBuilder::acquire(SlotState& st, const std::string& registrar, const std::string& number) {
  std::uint32_t slot;
  if (!st.free.empty()) {
    slot = st.free.back();
    st.free.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(st.slots.size());
    st.slots.emplace_back();
  }
  Slot& sl = st.slots[slot];
  sl.registrar = registrar;
  sl.number = number;
  sl.generation = next_generation_++;
  sl.leaving_until = 0;
  st.by_key[registrar].emplace(number, slot);
  return slot;
}

void SnapshotBuilder::release(SlotState& st, std::uint32_t slot) {
  Slot& sl = st.slots[slot];
  if (auto it = st.by_key.find(sl.registrar); it != st.by_key.end()) it->second.erase(sl.number);
  sl.registrar.clear();
  sl.number.clear();
  sl.leaving_until = 0;
  sl.generation = next_generation_++;  // whatever ran there is dropped by the worker
  st.free.push_back(slot);
}

const auth::Ha1Set& SnapshotBuilder::ha1(const std::string& user, const std::string& realm,
                                         const std::string& password) {
  std::string key;
  key.reserve(user.size() + realm.size() + password.size() + 2);
  key.append(user).push_back('\0');
  key.append(realm).push_back('\0');
  key.append(password);
  auto [it, fresh] = ha1_cache_.try_emplace(std::move(key));
  if (fresh) it->second.ha1 = auth::compute_ha1(user, realm, password);
  it->second.used_in = version_;
  return it->second.ha1;
}

}  // namespace regfront::control
