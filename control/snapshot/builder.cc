// Configuration model → worker snapshot. Control plane only: allocation is fine here.
//
// build() is the list of its phases, in the order they depend on each other; each phase is one
// member function below, in that order, and says what it reads and what it produces. What the
// phases hand each other is in one Build, created and dropped by build().
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#include "regfront/snapshot/builder.h"

#include <openssl/rand.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <unordered_set>

#include "regfront/auth/digest.h"
#include "regfront/snapshot/writer.h"

namespace regfront::snapshot {
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

reg::ShaHa1 sha_part(const auth::Ha1Set& h) {
  reg::ShaHa1 x;
  std::memcpy(x.sha256, h.bytes + auth::Ha1Set::kOffset[1], sizeof x.sha256);
  std::memcpy(x.sha512_256, h.bytes + auth::Ha1Set::kOffset[2], sizeof x.sha512_256);
  return x;
}

bool usable(const config::Registrar& r) {
  // Only UDP to sip: URIs is carried today; a tcp/sips registrar is left out (the daemon says
  // so at start-up) rather than being sent UDP it will not answer.
  return r.index >= 1 && r.index <= reg::kRegistrarSlots && r.address.kind != config::AddressKind::dhcp &&
         !r.tcp && r.scheme != config::Scheme::sips;
}

// How long a transaction started now may still run: a whole non-INVITE transaction (Timer F,
// 64·T1) and a margin for challenges.
std::uint64_t transaction_margin_ms(std::uint32_t t1_ms) { return 64ull * t1_ms + 10000; }
// The engine's first retry after a failure comes at most this long after it (its default
// backoff_base_ms): a leaving slot is kept for one retry of a timed-out unregistration.
constexpr std::uint64_t kFirstBackoffMs = 4000;

// Appends to `s` a copy of `c`, a realm-specific credential kept from an earlier snapshot, as
// the next entry of the endpoint being added: its realm id and username are those of `s`, and
// its SHA HA1s (`sha`, when it had them) are copied too — there is no password to recompute
// them from.
void append_kept_credential(reg::Snapshot& s, reg::SnapCredential c, std::string_view realm,
                            std::string_view username, const reg::ShaHa1* sha) {
  c.realm = s.realms.find(realm);
  c.sha_row = reg::kNoEntry;
  if (sha != nullptr) {
    c.sha_row = static_cast<std::uint32_t>(s.sha_ha1.size());
    s.sha_ha1.push_back(*sha);
  }
  set_username(s, c, username);
  s.credentials.push_back(c);
  s.endpoint_creds.push_back(static_cast<std::uint32_t>(s.credentials.size() - 1));
}

}  // namespace

// How far from its own index an HA1 or credential is looked for in the previous snapshot
// before every one of them is indexed: one command adds or removes a few entries.
constexpr std::int64_t kShiftWindow = 4;
constexpr std::uint32_t kMissesBeforeIndex = 64;

// One build: its inputs, the snapshot being filled, and what the phases hand each other.
struct Builder::Build {
  const config::Config& cfg;
  const RegistrarAddresses& addrs;
  const std::vector<std::string>& learned_realms;
  const std::vector<std::string>& sha_realms;
  const reg::Snapshot* previous;  // what the workers run; nullptr: none, or built for other workers
  std::uint64_t now_ms;
  reg::Snapshot& s;  // being built
  const TargetAddresses& targets;  // the session targets' addresses

  // configured_bindings(): the identity key of each registrar slot (0..5 configured; add_ghosts()
  // records in 6..11 whose copy each leaving slot holds), the interned ids of 0..5 (kFree: none
  // configured there), and the configured endpoint numbers (views into cfg; their position is
  // their endpoint index, and s.endpoint_index already maps them: see endpoint_of()).
  std::array<std::string, reg::kSnapRegistrarSlots> reg_keys{};
  std::array<std::uint8_t, reg::kSnapRegistrarSlots> reg_ids{};
  std::vector<std::string_view> numbers{};
  // classify_slots(): each configured endpoint's interned number id (kNoEntry: new number).
  std::vector<std::uint32_t> nids{};
  // Slots 0..5 whose key is unchanged but whose address in use is another one than the last
  // build's (DNS failover, a new answer): their bindings start again there.
  std::array<bool, reg::kRegistrarSlots> moved{};

  // classify_slots(): the bindings that left the configuration but still have to unregister,
  // and how many of them started leaving in this build, per registrar index (their pacing).
  struct Leaving {
    std::uint32_t worker, slot;
    reg::PlanEntry prev;  // the entry in the previous snapshot
  };
  std::vector<Leaving> leaving{};
  std::array<std::size_t, reg::kRegistrarSlots> leaving_per_index{};

  // add_credentials(): the fingerprint of each HA1 of the snapshot (0: none), for the next
  // build (see ha1()).
  std::vector<std::uint64_t> cred_fp{}, anyrealm_fp{};

  // s.realms.find(realm) for a realm text of cfg (an interned SharedString mostly), remembered
  // by its address: 600k credentials name a dozen realms.
  std::array<std::pair<const char*, std::uint32_t>, 16> realm_cache{};
  std::uint32_t realm_id(std::string_view realm) {
    auto& e = realm_cache[(reinterpret_cast<std::uintptr_t>(realm.data()) >> 4) & 15];
    if (e.first != nullptr && e.first == realm.data() && e.second != reg::kNoRealm &&
        s.realms.names[e.second].size() == realm.size()) {
      return e.second;
    }
    e = {realm.data(), s.realms.find(realm)};
    return e.second;
  }

  // The endpoint index of configured number `n`, or kNoEntry. Valid from configured_bindings()
  // on (the table is s.endpoint_index, keyed by the numbers in `numbers` until s.endpoints has
  // them too).
  std::uint32_t endpoint_of(std::string_view n) const {
    const std::vector<std::uint32_t>& index = s.endpoint_index;
    const std::size_t mask = index.size() - 1;
    for (std::size_t i = reg::RealmTable::hash(n) & mask;; i = (i + 1) & mask) {
      const std::uint32_t e = index[i];
      if (e == reg::kNoEntry || numbers[e] == n) return e;
    }
  }
};

// What add_credentials() hands add_endpoints(): which credentials belong to whom.
struct Builder::EndpointCredentials {
  std::map<std::uint32_t, std::vector<std::uint32_t>> dp_realm;     // dial-peer tag → realm entries
  std::map<std::uint32_t, std::vector<std::uint32_t>> dp_anyrealm;  // dial-peer tag → realm-less ones
  // Endpoint ei's `credentials` entries, in configuration order: by_number[by_number_at[ei] ..
  // by_number_at[ei + 1]). Flat, not a map of vectors: one command at storm scale rebuilds
  // 100k+ of them.
  std::vector<std::uint32_t> by_number_at;
  std::vector<std::uint32_t> by_number;
};

// The configured index (as slot 0..5) of registrar slot `r` of `snap`, a ghost copy's too.
std::size_t index_slot(const reg::Snapshot& snap, std::uint8_t r) {
  const std::uint8_t index = snap.registrars[r].index;
  return index >= 1 && index <= reg::kRegistrarSlots ? index - 1u : r % reg::kRegistrarSlots;
}

std::uint32_t owner_worker(const std::string& number, std::uint32_t workers) { return reg::owner_of(number, workers); }

std::string session_target_key(const config::SessionTarget& t) {
  if (t.kind != config::SessionTargetKind::ipv4 && t.kind != config::SessionTargetKind::dns) return {};
  return t.host + ":" + std::to_string(t.port != 0 ? t.port : config::kDefaultSipPort);
}

Builder::Builder(std::uint32_t workers) : workers_(workers), slots_(workers) {
  if (RAND_bytes(reinterpret_cast<unsigned char*>(&fp_seed_), sizeof fp_seed_) != 1) fp_seed_ = 0x9e3779b97f4a7c15ull;
}

