// control/config/actions.h — one function per configuration operation.
//
// Each action checks everything first (restrictions R1–R7, F5 of SEED-NOTES.md) and only then
// modifies the model, so a refused operation leaves it exactly as it was. The grammar handlers
// (tree.cc) only convert parsed words into these typed calls; a future API calls them directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "regfront/config/commands.h"
#include "regfront/config/model.h"

namespace regfront::config::actions {

Result ok();
Result rejected(std::string message);

// global configuration
Result set_hostname(Config& cfg, std::string_view name);
Result set_password_encryption(Config& cfg, bool on);
Result sip_ua_enter(Config& cfg);
Result sip_ua_reset(Config& cfg);  // `no sip-ua`
Result dial_peer_enter(Config& cfg, std::uint32_t tag);
Result dial_peer_remove(Config& cfg, std::uint32_t tag);

// sip-ua
// Indexed form (r.legacy == false, index 1..6) or legacy form (index 1 primary, 2 secondary,
// address kind dhcp for `registrar dhcp`). R1, R2, R4.
Result registrar_set(SipUa& ua, const Registrar& r);
Result registrar_remove(SipUa& ua, int index, bool legacy);
// Keyed by (username, realm): replaces the password of an existing pair (R3); R5 limit.
Result authentication_set(std::vector<Authentication>& list, const Authentication& a);
Result authentication_remove(std::vector<Authentication>& list, std::string_view username,
                             std::string_view realm);
// Keyed by (number, realm): replaces the entry (F5); R5 limit per number.
Result credential_set(SipUa& ua, const Credential& c);
Result credential_remove(SipUa& ua, std::string_view number, std::string_view realm);
Result credentials_dhcp_set(SipUa& ua, const Credential& c);  // R2
Result credentials_dhcp_remove(SipUa& ua);
Result localhost_set(std::optional<Localhost>& slot, const Localhost& l);
Result localhost_clear(std::optional<Localhost>& slot);
Result retry_register_set(SipUa& ua, std::uint8_t n);
Result timers_register_set(SipUa& ua, std::uint32_t ms);
Result registration_rate_set(SipUa& ua, std::uint32_t per_second);

// dial-peer
Result destination_pattern_set(DialPeer& dp, std::string_view pattern);

// Distinct non-empty realms of a list (R5 counts these).
std::size_t distinct_realms(const std::vector<Authentication>& list);

}  // namespace regfront::config::actions
