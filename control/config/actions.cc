// control/config/actions.cc — configuration operations (see actions.h). Check, then modify.
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#include "actions.h"

#include <algorithm>
#include <set>

namespace regfront::config::actions {

namespace {

constexpr const char* kMixedForms =
    "Multiple registrars (indexed form) and primary/secondary form cannot be configured "
    "together";
constexpr const char* kDhcpLegacyOnly =
    "DHCP is not supported with multiple registrars (indexed form); use the primary/secondary "
    "form";
constexpr const char* kTooManyRealms = "A maximum of 12 different realms can be configured";

// The refusals shared by several actions.
Result mixed_forms() { return rejected(Status::failed_precondition(kMixedForms)); }  // R1
Result dhcp_legacy_only() { return rejected(Status::failed_precondition(kDhcpLegacyOnly)); }  // R2
Result too_many_realms() { return rejected(Status::resource_exhausted(kTooManyRealms)); }  // R5
Result dial_peer_type_conflict(const DialPeer& existing) {
  // IOS refuses a tag of the other type too; this wording is regfront's.
  return rejected(Status::failed_precondition(
      "Dial-peer " + std::to_string(existing.tag) + " already exists as a " +
      (existing.is_voip() ? "VoIP" : "POTS") + " dial peer; remove it first (no dial-peer voice " +
      std::to_string(existing.tag) + ")"));
}
Result index_out_of_range() {
  return rejected(Status::out_of_range("Registrar index out of range"));
}

bool has_indexed(const SipUa& ua) {
  return std::any_of(ua.registrars.begin(), ua.registrars.end(),
                     [](const auto& kv) { return !kv.second.legacy; });
}
bool has_legacy(const SipUa& ua) {
  return std::any_of(ua.registrars.begin(), ua.registrars.end(),
                     [](const auto& kv) { return kv.second.legacy; });
}
bool has_dhcp_registrar(const SipUa& ua) {
  return std::any_of(ua.registrars.begin(), ua.registrars.end(), [](const auto& kv) {
    return kv.second.address.kind == AddressKind::dhcp;
  });
}

// Hash key of a pair of strings; '\0' cannot occur in a token.
std::string pair_key(std::string_view a, std::string_view b) {
  std::string k;
  k.reserve(a.size() + b.size() + 1);
  k.append(a);
  k.push_back('\0');
  k.append(b);
  return k;
}

}  // namespace

Index::AuthTable& Index::auth(const std::vector<Authentication>& list) {
  AuthTable& t = auth_[&list];
  if (t.size != list.size() || t.keys.size() != list.size()) {
    t = AuthTable{};
    t.keys.reserve(list.size());
    for (const Authentication& a : list) {
      t.keys.insert(pair_key(a.username, a.realm));
      if (!a.realm.empty()) ++t.realms[a.realm];
    }
    t.size = list.size();
  }
  return t;
}

Index::CredTable& Index::creds(const SipUa& ua) {
  const auto& list = ua.credentials;
  CredTable& t = creds_[&ua];
  if (t.size != list.size() || t.keys.size() != list.size()) {
    t = CredTable{};
    t.keys.reserve(list.size());
    t.per_number.reserve(list.size());
    for (const Credential& c : list) {
      t.keys.insert(pair_key(c.number, c.realm));
      ++t.per_number[std::string(c.number.view())];
    }
    t.size = list.size();
  }
  return t;
}

void Index::auth_removed(const std::vector<Authentication>& list, std::string_view username, std::string_view realm) {
  const auto it = auth_.find(&list);
  if (it == auth_.end()) return;
  AuthTable& t = it->second;
  if (t.keys.erase(pair_key(username, realm)) == 0) return;
  if (const auto r = t.realms.find(realm); r != t.realms.end() && --r->second == 0) t.realms.erase(r);
  t.size = list.size();
}

void Index::credential_removed(const SipUa& ua, std::string_view number, std::string_view realm) {
  const auto it = creds_.find(&ua);
  if (it == creds_.end()) return;
  CredTable& t = it->second;
  if (t.keys.erase(pair_key(number, realm)) == 0) return;
  if (const auto n = t.per_number.find(number); n != t.per_number.end() && --n->second == 0) t.per_number.erase(n);
  t.size = ua.credentials.size();
}

const std::vector<const DialPeer*>& Index::dial_peers_of(const Config& cfg, std::string_view number) {
  if (!dp_built_) {
    dp_by_number_.clear();
    for (const auto& [tag, dp] : cfg.dial_peers) {
      if (is_endpoint_dial_peer(dp)) dp_by_number_[dp.destination_pattern].push_back(&dp);
    }
    dp_built_ = true;
  }
  static const std::vector<const DialPeer*> kNone;
  const auto it = dp_by_number_.find(number);
  return it == dp_by_number_.end() ? kNone : it->second;
}

void Index::dial_peer_moved(const DialPeer& dp, std::string_view old_pattern) {
  if (!dp_built_) return;
  if (const auto it = dp_by_number_.find(old_pattern); it != dp_by_number_.end()) {
    std::erase(it->second, &dp);
    if (it->second.empty()) dp_by_number_.erase(it);
  }
  if (is_endpoint_dial_peer(dp)) dp_by_number_[dp.destination_pattern].push_back(&dp);
}

std::size_t endpoint_realms(const Config& cfg, std::string_view number, const std::vector<std::string_view>& more,
                            Index& index) {
  // The credentials' realms of the number are counted, not listed ((number, realm) is a key:
  // entries = realms); the other sources (at most a few dozen realms) are listed and each
  // counted unless the number has a credential for it.
  std::vector<std::string_view> others;
  const auto add = [&](std::string_view r) {
    if (!r.empty() && std::find(others.begin(), others.end(), r) == others.end()) others.push_back(r);
  };
  for (const auto& [r, entries] : index.auth(cfg.sip_ua.authentication).realms) add(r);
  for (const DialPeer* dp : index.dial_peers_of(cfg, number)) {
    for (const auto& e : dp->authentication) add(e.realm);
  }
  for (std::string_view r : more) add(r);
  Index::CredTable& t = index.creds(cfg.sip_ua);
  const auto own = t.per_number.find(number);
  std::size_t n = own == t.per_number.end() ? 0 : own->second;
  if (n + others.size() <= static_cast<std::size_t>(kMaxRealmsPerEndpoint)) return n + others.size();  // a bound is enough
  std::string key;
  for (std::string_view r : others) {
    key.assign(number).push_back('\0');
    key.append(r);
    if (!t.keys.contains(key)) ++n;
  }
  return n;
}

Result check_endpoint_realms(const Config& cfg, std::string_view number, const std::vector<std::string_view>& more,
                             Index* index) {
  Index local;
  Index& ix = index ? *index : local;
  const auto limit = static_cast<std::size_t>(kMaxRealmsPerEndpoint);
  if (!number.empty()) return endpoint_realms(cfg, number, more, ix) > limit ? too_many_realms() : ok();
  // Every endpoint: only a realm that is not a sip-ua realm already adds anything.
  const auto& sip_ua_realms = ix.auth(cfg.sip_ua.authentication).realms;
  if (std::all_of(more.begin(), more.end(),
                  [&](std::string_view r) { return r.empty() || sip_ua_realms.contains(r); })) {
    return ok();
  }
  bool over = false;
  for_each_endpoint_number(cfg, [&](std::string_view n) {
    over = over || endpoint_realms(cfg, n, more, ix) > limit;  // R5
  });
  return over ? too_many_realms() : ok();
}

Result ok() { return Result{}; }

Result changed() {
  Result r;
  r.changed = true;
  return r;
}

Result changed_if(bool really) {
  Result r;
  r.changed = really;
  return r;
}

Result rejected(Status why) { return Result::rejected(std::move(why)); }

Result set_hostname(Config& cfg, std::string_view name) {
  if (cfg.hostname == name) return ok();
  cfg.hostname = std::string(name);
  return changed();
}

Result set_password_encryption(Config& cfg, bool on) {
  if (cfg.service_password_encryption == on) return ok();
  cfg.service_password_encryption = on;
  // As IOS: turning the service on encrypts every password there is; turning it off leaves
  // them encrypted (only passwords entered from then on are kept in clear).
  if (on) {
    for (Authentication& a : cfg.sip_ua.authentication) a.password_encrypted = true;
    for (Credential& c : cfg.sip_ua.credentials) c.password_encrypted = true;
    if (cfg.sip_ua.credentials_dhcp) cfg.sip_ua.credentials_dhcp->password_encrypted = true;
    for (auto& [tag, dp] : cfg.dial_peers) {
      for (Authentication& a : dp.authentication) a.password_encrypted = true;
    }
  }
  return changed();
}

Result sip_ua_enter(Config& cfg) {
  if (cfg.sip_ua.present) return ok();
  cfg.sip_ua.present = true;  // rendered from now on, even when empty
  return changed();
}

Result sip_ua_reset(Config& cfg, Index* index) {
  if (cfg.sip_ua == SipUa{}) return ok();
  cfg.sip_ua = SipUa{};
  if (index) index->clear();
  return changed();
}

Result dial_peer_enter(Config& cfg, std::uint32_t tag, DialPeerType type) {
  auto [it, added] = cfg.dial_peers.try_emplace(tag);  // one lookup: a load enters 100k peers
  DialPeer& dp = it->second;
  if (!added) return dp.type == type ? ok() : dial_peer_type_conflict(dp);
  dp.tag = tag;
  dp.type = type;
  if (type == DialPeerType::voip) dp.voip.emplace();
  return changed();
}

Result dial_peer_remove(Config& cfg, std::uint32_t tag, Index* index,
                        std::optional<DialPeerType> type) {
  auto it = cfg.dial_peers.find(tag);
  // IOS: removing an absent dial peer is silent.
  if (it == cfg.dial_peers.end()) return ok();
  if (type && it->second.type != *type) return dial_peer_type_conflict(it->second);
  if (index) index->dial_peer_removed(it->second);
  cfg.dial_peers.erase(it);
  return changed();
}

Result registrar_set(SipUa& ua, const Registrar& r) {
  bool dhcp = r.address.kind == AddressKind::dhcp;
  if (!r.legacy) {
    if (r.index < 1 || r.index > kMaxRegistrars) return index_out_of_range();
    if (has_dhcp_registrar(ua) || ua.credentials_dhcp) return dhcp_legacy_only();  // R2
    if (has_legacy(ua)) return mixed_forms();                                       // R1
    if (dhcp) return dhcp_legacy_only();
  } else {
    if (r.index != 1 && r.index != 2) return index_out_of_range();
    if (dhcp && has_indexed(ua)) return dhcp_legacy_only();  // R2
    if (has_indexed(ua)) return mixed_forms();               // R1
  }
  auto it = ua.registrars.find(r.index);
  if (it != ua.registrars.end() && it->second == r) return ok();
  ua.registrars[r.index] = r;
  ua.registrar_dhcp = has_dhcp_registrar(ua);
  return changed();
}

Result registrar_remove(SipUa& ua, int index, bool legacy) {
  auto it = ua.registrars.find(index);
  if (it == ua.registrars.end() || it->second.legacy != legacy) return ok();
  ua.registrars.erase(it);
  ua.registrar_dhcp = has_dhcp_registrar(ua);
  return changed();
}

std::size_t distinct_realms(const std::vector<Authentication>& list) {
  std::set<std::string_view> realms;
  for (const auto& a : list)
    if (!a.realm.empty()) realms.insert(a.realm);
  return realms.size();
}

Result authentication_set(std::vector<Authentication>& list, const Authentication& a,
                          Index* index) {
  auto same = [&](const Authentication& e) { return e.username == a.username && e.realm == a.realm; };
  auto replace = [&](Authentication& e) {
    // R3: the (username, realm) pair is the key; only the password changes.
    if (e.password == a.password && e.password_encrypted == a.password_encrypted) return ok();
    e.password = a.password;
    e.password_encrypted = a.password_encrypted;
    return changed();
  };
  if (index) {
    Index::AuthTable& t = index->auth(list);
    std::string key = pair_key(a.username, a.realm);
    if (t.keys.contains(key)) return replace(*std::find_if(list.begin(), list.end(), same));
    bool new_realm = !a.realm.empty() && !t.realms.contains(a.realm);
    if (new_realm && t.realms.size() >= static_cast<std::size_t>(kMaxRealmsPerEndpoint))
      return too_many_realms();  // R5
    list.push_back(a);
    t.keys.insert(std::move(key));
    if (!a.realm.empty()) ++t.realms[a.realm];
    t.size = list.size();
    return changed();
  }
  if (auto it = std::find_if(list.begin(), list.end(), same); it != list.end()) return replace(*it);
  bool new_realm = !a.realm.empty() && std::none_of(list.begin(), list.end(), [&](const auto& e) {
    return e.realm == a.realm;
  });
  if (new_realm && distinct_realms(list) >= static_cast<std::size_t>(kMaxRealmsPerEndpoint))
    return too_many_realms();  // R5
  list.push_back(a);
  return changed();
}

Result authentication_remove(std::vector<Authentication>& list, std::string_view username,
                             std::string_view realm, Index* index) {
  std::size_t n = std::erase_if(list, [&](const Authentication& e) {
    return e.username == username && e.realm == realm;
  });
  if (n != 0 && index) index->auth_removed(list, username, realm);
  return changed_if(n != 0);
}

Result credential_set(SipUa& ua, const Credential& c, Index* index) {
  auto key = [&](const Credential& e) { return e.number == c.number && e.realm == c.realm; };
  auto replace = [&](Credential& e) {
    if (e == c) return ok();
    e = c;  // F5: (number, realm) is the key; a new username replaces the old one
    return changed();
  };
  if (index) {
    Index::CredTable& t = index->creds(ua);
    std::string k = pair_key(c.number, c.realm);
    if (t.keys.contains(k)) return replace(*std::find_if(ua.credentials.begin(), ua.credentials.end(), key));
    std::size_t& realms = t.per_number[std::string(c.number.view())];
    if (realms >= static_cast<std::size_t>(kMaxRealmsPerEndpoint))
      return too_many_realms();  // R5 ((number, realm) is unique: entries = realms)
    ua.credentials.push_back(c);
    ++realms;
    t.keys.insert(std::move(k));
    t.size = ua.credentials.size();
    return changed();
  }
  if (auto it = std::find_if(ua.credentials.begin(), ua.credentials.end(), key);
      it != ua.credentials.end()) {
    return replace(*it);
  }
  std::set<std::string_view> realms;
  for (const auto& e : ua.credentials)
    if (e.number == c.number) realms.insert(e.realm);
  if (realms.size() >= static_cast<std::size_t>(kMaxRealmsPerEndpoint))
    return too_many_realms();  // R5
  ua.credentials.push_back(c);
  return changed();
}

Result credential_remove(SipUa& ua, std::string_view number, std::string_view realm,
                         Index* index) {
  // R7: exactly one entry, named by its key.
  std::size_t n = std::erase_if(ua.credentials, [&](const Credential& e) {
    return e.number == number && e.realm == realm;
  });
  if (n != 0 && index) index->credential_removed(ua, number, realm);
  return changed_if(n != 0);
}

Result credentials_dhcp_set(SipUa& ua, const Credential& c) {
  if (has_indexed(ua)) return dhcp_legacy_only();  // R2
  if (ua.credentials_dhcp == c) return ok();
  ua.credentials_dhcp = c;
  return changed();
}

Result credentials_dhcp_remove(SipUa& ua) {
  if (!ua.credentials_dhcp) return ok();
  ua.credentials_dhcp.reset();
  return changed();
}

Result localhost_set(std::optional<Localhost>& slot, const Localhost& l) {
  if (slot == l) return ok();
  slot = l;
  return changed();
}

Result localhost_clear(std::optional<Localhost>& slot) {
  if (!slot) return ok();
  slot.reset();
  return changed();
}

Result localhost_set(OptionalBox<Localhost>& slot, const Localhost& l) {
  if (slot == l) return ok();
  slot.emplace(l);
  return changed();
}

Result localhost_clear(OptionalBox<Localhost>& slot) {
  if (!slot) return ok();
  slot.reset();
  return changed();
}

Result retry_register_set(SipUa& ua, std::uint8_t n) {
  if (ua.retry_register == n) return ok();
  ua.retry_register = n;
  return changed();
}

Result timers_register_set(SipUa& ua, std::uint32_t ms) {
  if (ua.timers_register_ms == ms) return ok();
  ua.timers_register_ms = ms;
  return changed();
}

Result shard_set(SipUa& ua, std::uint32_t index, std::uint32_t count) {
  if (count == 0 || count > kMaxShards) {
    return rejected(Status::out_of_range("Shards must number 1 to " + std::to_string(kMaxShards)));
  }
  if (index >= count) {
    return rejected(Status::out_of_range("Shard " + std::to_string(index) + " does not exist: " + std::to_string(count) +
                                         " shards are numbered 0 to " + std::to_string(count - 1)));
  }
  if (ua.shard_index == index && ua.shard_count == count) return ok();
  ua.shard_index = index;
  ua.shard_count = count;
  return changed();
}

Result shard_clear(SipUa& ua) {
  if (ua.shard_count == 0) return ok();
  ua.shard_index = ua.shard_count = 0;
  return changed();
}

Result registration_rate_set(SipUa& ua, std::uint32_t per_second) {
  if (ua.registration_rate == per_second) return ok();
  ua.registration_rate = per_second;
  return changed();
}

}  // namespace regfront::config::actions