std::uint64_t Builder::next_expiry_ms() const {
  std::uint64_t next = 0;
  for (const auto& st : slots_) {
    for (const auto& [slot, until] : st.leaving_until) {
      if (next == 0 || until < next) next = until;
    }
  }
  return next;
}

std::unique_ptr<reg::Snapshot> Builder::build(const config::Config& cfg, const RegistrarAddresses& addrs,
                                              std::uint16_t listen_port,
                                              const std::vector<std::string>& learned_realms,
                                              const reg::Snapshot* previous, std::uint64_t now_ms,
                                              const std::vector<std::string>& sha_realms,
                                              const TargetAddresses& targets) {
  auto snap = std::make_unique<reg::Snapshot>();
  reg::Snapshot& s = *snap;
  s.version = ++version_;
  s.listen_port = listen_port;
  s.t1_ms = cfg.sip_ua.timers_register_ms;
  s.retry_register = cfg.sip_ua.retry_register;
  if (previous == nullptr || previous->plans.size() != workers_) previous = nullptr;
  Build b{.cfg = cfg,
          .addrs = addrs,
          .learned_realms = learned_realms,
          .sha_realms = sha_realms,
          .previous = previous,
          .now_ms = now_ms,
          .s = s,
          .targets = targets};

  // Which slots stay, which are new and which are leaving (left the configuration but still
  // have to unregister) is decided from the configuration alone, so that the realms can include
  // those of leaving endpoints' credentials; credentials need the final realm count (realm-less
  // entries get an HA1 per realm); ghost endpoints follow the configured ones, whose index is
  // their position in b.numbers; plans need both.
  configured_bindings(b);                                    // 1. registrars and endpoints
  classify_slots(b);                                         // 2. slots: kept, new, leaving
  expire_retired_credentials(now_ms);                        // 3. realms (those of credentials
  collect_realms(b);                                         //    still kept included), then
  fill_registrars(b);                                        //    registrar slots 0..5
  prepare_ha1_reuse(previous);                               // 4. credentials and endpoints
  const EndpointCredentials creds = add_credentials(b);
  add_endpoints(b, creds);
  retire_removed_credentials(b);
  const std::vector<reg::PlanEntry> ghosts = add_ghosts(b);  // 5. ghosts of leaving bindings
  place_plans(b, ghosts);                                    // 6. plans
  add_calls(b);                                              // 7. what the call relay reads
  map_previous_ids(b);                                       // 8. previous ids → these
  finish(b);
  return snap;
}

// 1. Reads the configuration; produces b.reg_keys (slots 0..5), b.reg_ids and b.numbers. The
// registrar keys are interned (and so pinned for this build: see Interned).
void Builder::configured_bindings(Build& b) {
  for (const auto& [index, r] : b.cfg.sip_ua.registrars) {
    if (usable(r)) b.reg_keys[index - 1] = registrar_key(r);
  }
  // The endpoint numbers without duplicates, indexed as they are listed: the table becomes the
  // snapshot's number → endpoint index (s.endpoint_index) once s.endpoints holds them.
  // Sized for the last build's endpoints (not for every candidate: with a credential per realm
  // that would be six times too big, and each build touches all of it), doubled as it fills.
  const std::size_t candidates = b.cfg.sip_ua.credentials.size() + b.cfg.dial_peers.size();
  const std::size_t expected = std::min(candidates, b.previous != nullptr ? b.previous->endpoints.size() : candidates);
  std::size_t size = 16;
  while (size < 2 * expected) size <<= 1;
  std::vector<std::uint32_t>& index = b.s.endpoint_index;
  index.assign(size, reg::kNoEntry);
  const auto slot_of = [&](std::string_view n) {
    std::size_t i = reg::RealmTable::hash(n) & (size - 1);
    while (index[i] != reg::kNoEntry && b.numbers[index[i]] != n) i = (i + 1) & (size - 1);
    return i;
  };
  b.numbers.reserve(expected);
  config::for_each_endpoint_number(b.cfg, [&](std::string_view n) {
    if (!b.numbers.empty() && b.numbers.back() == n) return;  // a number's entries mostly follow each other
    if (index[slot_of(n)] != reg::kNoEntry) return;
    b.numbers.push_back(n);
    if (2 * b.numbers.size() > size) {  // load over 1/2: twice the size, every number again
      size <<= 1;
      index.assign(size, reg::kNoEntry);
      for (std::uint32_t ei = 0; ei < b.numbers.size(); ++ei) index[slot_of(b.numbers[ei])] = ei;
    } else {
      index[slot_of(n)] = static_cast<std::uint32_t>(b.numbers.size() - 1);
    }
  });
  b.reg_ids.fill(kFree);
  for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
    if (!b.reg_keys[ri].empty()) b.reg_ids[ri] = registrar_id(b.reg_keys[ri]);
    const auto& a = b.addrs[ri];
    const auto& p = prev_addrs_[ri];
    b.moved[ri] = !b.reg_keys[ri].empty() && b.reg_keys[ri] == prev_reg_keys_[ri] && a && p &&
                  (a->addr_len != p->addr_len || std::memcmp(&a->addr, &p->addr, a->addr_len) != 0);
  }
}

// 2. Reads b.numbers, b.reg_ids, the slots (slots_) and b.previous; produces b.leaving and
// b.leaving_per_index. A slot whose binding is still configured keeps it (under a new
// generation if it was leaving: configured again, it is a new binding). A slot whose binding
// left is released when there is nothing to unregister (not in b.previous) or its time is up
// (b.now_ms), and is leaving otherwise. New bindings get their slots in place_plans().
void Builder::classify_slots(Build& b) {
  std::vector<bool> active_numbers(numbers_.size(), false);
  b.nids.resize(b.numbers.size());
  for (std::size_t ei = 0; ei < b.numbers.size(); ++ei) {
    b.nids[ei] = find_number(b.numbers[ei]);
    if (b.nids[ei] != reg::kNoEntry) active_numbers[b.nids[ei]] = true;
  }
  std::array<bool, 256> active_registrars{};
  for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
    if (b.reg_ids[ri] != kFree) active_registrars[b.reg_ids[ri]] = true;
  }
  std::array<bool, 256> moved_registrars{};
  for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
    if (b.reg_ids[ri] != kFree && b.moved[ri]) moved_registrars[b.reg_ids[ri]] = true;
  }
  auto active = [&](const Slot& sl) { return active_numbers[sl.number] && active_registrars[sl.registrar]; };
  const reg::Snapshot* previous = b.previous;
  for (std::uint32_t w = 0; w < workers_; ++w) {
    SlotState& st = slots_[w];
    for (std::uint32_t slot = 0; slot < st.slots.size(); ++slot) {
      Slot& sl = st.slots[slot];
      if (sl.registrar == kFree) continue;
      const auto lv = st.leaving_until.find(slot);
      const std::uint64_t leaving_until = lv == st.leaving_until.end() ? 0 : lv->second;
      if (active(sl)) {
        if (leaving_until != 0) {
          // Configured again while it was still unregistering: a new binding, not the old one.
          st.leaving_until.erase(lv);
          sl.generation = next_generation_++;
        } else if (moved_registrars[sl.registrar]) {
          // Its registrar is reached at another address now: the worker drops what ran there
          // (nothing is unregistered at the old one, which may be dead) and registers afresh
          // through the registrar's pacer.
          sl.generation = next_generation_++;
        }
        continue;
      }
      const reg::PlanEntry* prev = nullptr;
      if (previous != nullptr && slot < previous->plans[w].size() && previous->plans[w][slot].endpoint != reg::kNoEntry &&
          previous->plans[w][slot].generation == sl.generation) {
        prev = &previous->plans[w][slot];
      }
      if (prev == nullptr || (leaving_until != 0 && leaving_until <= b.now_ms)) {
        release(st, slot);  // nothing left to unregister, or its time is up
        continue;
      }
      b.leaving.push_back({w, slot, *prev});
      if (leaving_until == 0) ++b.leaving_per_index[index_slot(*previous, prev->registrar)];
    }
  }
}

