// Snapshot readers the workers call: realm lookup and the F4 credential choice. What fills a
// snapshot is the control plane's (control/snapshot/writer.cc).
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#include "regfront/reg/snapshot.h"

namespace regfront::reg {

std::uint64_t RealmTable::hash(std::string_view s) {
  // FNV-1a: realms are short, and the table is built by us (no adversarial keys stored).
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::uint32_t RealmTable::find(std::string_view realm) const {
  if (slots.empty()) return kNoRealm;
  const std::size_t mask = slots.size() - 1;
  for (std::size_t i = hash(realm) & mask;; i = (i + 1) & mask) {
    const std::uint32_t id = slots[i];
    if (id == kNoRealm) return kNoRealm;
    // Realm comparison is case-sensitive (RFC 2617 §1.2: "realm … case-sensitive").
    if (names[id] == realm) return id;
  }
}

Snapshot::Choice Snapshot::choose_credential(std::uint32_t ep, std::uint32_t realm_id) const {
  const SnapEndpoint& e = endpoints[ep];
  const std::uint32_t* begin = endpoint_creds.data() + e.cred_begin;
  const std::uint32_t* end = begin + e.cred_count;
  if (realm_id != kNoRealm) {
    // F4.1 then F4.2: the endpoint's own entries, stored in that order.
    for (const std::uint32_t* p = begin; p != end; ++p) {
      const SnapCredential& c = credentials[*p];
      if (c.realm == realm_id) return {&c, ha1_of(c)};
    }
    // F4.3: sip-ua authentication for the realm.
    if (realm_id < ua_auth_by_realm.size() && ua_auth_by_realm[realm_id] != kNoEntry) {
      const SnapCredential& c = credentials[ua_auth_by_realm[realm_id]];
      return {&c, ha1_of(c)};
    }
  }
  // F4.4: an entry with no realm serves any realm — its HA1 needs the realm, so only realms the
  // configuration names can be answered (the control plane precomputed those).
  if (realm_id == kNoRealm) return {};
  const std::size_t realms_n = realms.names.size();
  for (const std::uint32_t* p = begin; p != end; ++p) {
    const SnapCredential& c = credentials[*p];
    if (c.realm == kNoRealm) return {&c, auth::Ha1View::of(anyrealm_ha1[c.anyrealm_row * realms_n + realm_id])};
  }
  for (std::uint32_t idx : ua_anyrealm) {
    const SnapCredential& c = credentials[idx];
    return {&c, auth::Ha1View::of(anyrealm_ha1[c.anyrealm_row * realms_n + realm_id])};
  }
  return {};  // F4.5
}

bool Snapshot::has_anyrealm(std::uint32_t ep) const {
  if (!ua_anyrealm.empty()) return true;
  const SnapEndpoint& e = endpoints[ep];
  for (std::uint32_t i = 0; i < e.cred_count; ++i) {
    if (credentials[endpoint_creds[e.cred_begin + i]].realm == kNoRealm) return true;
  }
  return false;
}

std::uint32_t owner_of(std::string_view number, std::uint32_t workers) {
  if (workers <= 1) return 0;
  return static_cast<std::uint32_t>(RealmTable::hash(number) % workers);
}

std::uint32_t Snapshot::find_endpoint(std::string_view n) const {
  if (endpoint_index.empty()) return kNoEntry;
  const std::size_t mask = endpoint_index.size() - 1;
  for (std::size_t i = RealmTable::hash(n) & mask;; i = (i + 1) & mask) {
    const std::uint32_t e = endpoint_index[i];
    if (e == kNoEntry || number(endpoints[e]) == n) return e;
  }
}

}  // namespace regfront::reg
