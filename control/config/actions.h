// control/config/actions.h — one function per configuration operation.
//
// Each action checks everything first (restrictions R1–R7, F5 of docs/rules.md) and only then
// modifies the model, so a refused operation leaves it exactly as it was. The grammar handlers
// (tree.cc) only convert parsed words into these typed calls; a future API calls them directly.
// An action sets Result::changed exactly when the model differs afterwards. A refusal is a
// Result::status with a plain message (no `%`; format_error() renders it for IOS):
//
//   Result r = actions::registrar_set(cfg.sip_ua, registrar);
//   if (r.status.code() == StatusCode::failed_precondition) …   // R1/R2: mixed forms, DHCP
//
// The keyed lists (authentication by (username, realm), credentials by (number, realm)) are
// vectors in the model, so that the running-config keeps the order of configuration. Finding a
// key is a linear scan; a bulk load of 100k entries would make that quadratic, and the realm
// limit (R5) of one endpoint needs every entry of its number, so the loader passes an `Index`
// (hash tables over the lists) to every action, and so does the daemon, whose one Index lives
// as long as its running Config (every session's command runs on its control thread). An
// action without one scans the lists (or builds a throw-away Index for R5).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "regfront/common/status.h"
#include "regfront/config/commands.h"
#include "regfront/config/model.h"

namespace regfront::config::actions {

// Lookup tables over the keyed lists of one Config, built lazily per list on first use and kept
// up to date by the actions that add and remove entries (the tables hold keys and counts, not
// positions, so a removal does not invalidate them). Valid only while the actions given this
// Index are the only writers of the Config: whoever replaces the Config clears it.
class Index {
 public:
  // Heterogeneous lookup: a number or realm is looked up by view, without a string copy.
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  template <typename V>
  using Map = std::unordered_map<std::string, V, Hash, std::equal_to<>>;
  using Set = std::unordered_set<std::string, Hash, std::equal_to<>>;
  struct AuthTable {
    std::size_t size = 0;         // list size the table describes
    Set keys;                     // username '\0' realm
    Map<std::size_t> realms;      // distinct non-empty realms (R5) -> entries with it
  };
  struct CredTable {
    std::size_t size = 0;
    Set keys;                     // number '\0' realm
    Map<std::size_t> per_number;  // entries (= realms) per number
  };
  // The table of `list`/`ua.credentials`, rebuilt when missing or out of step with the list.
  AuthTable& auth(const std::vector<Authentication>& list);
  CredTable& creds(const SipUa& ua);
  // The endpoint dial peers (is_endpoint_dial_peer()) whose number is `number`; the table is
  // built on first use and again after dial_peers_changed().
  const std::vector<const DialPeer*>& dial_peers_of(const Config& cfg, std::string_view number);
  // `dp`'s destination-pattern changed from `old_pattern`: moves it in the table of
  // dial_peers_of() (kept up to date rather than rebuilt: a load sets 100k patterns).
  void dial_peer_moved(const DialPeer& dp, std::string_view old_pattern);
  // An entry with this key left `list` / `ua.credentials` (already erased from it).
  void auth_removed(const std::vector<Authentication>& list, std::string_view username, std::string_view realm);
  void credential_removed(const SipUa& ua, std::string_view number, std::string_view realm);
  // `dp` is about to be erased: its tables go (another peer may get its node and addresses).
  void dial_peer_removed(const DialPeer& dp) {
    auth_.erase(&dp.authentication);
    dp_built_ = false;
  }
  void clear() {
    auth_.clear();
    creds_.clear();
    dp_built_ = false;
  }