// Before 3. Forgets the retired credentials (retired_) whose registrations cannot be alive
// any more at `now_ms`.
void Builder::expire_retired_credentials(std::uint64_t now_ms) {
  for (auto it = retired_.begin(); it != retired_.end();) {
    std::erase_if(it->second, [&](const RetiredCredential& r) { return r.until <= now_ms; });
    it = it->second.empty() ? retired_.erase(it) : std::next(it);
  }
}

// Calls fn(credential, realm, username, its SHA HA1s or nullptr) for each credential that the
// ghost of endpoint `e` of `previous` carries: its realm-specific entries (realm-less HA1s are
// per realm: not carried), then those removed from it earlier while it stayed (R7, retired_):
// its bindings at those realms' registrars may still be registered and must answer their
// challenges.
template <typename Fn>
void Builder::for_each_ghost_credential(const reg::Snapshot& previous, const reg::SnapEndpoint& e, Fn&& fn) const {
  for (std::uint32_t k = 0; k < e.cred_count; ++k) {
    const reg::SnapCredential& c = previous.credentials[previous.endpoint_creds[e.cred_begin + k]];
    if (c.realm == reg::kNoRealm) continue;
    fn(c, previous.realms.names[c.realm], previous.username(c),
       c.sha_row == reg::kNoEntry ? nullptr : &previous.sha_ha1[c.sha_row]);
  }
  if (const auto it = retired_.find(std::string(previous.number(e))); it != retired_.end()) {
    for (const RetiredCredential& r : it->second) fn(r.credential, r.realm, r.username, r.sha ? &*r.sha : nullptr);
  }
}

// 3. Reads the configuration, b.learned_realms, b.sha_realms, and the credentials that the
// ghosts of b.leaving will carry; produces s.realms and s.sha_realm. The realms are every
// realm the configuration names, each registrar's domain (the realm most registrars challenge
// with, so that realm-less entries can answer it), the realms learned from challenges, and the
// realms of leaving endpoints' credentials.
void Builder::collect_realms(Build& b) const {
  reg::Snapshot& s = b.s;
  for (const auto& [index, r] : b.cfg.sip_ua.registrars) {
    if (!r.auth_realm.empty()) add_realm(s.realms, r.auth_realm);
    if (r.address.kind == config::AddressKind::dns) add_realm(s.realms, r.address.host);
  }
  for (const auto& a : b.cfg.sip_ua.authentication) {
    if (!a.realm.empty()) add_realm(s.realms, a.realm);
  }
  for (const auto& c : b.cfg.sip_ua.credentials) add_realm(s.realms, c.realm);
  for (const auto& [tag, dp] : b.cfg.dial_peers) {
    for (const auto& a : dp.authentication) {
      if (!a.realm.empty()) add_realm(s.realms, a.realm);
    }
  }
  // Learned realms the configuration does not name are marked: the workers report their use
  // (the control plane evicts the least recently used ones).
  std::vector<std::uint32_t> learned_ids;
  for (const auto& realm : b.learned_realms) {
    if (s.realms.find(realm) == reg::kNoRealm) learned_ids.push_back(add_realm(s.realms, realm));
  }
  for (const Build::Leaving& l : b.leaving) {
    for_each_ghost_credential(*b.previous, b.previous->endpoints[l.prev.endpoint],
                              [&](const reg::SnapCredential&, std::string_view realm, std::string_view,
                                  const reg::ShaHa1*) { add_realm(s.realms, realm); });
  }
  // SHA realms: only their credentials get SHA HA1s. One the configuration does not name has
  // no realm-specific credential to give them to (realm-less ones have all three anyway).
  s.learned_realm.assign(s.realms.names.size(), false);
  for (const std::uint32_t id : learned_ids) s.learned_realm[id] = true;
  s.sha_realm.assign(s.realms.names.size(), false);
  for (const auto& realm : b.sha_realms) {
    if (const std::uint32_t id = s.realms.find(realm); id != reg::kNoRealm) s.sha_realm[id] = true;
  }
}

// 3, continued. Reads the configuration, b.addrs, b.reg_keys and s.realms (a registrar's
// pinned auth realm); produces s.registrars[0..5], each under a new generation when its
// identity key differs from the last build's (prev_reg_keys_, reg_generation_).
void Builder::fill_registrars(Build& b) {
  reg::Snapshot& s = b.s;
  for (const auto& [index, r] : b.cfg.sip_ua.registrars) {
    if (!usable(r)) continue;
    reg::SnapRegistrar& sr = s.registrars[index - 1];
    sr.present = true;
    sr.index = static_cast<std::uint8_t>(index);
    if (reg_generation_[index - 1] == 0 || b.reg_keys[index - 1] != prev_reg_keys_[index - 1] || b.moved[index - 1]) {
      reg_generation_[index - 1] = next_reg_generation_++;
    }
    sr.generation = reg_generation_[index - 1];
    sr.domain = registrar_domain(r.address);
    sr.request_uri = "sip:" + sr.domain;
    if (r.address.port != 0) sr.request_uri += ":" + std::to_string(r.address.port);
    sr.expires = r.expires;
    sr.refresh_ratio = r.refresh_ratio;
    sr.auth_realm = r.auth_realm.empty() ? reg::kNoRealm : s.realms.find(r.auth_realm);
    sr.rate_per_worker = static_cast<double>(b.cfg.sip_ua.registration_rate) / std::max<std::uint32_t>(1, workers_);
    if (auto ka = b.cfg.keepalive_profiles.find(r.keepalive_profile);
        r.keepalive_profile != 0 && ka != b.cfg.keepalive_profiles.end()) {
      sr.keepalive_up_ms = std::uint32_t{ka->second.up_interval_s} * 1000;
      sr.keepalive_down_ms = std::uint32_t{ka->second.down_interval_s} * 1000;
      sr.keepalive_retry = ka->second.retry;
      sr.keepalive_worker = static_cast<std::uint8_t>((index - 1) % std::max<std::uint32_t>(1, workers_));
      sr.keepalive_down = keepalive_down_[index - 1];
    }
    if (const auto& a = b.addrs[index - 1]) {
      std::memcpy(&sr.addr, &a->addr, a->addr_len);
      sr.addr_len = a->addr_len;
      sr.local_ip = a->local_ip;
    }
  }
}

// Before 4. Reads `previous` when it is the snapshot the kept fingerprints (cred_fp_,
// anyrealm_fp_) describe; produces reuse_from_, the snapshot whose HA1s ha1() may copy (the
// index by fingerprint, reuse_, is made by the first HA1 not found at its own index).
void Builder::prepare_ha1_reuse(const reg::Snapshot* previous) {
  reuse_.clear();
  reuse_sorted_ = false;
  reuse_shift_ = {0, 0};
  reuse_misses_ = 0;
  reuse_from_ = previous != nullptr && previous->version == fp_version_ ? previous : nullptr;
}

void Builder::sort_reuse() {
  const reg::Snapshot* previous = reuse_from_;
  reuse_.reserve(cred_fp_.size() + anyrealm_fp_.size());
  for (std::uint32_t i = 0; i < cred_fp_.size() && i < previous->credentials.size(); ++i) {
    if (cred_fp_[i] != 0) reuse_.push_back({cred_fp_[i], i});
  }
  for (std::uint32_t i = 0; i < anyrealm_fp_.size() && i < previous->anyrealm_ha1.size(); ++i) {
    if (anyrealm_fp_[i] != 0) reuse_.push_back({anyrealm_fp_[i], i | kAnyRealmBit});
  }
  std::sort(reuse_.begin(), reuse_.end(), [](const Reuse& a, const Reuse& b) { return a.fp < b.fp; });
  reuse_sorted_ = true;
}

