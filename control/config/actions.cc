// control/config/actions.cc — configuration operations (see actions.h). Check, then modify.
#include "actions.h"

#include <algorithm>
#include <set>

namespace regfront::config::actions {

namespace {

constexpr const char* kMixedForms =
    "% Multiple registrars (indexed form) and primary/secondary form cannot be configured "
    "together";
constexpr const char* kDhcpLegacyOnly =
    "% DHCP is not supported with multiple registrars (indexed form); use the primary/secondary "
    "form";
constexpr const char* kTooManyRealms = "% A maximum of 12 different realms can be configured";

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

}  // namespace

Result ok() { return Result{}; }

Result rejected(std::string message) {
  Result r;
  r.code = ResultCode::rejected;
  r.message = std::move(message);
  return r;
}

Result set_hostname(Config& cfg, std::string_view name) {
  cfg.hostname = std::string(name);
  return ok();
}

Result set_password_encryption(Config& cfg, bool on) {
  cfg.service_password_encryption = on;
  return ok();
}

Result sip_ua_enter(Config& cfg) {
  cfg.sip_ua.present = true;
  return ok();
}

Result sip_ua_reset(Config& cfg) {
  cfg.sip_ua = SipUa{};
  return ok();
}

Result dial_peer_enter(Config& cfg, std::uint32_t tag) {
  cfg.dial_peers[tag].tag = tag;
  return ok();
}

Result dial_peer_remove(Config& cfg, std::uint32_t tag) {
  cfg.dial_peers.erase(tag);  // IOS: removing an absent dial peer is silent
  return ok();
}

Result registrar_set(SipUa& ua, const Registrar& r) {
  bool dhcp = r.address.kind == AddressKind::dhcp;
  if (!r.legacy) {
    if (r.index < 1 || r.index > kMaxRegistrars) return rejected("% Registrar index out of range");
    if (has_dhcp_registrar(ua) || ua.credentials_dhcp) return rejected(kDhcpLegacyOnly);  // R2
    if (has_legacy(ua)) return rejected(kMixedForms);                                      // R1
    if (dhcp) return rejected(kDhcpLegacyOnly);
  } else {
    if (r.index != 1 && r.index != 2) return rejected("% Registrar index out of range");
    if (dhcp && has_indexed(ua)) return rejected(kDhcpLegacyOnly);  // R2
    if (has_indexed(ua)) return rejected(kMixedForms);              // R1
  }
  ua.registrars[r.index] = r;
  ua.registrar_dhcp = has_dhcp_registrar(ua);
  return ok();
}

Result registrar_remove(SipUa& ua, int index, bool legacy) {
  auto it = ua.registrars.find(index);
  if (it != ua.registrars.end() && it->second.legacy == legacy) ua.registrars.erase(it);
  ua.registrar_dhcp = has_dhcp_registrar(ua);
  return ok();
}

std::size_t distinct_realms(const std::vector<Authentication>& list) {
  std::set<std::string_view> realms;
  for (const auto& a : list)
    if (!a.realm.empty()) realms.insert(a.realm);
  return realms.size();
}

Result authentication_set(std::vector<Authentication>& list, const Authentication& a) {
  auto same = [&](const Authentication& e) { return e.username == a.username && e.realm == a.realm; };
  if (auto it = std::find_if(list.begin(), list.end(), same); it != list.end()) {
    it->password = a.password;  // R3: the (username, realm) pair is the key
    return ok();
  }
  bool new_realm = !a.realm.empty() && std::none_of(list.begin(), list.end(), [&](const auto& e) {
    return e.realm == a.realm;
  });
  if (new_realm && distinct_realms(list) >= static_cast<std::size_t>(kMaxRealmsPerEndpoint))
    return rejected(kTooManyRealms);  // R5
  list.push_back(a);
  return ok();
}

Result authentication_remove(std::vector<Authentication>& list, std::string_view username,
                             std::string_view realm) {
  std::erase_if(list, [&](const Authentication& e) {
    return e.username == username && e.realm == realm;
  });
  return ok();
}

Result credential_set(SipUa& ua, const Credential& c) {
  auto key = [&](const Credential& e) { return e.number == c.number && e.realm == c.realm; };
  if (auto it = std::find_if(ua.credentials.begin(), ua.credentials.end(), key);
      it != ua.credentials.end()) {
    *it = c;  // F5: (number, realm) is the key; a new username replaces the old one
    return ok();
  }
  std::set<std::string_view> realms;
  for (const auto& e : ua.credentials)
    if (e.number == c.number) realms.insert(e.realm);
  if (realms.size() >= static_cast<std::size_t>(kMaxRealmsPerEndpoint))
    return rejected(kTooManyRealms);  // R5
  ua.credentials.push_back(c);
  return ok();
}

Result credential_remove(SipUa& ua, std::string_view number, std::string_view realm) {
  // R7: exactly one entry, named by its key.
  std::erase_if(ua.credentials, [&](const Credential& e) {
    return e.number == number && e.realm == realm;
  });
  return ok();
}

Result credentials_dhcp_set(SipUa& ua, const Credential& c) {
  if (has_indexed(ua)) return rejected(kDhcpLegacyOnly);  // R2
  ua.credentials_dhcp = c;
  return ok();
}

Result credentials_dhcp_remove(SipUa& ua) {
  ua.credentials_dhcp.reset();
  return ok();
}

Result localhost_set(std::optional<Localhost>& slot, const Localhost& l) {
  slot = l;
  return ok();
}

Result localhost_clear(std::optional<Localhost>& slot) {
  slot.reset();
  return ok();
}

Result retry_register_set(SipUa& ua, std::uint8_t n) {
  ua.retry_register = n;
  return ok();
}

Result timers_register_set(SipUa& ua, std::uint32_t ms) {
  ua.timers_register_ms = ms;
  return ok();
}

Result registration_rate_set(SipUa& ua, std::uint32_t per_second) {
  ua.registration_rate = per_second;
  return ok();
}

Result destination_pattern_set(DialPeer& dp, std::string_view pattern) {
  dp.destination_pattern = std::string(pattern);
  return ok();
}

}  // namespace regfront::config::actions