 private:
  Map<std::vector<const DialPeer*>> dp_by_number_;
  bool dp_built_ = false;
  std::unordered_map<const void*, AuthTable> auth_;
  std::unordered_map<const void*, CredTable> creds_;
};

// Accepted, the Config unchanged.
Result ok();
// Accepted, and the Config changed.
Result changed();
// Accepted; changed when `really`.
Result changed_if(bool really);
// Refused for `why` (not OK), the Config unchanged: Result::rejected().
Result rejected(Status why);

// global configuration
Result set_hostname(Config& cfg, std::string_view name);
Result set_password_encryption(Config& cfg, bool on);
Result sip_ua_enter(Config& cfg);
Result sip_ua_reset(Config& cfg, Index* index = nullptr);  // `no sip-ua`
// `dial-peer voice TAG {pots|voip}`: adds the dial peer when absent. A tag names one dial peer
// of one type: a tag that exists with the other type is refused (failed_precondition).
Result dial_peer_enter(Config& cfg, std::uint32_t tag, DialPeerType type = DialPeerType::pots);
// `no dial-peer voice TAG [pots|voip]`: with a type, only a dial peer of that type is removed
// (the other type is refused, as when entering it).
Result dial_peer_remove(Config& cfg, std::uint32_t tag, Index* index = nullptr,
                        std::optional<DialPeerType> type = std::nullopt);

// sip-ua
// Indexed form (r.legacy == false, index 1..6) or legacy form (index 1 primary, 2 secondary,
// address kind dhcp for `registrar dhcp`). R1, R2, R4.
Result registrar_set(SipUa& ua, const Registrar& r);
Result registrar_remove(SipUa& ua, int index, bool legacy);
// Keyed by (username, realm): replaces the password of an existing pair (R3); R5 limit.
Result authentication_set(std::vector<Authentication>& list, const Authentication& a,
                          Index* index = nullptr);
Result authentication_remove(std::vector<Authentication>& list, std::string_view username,
                             std::string_view realm, Index* index = nullptr);
// Keyed by (number, realm): replaces the entry (F5); R5 limit per number.
Result credential_set(SipUa& ua, const Credential& c, Index* index = nullptr);
Result credential_remove(SipUa& ua, std::string_view number, std::string_view realm,
                         Index* index = nullptr);
Result credentials_dhcp_set(SipUa& ua, const Credential& c);  // R2
Result credentials_dhcp_remove(SipUa& ua);
Result localhost_set(std::optional<Localhost>& slot, const Localhost& l);
Result localhost_clear(std::optional<Localhost>& slot);
Result localhost_set(OptionalBox<Localhost>& slot, const Localhost& l);  // a dial peer's
Result localhost_clear(OptionalBox<Localhost>& slot);
Result retry_register_set(SipUa& ua, std::uint8_t n);
Result timers_register_set(SipUa& ua, std::uint32_t ms);
Result registration_rate_set(SipUa& ua, std::uint32_t per_second);
// `shard I of N` / `no shard`: refused unless 1 <= N <= kMaxShards and I < N.
Result shard_set(SipUa& ua, std::uint32_t index, std::uint32_t count);
Result shard_clear(SipUa& ua);

// dial-peer, both types. `pattern` "" removes it; else validate_dial_pattern() decides.
Result destination_pattern_set(DialPeer& dp, std::string_view pattern);
// `authentication …` of a dial peer: POTS dial peers only (their numbers are the endpoints
// whose challenges the entries answer, F4.1); on a VoIP dial peer refused, the `no` form too.
Result dial_peer_authentication_set(DialPeer& dp, const Authentication& a, Index* index = nullptr);
Result dial_peer_authentication_remove(DialPeer& dp, std::string_view username,
                                       std::string_view realm, Index* index = nullptr);

// VoIP dial peers only (DialPeer::voip); a POTS dial peer refuses them (failed_precondition).
// `session target …`; kind none is `no session target`. ipv4: a host address; dns: a name.
Result session_target_set(DialPeer& dp, const SessionTarget& target);
Result preference_set(DialPeer& dp, std::uint8_t preference);  // 0..kMaxDialPeerPreference
Result huntstop_set(DialPeer& dp, bool on);
// `incoming called-number PATTERN`; "" removes it.
Result incoming_called_number_set(DialPeer& dp, std::string_view pattern);
// `description LINE` (at most kMaxDialPeerDescription characters); "" removes it.
Result dial_peer_description_set(DialPeer& dp, std::string_view text);

// interfaces. `name` is canonical (parse_interface_name()/interface_name()).
// Physical interfaces `dpdkN` exist in IOS whether configured or not: entering one adds it to
// the model; only sub-interfaces can be removed.
Result interface_enter(Config& cfg, std::string_view name);
Result interface_remove(Config& cfg, std::string_view name);  // `no interface dpdkN.V`
Result interface_description_set(Interface& itf, std::string_view text);  // "" = none
Result interface_shutdown_set(Interface& itf, bool shutdown);
// `encapsulation dot1Q V` (V 1..4094); `vlan` 0 is `no encapsulation dot1Q`.
Result interface_encapsulation_set(Config& cfg, Interface& itf, std::uint16_t vlan);
// `ip address A M` (host order): contiguous mask, host address, no overlap with another
// interface's subnet, dot1Q first on a sub-interface.
Result interface_ipv4_set(Config& cfg, Interface& itf, std::uint32_t address, std::uint32_t mask);
Result interface_ipv4_clear(Interface& itf);
Result interface_ipv6_add(Config& cfg, Interface& itf, const Ipv6Prefix& p);
// Removes `*p` (address and length as configured), or every IPv6 address when `p` is null.
Result interface_ipv6_remove(Interface& itf, const Ipv6Prefix* p);

// static routes; the `no` forms without a gateway remove every route to the network.
Result ipv4_route_add(Config& cfg, std::uint32_t network, std::uint32_t mask,
                      std::uint32_t gateway);
Result ipv4_route_remove(Config& cfg, std::uint32_t network, std::uint32_t mask,
                         const std::uint32_t* gateway);
Result ipv6_route_add(Config& cfg, const Ipv6Prefix& network, const Ipv6Address& gateway);
Result ipv6_route_remove(Config& cfg, const Ipv6Prefix& network, const Ipv6Address* gateway);

// voice service voip → sip
Result voice_service_enter(Config& cfg);
Result voice_service_reset(Config& cfg);  // `no voice service voip`
Result voice_sip_enter(Config& cfg);
Result voice_sip_reset(Config& cfg);      // `no sip`
// `bind control source-interface NAME`: a physical dpdkN is accepted whether configured or not
// (its port is the daemon's question, validate_interfaces()); a sub-interface must exist.
Result sip_bind_set(Config& cfg, std::string_view name);
Result sip_bind_clear(Config& cfg);
Result sip_listen_port_set(Config& cfg, std::uint16_t port);
// voice service voip → ip address trusted list
Result trusted_list_enter(Config& cfg);
Result trusted_list_remove(Config& cfg);  // `no ip address trusted list`: the list and its entries
// `ipv4 A.B.C.D [M.M.M.M]` (host order; a host without a mask is mask 255.255.255.255): the
// network of the address (host bits cleared) and the mask's length; contiguous mask; at most
// kMaxTrustedEntries entries.
Result trusted_ipv4_add(Config& cfg, std::uint32_t address, std::uint32_t mask);
Result trusted_ipv4_remove(Config& cfg, std::uint32_t address, std::uint32_t mask);

// voice class sip-options-keepalive TAG (regfront applies it to registrars: `registrar N …
// options-keepalive profile TAG`). Entering adds the profile with IOS's defaults when absent;
// removing one a registrar uses is refused (failed_precondition), as is a registrar naming a
// profile that does not exist.
Result keepalive_enter(Config& cfg, std::uint32_t tag);
Result keepalive_remove(Config& cfg, std::uint32_t tag);
// Replaces the profile `p.tag` (which must exist) with `p`: description ≤ 64 characters,
// intervals kKeepaliveIntervalMin..Max, retry 1..10 (the grammar checks the ranges too).
Result keepalive_update(Config& cfg, const OptionsKeepalive& p);
Result registrar_keepalive_check(const Config& cfg, const Registrar& r);

// Distinct non-empty realms of a list.
std::size_t distinct_realms(const std::vector<Authentication>& list);

// R5 per endpoint: how many distinct realms endpoint `number` could answer if `more` were
// configured for it too — the union of sip-ua `authentication` realms, its `credentials`
// realms and the `authentication` realms of its POTS dial peers (plus `more`). Realm-less
// entries are not realms. `index` holds the lookup tables (a caller without one passes a
// fresh Index). Exact when over kMaxRealmsPerEndpoint; within it, possibly an upper bound that
// is within it too (what R5 needs, without a lookup per realm for each of 100k endpoints).
std::size_t endpoint_realms(const Config& cfg, std::string_view number, const std::vector<std::string_view>& more,
                            Index& index);
// Refuses, with R5's error, a change that would give an endpoint more than
// kMaxRealmsPerEndpoint realms: `number` getting the realms `more` (a credential, a dial
// peer's authentication, a dial peer taking a number), or, with an empty `number`, every
// endpoint getting `more` (a sip-ua authentication). OK when within the limit.
Result check_endpoint_realms(const Config& cfg, std::string_view number, const std::vector<std::string_view>& more,
                             Index* index);

}  // namespace regfront::config::actions