// 4. Reads the configuration's sip-ua authentication, dial peers' authentication and sip-ua
// credentials, with s.realms and s.sha_realm; produces s.credentials (and their HA1s and
// usernames), s.ua_auth_by_realm, s.ua_anyrealm, b.cred_fp and b.anyrealm_fp, and returns
// which credentials belong to which dial peer and number.
Builder::EndpointCredentials Builder::add_credentials(Build& b) {
  const config::Config& cfg = b.cfg;
  reg::Snapshot& s = b.s;
  b.cred_fp.reserve(cfg.sip_ua.credentials.size());
  s.credentials.reserve(cfg.sip_ua.credentials.size() + cfg.sip_ua.authentication.size());

  s.ua_auth_by_realm.assign(s.realms.names.size(), reg::kNoEntry);
  for (const auto& a : cfg.sip_ua.authentication) {
    if (a.realm.empty()) {
      s.ua_anyrealm.push_back(add_credential(b, a.username, a.realm, a.password, 4));
    } else {
      const std::uint32_t id = s.realms.find(a.realm);
      // The first entry configured for a realm answers it (F4.3).
      if (s.ua_auth_by_realm[id] == reg::kNoEntry) {
        s.ua_auth_by_realm[id] = add_credential(b, a.username, a.realm, a.password, 3);
      }
    }
  }

  // Dial peers' entries are shared by every endpoint of the dial peer: one SnapCredential each.
  EndpointCredentials out;
  for (const auto& [tag, dp] : cfg.dial_peers) {
    for (const auto& a : dp.authentication) {
      if (a.realm.empty()) out.dp_anyrealm[tag].push_back(add_credential(b, a.username, a.realm, a.password, 4));
      else out.dp_realm[tag].push_back(add_credential(b, a.username, a.realm, a.password, 1));
    }
  }
  // Which endpoint each `credentials` entry belongs to, then its entries grouped by endpoint
  // (a counting sort, configuration order kept within each endpoint).
  const auto& list = cfg.sip_ua.credentials;
  std::vector<std::uint32_t> owner(list.size());
  out.by_number_at.assign(b.numbers.size() + 1, 0);
  std::uint32_t guess = 0;
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::string_view n = list[k].number.view();
    // Entries mostly come in the order the endpoints were numbered, a number's together.
    std::uint32_t ei;
    if (guess > 0 && b.numbers[guess - 1] == n) ei = guess - 1;
    else if (guess < b.numbers.size() && b.numbers[guess] == n) ei = guess;
    else ei = b.endpoint_of(n);
    owner[k] = ei;
    if (ei == reg::kNoEntry) continue;
    ++out.by_number_at[ei + 1];
    guess = ei + 1;
  }
  for (std::size_t ei = 0; ei < b.numbers.size(); ++ei) out.by_number_at[ei + 1] += out.by_number_at[ei];
  out.by_number.resize(out.by_number_at.back());
  std::vector<std::uint32_t> cursor(out.by_number_at.begin(), out.by_number_at.end() - 1);
  for (std::size_t k = 0; k < list.size(); ++k) {
    const std::uint32_t c = add_credential(b, list[k].username, list[k].realm, list[k].password, 2);
    if (owner[k] != reg::kNoEntry) out.by_number[cursor[owner[k]]++] = c;
  }
  return out;
}

// One configured credential into b.s with its HA1s (see ha1()) and their fingerprints into
// b.cred_fp / b.anyrealm_fp; returns its index. A realm-less one gets an HA1 for every realm of
// s.realms (all hashes); one with a realm its MD5 HA1, and the SHA ones when it is a SHA realm.
std::uint32_t Builder::add_credential(Build& b, std::string_view user, std::string_view realm,
                                      std::string_view password, std::uint8_t tier) {
  reg::Snapshot& s = b.s;
  const std::size_t realms_n = s.realms.names.size();
  reg::SnapCredential c;
  set_username(s, c, user);
  c.tier = tier;
  std::uint64_t fp = 0;
  if (realm.empty()) {
    c.realm = reg::kNoRealm;
    c.anyrealm_row = realms_n == 0 ? 0 : static_cast<std::uint32_t>(s.anyrealm_ha1.size() / realms_n);
    for (std::uint32_t id = 0; id < realms_n; ++id) {
      const auto at = static_cast<std::uint32_t>(s.anyrealm_ha1.size()) | kAnyRealmBit;
      s.anyrealm_ha1.push_back(ha1(user, s.realms.names[id], password, auth::kAllHashes, at, fp));
      b.anyrealm_fp.push_back(fp);
    }
    fp = 0;
  } else {
    c.realm = b.realm_id(realm);
    const bool sha = s.sha_realm[c.realm];
    const auto at = static_cast<std::uint32_t>(s.credentials.size());
    const auth::Ha1Set h = ha1(user, realm, password, sha ? auth::kAllHashes : auth::kMd5Hash, at, fp);
    std::memcpy(c.md5, h.bytes, sizeof c.md5);
    if (sha) {
      c.sha_row = static_cast<std::uint32_t>(s.sha_ha1.size());
      s.sha_ha1.push_back(sha_part(h));
    }
  }
  s.credentials.push_back(c);
  b.cred_fp.push_back(fp);
  return static_cast<std::uint32_t>(s.credentials.size() - 1);
}

// 4, continued. Reads b.numbers, the dial peers and `creds`; produces s.endpoints and
// s.endpoint_creds, each endpoint's entries in the F4 order: its dial peer's realm entries
// (F4.1), its `credentials` (F4.2), its dial peer's realm-less entries (F4.4).
void Builder::add_endpoints(Build& b, const EndpointCredentials& creds) const {
  reg::Snapshot& s = b.s;
  std::unordered_map<std::string_view, std::uint32_t> number_dial_peer;  // views into cfg
  for (const auto& [tag, dp] : b.cfg.dial_peers) {
    if (config::is_endpoint_dial_peer(dp)) number_dial_peer.emplace(dp.destination_pattern, tag);  // F2: POTS only
  }
  auto append = [&](const std::map<std::uint32_t, std::vector<std::uint32_t>>& by_tag, std::uint32_t tag) {
    if (const auto it = by_tag.find(tag); it != by_tag.end()) {
      for (std::uint32_t c : it->second) s.endpoint_creds.push_back(c);
    }
  };
  s.endpoints.reserve(b.numbers.size() + b.leaving.size());
  for (std::uint32_t ei = 0; ei < b.numbers.size(); ++ei) {
    const std::string_view number = b.numbers[ei];
    reg::SnapEndpoint e;
    set_number(s, e, number);
    e.cred_begin = static_cast<std::uint32_t>(s.endpoint_creds.size());
    const auto dp = number_dial_peer.empty() ? number_dial_peer.end() : number_dial_peer.find(number);
    if (dp != number_dial_peer.end()) {
      e.dial_peer = dp->second;
      append(creds.dp_realm, dp->second);  // F4.1
    }
    for (std::uint32_t k = creds.by_number_at[ei]; k < creds.by_number_at[ei + 1]; ++k) {
      s.endpoint_creds.push_back(creds.by_number[k]);  // F4.2
    }
    if (dp != number_dial_peer.end()) append(creds.dp_anyrealm, dp->second);  // F4.4
    e.cred_count = static_cast<std::uint16_t>(s.endpoint_creds.size() - e.cred_begin);
    s.endpoints.push_back(std::move(e));
  }
}

// 4, continued. Reads b.previous and the endpoints just added; produces retired_ entries: the
// realm-specific credentials that endpoints still configured no longer have, remembered for as
// long as a registration made with them can last (the longest expiry configured, plus Timer F
// and a margin).
void Builder::retire_removed_credentials(Build& b) {
  const reg::Snapshot* previous = b.previous;
  const reg::Snapshot& s = b.s;
  if (previous == nullptr) return;
  std::uint64_t keep_ms = transaction_margin_ms(s.t1_ms);
  std::uint32_t longest = 0;
  for (const auto& [index, r] : b.cfg.sip_ua.registrars) longest = std::max(longest, r.expires);
  keep_ms += 1000ull * longest;
  for (std::uint32_t pi = 0; pi < previous->endpoints.size(); ++pi) {
    const reg::SnapEndpoint& pe = previous->endpoints[pi];
    const std::string_view number = previous->number(pe);
    // Endpoints mostly keep their index from one build to the next.
    const std::uint32_t ni = pi < b.numbers.size() && b.numbers[pi] == number ? pi : b.endpoint_of(number);
    if (ni == reg::kNoEntry) continue;  // the endpoint left: its ghost takes its credentials
    const reg::SnapEndpoint& ne = s.endpoints[ni];
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
      auto& list = retired_[std::string(previous->number(pe))];
      std::erase_if(list, [&](const RetiredCredential& r) { return r.realm == realm; });
      std::optional<reg::ShaHa1> sha;
      if (pc.sha_row != reg::kNoEntry) sha = previous->sha_ha1[pc.sha_row];
      list.push_back({realm, std::string(previous->username(pc)), pc, sha, b.now_ms + keep_ms});
    }
  }
}

// 5. Reads b.leaving, b.previous, b.reg_keys and retired_; returns, per leaving binding, its
// plan entry (endpoint kNoEntry: dropped). Its endpoint is a ghost appended to s.endpoints: a
// copy of the previous one with the credentials it carries (for_each_ghost_credential()). Its
// registrar is the live slot when still configured with the same identity, otherwise a copy of
// the previous one in s.registrars[6 + index - 1] (b.reg_keys[6..11] say whose copy each holds).
// Dates each newly leaving slot's deadline (leaving_until).
std::vector<reg::PlanEntry> Builder::add_ghosts(Build& b) {
  reg::Snapshot& s = b.s;
  const reg::Snapshot* previous = b.previous;
  std::vector<reg::PlanEntry> ghost_entries(b.leaving.size());
  std::unordered_map<std::uint32_t, std::uint32_t> ghost_endpoint;  // previous index → new index
  for (std::size_t i = 0; i < b.leaving.size(); ++i) {
    const Build::Leaving& l = b.leaving[i];
    Slot& sl = slots_[l.worker].slots[l.slot];
    // The registrar: still configured with the same identity → its live slot; otherwise a copy
    // of the previous one in its leaving slot.
    const std::uint8_t pr = l.prev.registrar;
    const std::string prev_key = prev_reg_keys_[pr];
    int slot_r = -1;
    if (pr < reg::kRegistrarSlots && !prev_key.empty() && b.reg_keys[pr] == prev_key) {
      slot_r = pr;
    } else {
      // A copy of the previous registrar in a ghost slot (6..11): the one that holds its key
      // in this build already, else the one it had, else its index's, else any free one. So a
      // registrar re-addressed and then removed (or re-addressed again) while the first
      // leaving is under way leaves through a second ghost slot, unregistered where it was
      // registered.
      for (int g = reg::kRegistrarSlots; g < reg::kSnapRegistrarSlots && slot_r < 0; ++g) {
        if (b.reg_keys[g] == prev_key) slot_r = g;
      }
      const int candidates[] = {pr >= reg::kRegistrarSlots ? pr : -1,
                                reg::kRegistrarSlots + pr % reg::kRegistrarSlots, 6, 7, 8, 9, 10, 11};
      for (const int g : candidates) {
        if (slot_r >= 0) break;
        if (g < 0 || !b.reg_keys[g].empty()) continue;
        s.registrars[g] = previous->registrars[pr];
        s.registrars[g].present = true;
        s.registrars[g].keepalive_up_ms = 0;  // leaving: no keepalive, nothing held
        s.registrars[g].keepalive_down = false;
        b.reg_keys[g] = prev_key;
        slot_r = g;
      }
    }
    if (slot_r < 0) {
      // Every ghost slot is taken by other removals still under way (six registrars' worth):
      // this binding is dropped without an unregistration (it expires at the registrar).
      release(slots_[l.worker], l.slot);
      ghost_entries[i].endpoint = reg::kNoEntry;
      continue;
    }
    if (const auto [lv, fresh] = slots_[l.worker].leaving_until.try_emplace(l.slot, 0); fresh) {
      // Time to unregister at the registrar's rate, plus a whole transaction (Timer F) and a
      // margin for challenges, twice, and the first backoff between them: an unregistration
      // that timed out is sent once more before the slot is released.
      const std::uint32_t rate = std::max<std::uint32_t>(1, b.cfg.sip_ua.registration_rate);
      lv->second = b.now_ms + 2 * transaction_margin_ms(s.t1_ms) + kFirstBackoffMs +
                   1000ull * b.leaving_per_index[index_slot(*previous, pr)] / rate;
    }
    auto [it, fresh] = ghost_endpoint.emplace(l.prev.endpoint, 0);
    if (fresh) {
      const reg::SnapEndpoint& pe = previous->endpoints[l.prev.endpoint];
      reg::SnapEndpoint e;
      set_number(s, e, previous->number(pe));
      e.dial_peer = pe.dial_peer;
      e.cred_begin = static_cast<std::uint32_t>(s.endpoint_creds.size());
      for_each_ghost_credential(*previous, pe,
                                [&](const reg::SnapCredential& c, std::string_view realm, std::string_view username,
                                    const reg::ShaHa1* sha) { append_kept_credential(s, c, realm, username, sha); });
      e.cred_count = static_cast<std::uint16_t>(s.endpoint_creds.size() - e.cred_begin);
      it->second = static_cast<std::uint32_t>(s.endpoints.size());
      s.endpoints.push_back(std::move(e));
    }
    ghost_entries[i] = reg::PlanEntry{it->second, sl.generation, static_cast<std::uint8_t>(slot_r), true};
  }
  return ghost_entries;
}

// 6. Reads b.numbers, b.nids, b.reg_ids, b.leaving and `ghosts`; produces s.plans: every
// configured binding in its slot (a new one acquires a slot under a new generation), every
// leaving one that was not dropped in the slot it had, and each endpoint's chain of binding
// slots (SnapEndpoint::first_slot, PlanEntry::next_slot). s.endpoint_index was made with the
// numbers (configured_bindings()).
// The kept bindings are found by one pass over each worker's slots in slot order, not by a
// lookup per binding: a rebuild after one command at storm scale touches 600k of them.
void Builder::place_plans(Build& b, const std::vector<reg::PlanEntry>& ghosts) {
  reg::Snapshot& s = b.s;
  std::vector<std::uint32_t> endpoint_of_number(numbers_.size(), reg::kNoEntry);  // number id → endpoint
  for (std::uint32_t ei = 0; ei < b.numbers.size(); ++ei) {
    std::uint32_t& nid = b.nids[ei];
    // An id freed since classify_slots() looked it up (the number's last slot was released
    // there or in add_ghosts()): the number is interned again when it gets a slot below.
    if (nid != reg::kNoEntry && numbers_[nid].name != b.numbers[ei]) nid = reg::kNoEntry;
    if (nid != reg::kNoEntry) endpoint_of_number[nid] = ei;
  }
  std::array<std::uint8_t, 256> slot_of_registrar;  // interned registrar id → slot 0..5
  slot_of_registrar.fill(kFree);
  std::uint8_t wanted = 0;  // the registrar slots configured
  for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
    if (b.reg_ids[ri] == kFree) continue;
    slot_of_registrar[b.reg_ids[ri]] = static_cast<std::uint8_t>(ri);
    wanted |= static_cast<std::uint8_t>(1u << ri);
  }
  // Kept bindings: a slot whose number and registrar are both configured (classify_slots()
  // released or marked leaving all others, and cleared the leaving mark of those configured again).
  std::vector<std::uint8_t> placed(b.numbers.size(), 0);  // endpoint → registrar slots with a binding
  s.plans.assign(workers_, {});
  for (std::uint32_t w = 0; w < workers_; ++w) {
    const std::vector<Slot>& slots = slots_[w].slots;
    std::vector<reg::PlanEntry>& plan = s.plans[w];
    plan.resize(slots.size());
    for (std::uint32_t slot = 0; slot < slots.size(); ++slot) {
      const Slot& sl = slots[slot];
      if (sl.registrar == kFree) continue;
      const std::uint8_t ri = slot_of_registrar[sl.registrar];
      const std::uint32_t ei = sl.number < endpoint_of_number.size() ? endpoint_of_number[sl.number] : reg::kNoEntry;
      if (ri == kFree || ei == reg::kNoEntry) continue;
      plan[slot] = reg::PlanEntry{ei, sl.generation, ri, false};
      placed[ei] |= static_cast<std::uint8_t>(1u << ri);
    }
  }
  // New bindings: new endpoints, and endpoints at registrars new to them.
  for (std::uint32_t ei = 0; ei < b.numbers.size(); ++ei) {
    const std::uint8_t missing = wanted & static_cast<std::uint8_t>(~placed[ei]);
    if (missing == 0) continue;
    const std::string_view number = b.numbers[ei];
    const std::uint32_t w = reg::owner_of(number, workers_);
    SlotState& st = slots_[w];
    if (b.nids[ei] == reg::kNoEntry) b.nids[ei] = number_id(number);
    for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
      if ((missing & (1u << ri)) == 0) continue;
      const std::uint32_t slot = acquire(st, b.reg_ids[ri], b.nids[ei]);
      if (s.plans[w].size() < st.slots.size()) s.plans[w].resize(st.slots.size());
      s.plans[w][slot] = reg::PlanEntry{ei, st.slots[slot].generation, static_cast<std::uint8_t>(ri), false};
    }
  }
  // Each endpoint's chain of its configured bindings (the call relay's live-binding lookup).
  for (std::uint32_t w = 0; w < workers_; ++w) {
    std::vector<reg::PlanEntry>& plan = s.plans[w];
    for (std::uint32_t slot = 0; slot < plan.size(); ++slot) {
      if (plan[slot].endpoint == reg::kNoEntry) continue;
      plan[slot].next_slot = s.endpoints[plan[slot].endpoint].first_slot;
      s.endpoints[plan[slot].endpoint].first_slot = slot;
    }
  }
  for (std::size_t i = 0; i < b.leaving.size(); ++i) {
    if (ghosts[i].endpoint == reg::kNoEntry) continue;
    s.plans[b.leaving[i].worker][b.leaving[i].slot] = ghosts[i];
  }
}

// 7. Reads the voip dial peers, the trusted list, the localhost settings and b.targets; produces
// s.calls: the dial peers in tag order (the matchers report their index), their resolved
// session targets, the outbound (destination-pattern) and inbound (incoming called-number)
// matchers with a scratch per worker — the previous build's when the patterns are the same —
// the trusted networks and the From hosts of F6.
void Builder::add_calls(Build& b) {
  reg::SnapCalls& c = b.s.calls;
  std::vector<std::tuple<std::uint32_t, std::string, std::uint8_t, std::uint32_t>> out, in;
  const auto preferred = [](const auto& l) {  // std::optional (sip-ua) or OptionalBox (dial peer)
    return l && l->preferred ? l->dns_name : std::string();
  };
  c.ua_from_host = preferred(b.cfg.sip_ua.localhost);
  for (const auto& [tag, dp] : b.cfg.dial_peers) {
    if (!dp.is_voip() || !dp.voip) continue;
    const config::VoipSettings& v = *dp.voip;
    reg::SnapDialPeer s;
    s.tag = tag;
    s.preference = v.preference;
    s.huntstop = v.huntstop;
    s.from_host = preferred(dp.localhost);
    switch (v.session_target.kind) {
      case config::SessionTargetKind::registrar:
        s.target = reg::SnapDialPeer::Target::registrar;
        break;
      case config::SessionTargetKind::ipv4:
      case config::SessionTargetKind::dns: {
        s.target = reg::SnapDialPeer::Target::address;
        const std::string key = session_target_key(v.session_target);
        s.target_host = v.session_target.port != 0 ? key : v.session_target.host;
        if (const auto it = b.targets.find(key); it != b.targets.end()) {
          s.addr = it->second.addr;
          s.addr_len = it->second.addr_len;
          s.local_ip = it->second.local_ip;
        }
        break;
      }
      case config::SessionTargetKind::none:
        break;
    }
    const auto id = static_cast<std::uint32_t>(c.dial_peers.size());
    if (!dp.destination_pattern.empty()) out.emplace_back(id, dp.destination_pattern, v.preference, tag);
    if (!v.incoming_called_number.empty()) in.emplace_back(id, v.incoming_called_number, v.preference, tag);
    c.dial_peers.push_back(std::move(s));
  }
  const auto matchers = [&](Matchers& m, decltype(out)& patterns) {
    if (patterns != m.patterns || (m.matcher == nullptr && !patterns.empty())) {
      m = Matchers{};
      m.patterns = std::move(patterns);
      std::vector<call::DialPeerPattern> list;
      for (const auto& [id, text, pref, tag] : m.patterns) list.push_back({id, text, pref, tag});
      if (!list.empty()) {
        // The grammar checked every pattern; a refusal here would be a disagreement between
        // the grammar and the matcher, and leaves the direction without dial peers.
        if (auto built = call::DialPeerMatcher::build(list); built.ok()) {
          auto owned = std::make_shared<const call::DialPeerMatcher>(std::move(*built));
          for (std::uint32_t w = 0; w < workers_; ++w) {
            auto scratch = owned->make_scratch();
            if (!scratch.ok()) break;
            m.scratch.push_back(std::make_shared<call::MatchScratch>(std::move(*scratch)));
          }
          if (m.scratch.size() == workers_) m.matcher = std::move(owned);
        }
      }
    }
    return m.matcher != nullptr;
  };
  if (matchers(outbound_, out)) {
    c.outbound = outbound_.matcher;
    c.outbound_scratch = outbound_.scratch;
  }
  if (matchers(inbound_, in)) {
    c.inbound = inbound_.matcher;
    c.inbound_scratch = inbound_.scratch;
  }
  for (const config::Ipv4Prefix& p : b.cfg.voice.trusted.ipv4) c.trusted.push_back({p.address, p.length});
}

// Last. Keeps what the next build compares against: the registrar keys (prev_reg_keys_) and
// addresses (prev_addrs_) and the fingerprints of this snapshot's HA1s (b.cred_fp,
// b.anyrealm_fp); drops the reuse table.
// The vectors grew by doubling: gives the slack back (the snapshot lives until the next build).
// 8. Reads b.previous, s.credentials and s.realms; produces s.previous_version,
// s.credential_from_previous and s.realm_from_previous. A credential is the same one when its
// username, realm and tier are (its password may have changed: the row still names what was
// sent); a realm, when its name is.
void Builder::map_previous_ids(Build& b) const {
  reg::Snapshot& s = b.s;
  const reg::Snapshot* previous = b.previous;
  if (previous == nullptr) return;
  s.previous_version = previous->version;
  s.realm_from_previous.resize(previous->realms.names.size());
  for (std::uint32_t id = 0; id < previous->realms.names.size(); ++id) {
    s.realm_from_previous[id] = s.realms.find(previous->realms.names[id]);
  }
  // Most credentials keep their index from one build to the next: compare in place first, and
  // look the others up near their place, then among the credentials no other one took.
  const auto realm_of = [](const reg::Snapshot& snap, const reg::SnapCredential& c) -> std::string_view {
    return c.realm == reg::kNoRealm ? std::string_view() : std::string_view(snap.realms.names[c.realm]);
  };
  const auto same = [&](const reg::SnapCredential& was, const reg::SnapCredential& is) {
    return was.tier == is.tier && previous->username(was) == s.username(is) && realm_of(*previous, was) == realm_of(s, is);
  };
  const auto hash = [&](const reg::Snapshot& snap, const reg::SnapCredential& c) {
    const std::size_t h = std::hash<std::string_view>()(snap.username(c));
    return (h * 0x9e3779b97f4a7c15ull) ^ std::hash<std::string_view>()(realm_of(snap, c)) ^ c.tier;
  };
  s.credential_from_previous.assign(previous->credentials.size(), reg::kNoEntry);
  std::vector<std::uint32_t> pending;  // previous indices not found near their place
  std::int64_t shift = 0;  // where the last one that moved went: those after it moved alike
  for (std::uint32_t i = 0; i < previous->credentials.size(); ++i) {
    const reg::SnapCredential& was = previous->credentials[i];
    if (i < s.credentials.size() && same(was, s.credentials[i])) {
      s.credential_from_previous[i] = i;
      continue;
    }
    // Where the last one that moved went, then near its own index (a few entries added or
    // removed ahead of it).
    const auto moved_by = [&](std::int64_t d) {
      const std::int64_t j = std::int64_t{i} + d;
      if (j < 0 || j >= static_cast<std::int64_t>(s.credentials.size()) ||
          !same(was, s.credentials[static_cast<std::size_t>(j)])) {
        return false;
      }
      s.credential_from_previous[i] = static_cast<std::uint32_t>(j);
      shift = d;
      return true;
    };
    if (shift != 0 && moved_by(shift)) continue;
    bool near = false;
    for (std::int64_t d = 1; d <= kShiftWindow && !near; ++d) near = moved_by(d) || moved_by(-d);
    if (near) continue;
    pending.push_back(i);
  }
  if (pending.empty()) return;
  // The others (removed, or moved far): looked up among this build's credentials that none took
  // yet, by hash; after one command, a few.
  std::vector<bool> taken(s.credentials.size(), false);
  for (const std::uint32_t j : s.credential_from_previous) {
    if (j != reg::kNoEntry) taken[j] = true;
  }
  std::vector<std::pair<std::size_t, std::uint32_t>> by_hash;  // (hash, index in s), sorted
  for (std::uint32_t j = 0; j < s.credentials.size(); ++j) {
    if (!taken[j]) by_hash.emplace_back(hash(s, s.credentials[j]), j);
  }
  std::sort(by_hash.begin(), by_hash.end());
  for (const std::uint32_t i : pending) {
    const reg::SnapCredential& was = previous->credentials[i];
    const std::size_t h = hash(*previous, was);
    for (auto it = std::lower_bound(by_hash.begin(), by_hash.end(), std::make_pair(h, std::uint32_t{0}));
         it != by_hash.end() && it->first == h; ++it) {
      if (same(was, s.credentials[it->second])) {
        s.credential_from_previous[i] = it->second;
        break;
      }
    }
  }
}

void Builder::finish(Build& b) {
  reg::Snapshot& s = b.s;
  prev_reg_keys_ = b.reg_keys;
  for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
    if (b.reg_keys[ri].empty()) prev_addrs_[ri].reset();
    else if (b.addrs[ri]) prev_addrs_[ri] = b.addrs[ri];  // the last address known (see moved)
  }
  b.cred_fp.resize(s.credentials.size(), 0);
  cred_fp_ = std::move(b.cred_fp);
  anyrealm_fp_ = std::move(b.anyrealm_fp);
  fp_version_ = s.version;
  std::vector<Reuse>().swap(reuse_);  // `= {}` would keep the capacity
  reuse_from_ = nullptr;
  for (auto& p : s.plans) p.shrink_to_fit();
  for (SlotState& st : slots_) {
    if (st.slots.capacity() > st.slots.size() + st.slots.size() / 8) st.slots.shrink_to_fit();
  }
  s.credentials.shrink_to_fit();
  s.sha_ha1.shrink_to_fit();
  s.endpoint_creds.shrink_to_fit();
  s.strings.shrink_to_fit();
}

std::uint8_t Builder::registrar_id(const std::string& key) {
  std::size_t unused = reg_keys_.size();
  for (std::size_t i = 0; i < reg_keys_.size(); ++i) {
    if (reg_keys_[i].name == key) {
      reg_keys_[i].pinned_in = version_;
      return static_cast<std::uint8_t>(i);
    }
    if (reg_keys_[i].uses == 0 && reg_keys_[i].pinned_in != version_ && unused == reg_keys_.size()) unused = i;
  }
  if (unused == reg_keys_.size()) {
    // At most 6 configured and 6 leaving keys are in use at a time, so this stays tiny.
    if (reg_keys_.size() >= kFree) std::abort();
    reg_keys_.emplace_back();
  }
  reg_keys_[unused].name = key;
  reg_keys_[unused].pinned_in = version_;
  return static_cast<std::uint8_t>(unused);
}

std::uint32_t Builder::find_number(std::string_view number) const {
  if (number_index_.empty()) return reg::kNoEntry;
  const std::size_t mask = number_index_.size() - 1;
  for (std::size_t i = reg::RealmTable::hash(number) & mask;; i = (i + 1) & mask) {
    const std::uint32_t id = number_index_[i];
    if (id == reg::kNoEntry) return reg::kNoEntry;
    if (numbers_[id].name == number) return id;
  }
}

void Builder::number_index_insert(std::uint32_t id) {
  // Load factor at most 3/4 (linear probing), doubling.
  if (4 * (numbers_indexed_ + 1) > 3 * number_index_.size()) {
    std::vector<std::uint32_t> old = std::move(number_index_);
    number_index_.assign(std::max<std::size_t>(64, 2 * old.size()), reg::kNoEntry);
    numbers_indexed_ = 0;
    for (std::uint32_t o : old) {
      if (o != reg::kNoEntry) number_index_insert(o);
    }
  }
  const std::size_t mask = number_index_.size() - 1;
  std::size_t i = reg::RealmTable::hash(numbers_[id].name) & mask;
  while (number_index_[i] != reg::kNoEntry) i = (i + 1) & mask;
  number_index_[i] = id;
  ++numbers_indexed_;
}

std::uint32_t Builder::number_id(std::string_view number) {
  if (const std::uint32_t id = find_number(number); id != reg::kNoEntry) return id;
  std::uint32_t id;
  if (!free_numbers_.empty()) {
    id = free_numbers_.back();
    free_numbers_.pop_back();
  } else {
    id = static_cast<std::uint32_t>(numbers_.size());
    numbers_.emplace_back();
  }
  numbers_[id].name = number;
  numbers_[id].uses = 0;
  number_index_insert(id);
  return id;
}

namespace {
std::size_t slot_hash(std::uint8_t registrar, std::uint32_t number) {
  std::uint64_t x = (std::uint64_t{registrar} << 32 | number) * 0x9e3779b97f4a7c15ull;
  return static_cast<std::size_t>(x ^ (x >> 29));
}
}  // namespace

void Builder::index_insert(SlotState& st, std::uint32_t slot) {
  // Load factor at most 3/4 (linear probing), doubling.
  if (4 * (st.indexed + 1) > 3 * st.index.size()) {
    std::vector<std::uint32_t> old = std::move(st.index);
    st.index.assign(std::max<std::size_t>(64, 2 * old.size()), reg::kNoEntry);
    st.indexed = 0;
    for (std::uint32_t s : old) {
      if (s != reg::kNoEntry) index_insert(st, s);
    }
  }
  const Slot& sl = st.slots[slot];
  const std::size_t mask = st.index.size() - 1;
  std::size_t i = slot_hash(sl.registrar, sl.number) & mask;
  while (st.index[i] != reg::kNoEntry) i = (i + 1) & mask;
  st.index[i] = slot;
  ++st.indexed;
}

std::uint32_t Builder::acquire(SlotState& st, std::uint8_t registrar, std::uint32_t number) {
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
  st.leaving_until.erase(slot);
  ++reg_keys_[registrar].uses;
  ++numbers_[number].uses;
  index_insert(st, slot);
  return slot;
}

void Builder::release(SlotState& st, std::uint32_t slot) {
  Slot& sl = st.slots[slot];
  if (sl.registrar != kFree) {
    // Remove it from the index: backward-shift deletion keeps every probe sequence unbroken.
    const std::size_t mask = st.index.size() - 1;
    std::size_t i = slot_hash(sl.registrar, sl.number) & mask;
    while (st.index[i] != slot) i = (i + 1) & mask;
    for (std::size_t j = (i + 1) & mask; st.index[j] != reg::kNoEntry; j = (j + 1) & mask) {
      const Slot& o = st.slots[st.index[j]];
      const std::size_t home = slot_hash(o.registrar, o.number) & mask;
      // Move j into the hole at i unless its home lies cyclically in (i, j].
      if (((j - home) & mask) >= ((j - i) & mask)) {
        st.index[i] = st.index[j];
        i = j;
      }
    }
    st.index[i] = reg::kNoEntry;
    --st.indexed;
    --reg_keys_[sl.registrar].uses;
    if (--numbers_[sl.number].uses == 0) {
      // Out of the number index too (backward-shift deletion, as above).
      const std::size_t nmask = number_index_.size() - 1;
      std::size_t k = reg::RealmTable::hash(numbers_[sl.number].name) & nmask;
      while (number_index_[k] != sl.number) k = (k + 1) & nmask;
      for (std::size_t j = (k + 1) & nmask; number_index_[j] != reg::kNoEntry; j = (j + 1) & nmask) {
        const std::size_t home = reg::RealmTable::hash(numbers_[number_index_[j]].name) & nmask;
        if (((j - home) & nmask) >= ((j - k) & nmask)) {
          number_index_[k] = number_index_[j];
          k = j;
        }
      }
      number_index_[k] = reg::kNoEntry;
      --numbers_indexed_;
      numbers_[sl.number].name = config::CompactString();
      free_numbers_.push_back(sl.number);
    }
  }
  sl.registrar = kFree;
  sl.number = 0;
  st.leaving_until.erase(slot);
  sl.generation = next_generation_++;  // whatever ran there is dropped by the worker
  st.free.push_back(slot);
}

std::uint64_t Builder::fingerprint(std::string_view user, std::string_view realm, std::string_view password) {
  fp_buf_.assign(reinterpret_cast<const char*>(&fp_seed_), sizeof fp_seed_);
  fp_buf_.append(user).push_back('\0');
  fp_buf_.append(realm).push_back('\0');
  fp_buf_.append(password);
  const std::uint64_t fp = std::hash<std::string_view>{}(fp_buf_);
  return fp == 0 ? 1 : fp;
}

auth::Ha1Set Builder::ha1(std::string_view user, std::string_view realm, std::string_view password,
                          std::uint8_t hashes, std::uint32_t at, std::uint64_t& fp) {
  fp = fingerprint(user, realm, password);
  if (reuse_from_ == nullptr) return auth::compute_ha1(user, realm, password, hashes);
  // Its own index first: after one command nearly every HA1 is where it was, or where the one
  // before it moved to (an entry added or removed ahead of it shifts all that follow alike).
  const std::uint32_t any = at & kAnyRealmBit;
  const std::uint32_t k = at & ~kAnyRealmBit;
  const std::vector<std::uint64_t>& fps = any != 0 ? anyrealm_fp_ : cred_fp_;
  std::int64_t& shift = reuse_shift_[any != 0 ? 1 : 0];
  const auto try_at = [&](std::int64_t d) -> std::optional<auth::Ha1Set> {
    const std::int64_t i = std::int64_t{k} + d;
    if (i < 0 || static_cast<std::uint64_t>(i) >= fps.size() || fps[static_cast<std::size_t>(i)] != fp) return std::nullopt;
    auto set = reuse_ha1(static_cast<std::uint32_t>(i) | any, user, realm, password, hashes);
    if (set) shift = d;
    return set;
  };
  if (auto set = try_at(0)) return *set;
  if (shift != 0) {
    if (auto set = try_at(shift)) return *set;
  }
  // A few entries added or removed just ahead of it: near its own index (before the index of
  // every fingerprint, which costs a sort of all of them).
  for (std::int64_t d = 1; d <= kShiftWindow; ++d) {
    if (auto set = try_at(d)) return *set;
    if (auto set = try_at(-d)) return *set;
  }
  if (any == 0 && k < fps.size() && fps[k] != 0 && reuse_ha1(at, user, realm, password, auth::kMd5Hash)) {
    return auth::compute_ha1(user, realm, password, hashes);  // the same credential, another password
  }
  // A few new credentials are computed (about a microsecond each); only when many are not found
  // near their place is every fingerprint indexed (a sort of them all: tens of ms at 600k).
  if (!reuse_sorted_ && ++reuse_misses_ < kMissesBeforeIndex) return auth::compute_ha1(user, realm, password, hashes);
  if (!reuse_sorted_) sort_reuse();
  auto it = std::lower_bound(reuse_.begin(), reuse_.end(), fp, [](const Reuse& r, std::uint64_t v) { return r.fp < v; });
  for (; it != reuse_.end() && it->fp == fp; ++it) {
    if (auto set = reuse_ha1(it->index, user, realm, password, hashes)) {
      if ((it->index & kAnyRealmBit) == any) shift = std::int64_t{it->index & ~kAnyRealmBit} - std::int64_t{k};
      return *set;
    }
  }
  return auth::compute_ha1(user, realm, password, hashes);
}

std::optional<auth::Ha1Set> Builder::reuse_ha1(std::uint32_t index, std::string_view user, std::string_view realm,
                                               std::string_view password, std::uint8_t hashes) const {
  const reg::Snapshot& from = *reuse_from_;
  if ((index & kAnyRealmBit) != 0) {
    // anyrealm_ha1[row * realms + realm id]: the realm is checked in full, the username and
    // password are in the fingerprint only.
    const std::uint32_t k = index & ~kAnyRealmBit;
    const std::size_t realms_n = from.realms.names.size();
    if (realms_n != 0 && k < from.anyrealm_ha1.size() && from.realms.names[k % realms_n] == realm) {
      return from.anyrealm_ha1[k];
    }
    return std::nullopt;
  }
  if (index >= from.credentials.size()) return std::nullopt;
  const reg::SnapCredential& c = from.credentials[index];
  // The password is only in the fingerprint; the username and realm are checked in full.
  if (c.realm >= from.realms.names.size() || from.realms.names[c.realm] != realm || from.username(c) != user) {
    return std::nullopt;
  }
  auth::Ha1Set set;
  if ((hashes & auth::kShaHashes) != 0) {
    if (c.sha_row != reg::kNoEntry) {
      const reg::ShaHa1& x = from.sha_ha1[c.sha_row];
      std::memcpy(set.bytes + auth::Ha1Set::kOffset[1], x.sha256, sizeof x.sha256);
      std::memcpy(set.bytes + auth::Ha1Set::kOffset[2], x.sha512_256, sizeof x.sha512_256);
    } else {
      set = auth::compute_ha1(user, realm, password, auth::kShaHashes);  // realm new to SHA
    }
  }
  std::memcpy(set.bytes, c.md5, sizeof c.md5);
  return set;
}

}  // namespace regfront::snapshot
