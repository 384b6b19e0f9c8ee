// regfront/config/model.h — the configuration model, owned by the control plane.
//
// The model is what the IOS-style commands (config/commands.h) edit and what
// `render_running_config()` prints. It holds passwords in clear text; it never leaves the control
// plane: the snapshot builder turns it into HA1 values for the workers.
//
//   regfront::config::Config cfg;
//   auto result = regfront::config::load_startup_config(text, cfg);
//   if (!result.ok()) { for (auto& e : result.errors) std::cerr << e.format() << '\n'; }
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace regfront::config {

inline constexpr int kMaxRegistrars = 6;          // R4
inline constexpr int kMaxRealmsPerEndpoint = 12;  // R5
inline constexpr std::uint32_t kDefaultExpires = 3600;       // IOS default for `registrar`
inline constexpr std::uint8_t kDefaultRefreshRatio = 80;     // percent of the granted expiry
inline constexpr std::uint8_t kDefaultRetryRegister = 6;     // IOS `retry register` default
inline constexpr std::uint32_t kDefaultTimersRegisterMs = 500;  // IOS `timers register`: T1
inline constexpr std::uint32_t kDefaultRegistrationRate = 500;  // REGISTER transactions started
                                                                // per second per registrar
inline constexpr std::uint16_t kDefaultSipPort = 5060;

enum class AddressKind : std::uint8_t { dns, ipv4, ipv6, dhcp };
enum class Scheme : std::uint8_t { sip, sips };

struct RegistrarAddress {
  AddressKind kind = AddressKind::dns;
  std::string host;        // name, dotted quad, or IPv6 text without brackets; empty for dhcp
  std::uint16_t port = 0;  // 0 = not given (5060, or DNS SRV later)
  bool operator==(const RegistrarAddress&) const = default;
};

struct Registrar {
  // Indexed form: 1..6. Legacy form: 1 = primary, 2 = secondary (legacy == true).
  int index = 0;
  bool legacy = false;
  RegistrarAddress address;
  std::uint32_t expires = kDefaultExpires;
  bool expires_given = false;     // to render exactly what was configured
  std::string auth_realm;         // empty = not configured
  std::uint8_t refresh_ratio = kDefaultRefreshRatio;
  bool refresh_ratio_given = false;
  bool tcp = false;
  Scheme scheme = Scheme::sip;
  bool scheme_given = false;
  bool operator==(const Registrar&) const = default;
};

// `authentication username U password [0|7] P [realm R]` (sip-ua or dial-peer).
// Key: (username, realm) — R3. An empty realm serves any realm (F4.4).
struct Authentication {
  std::string username;
  std::string password;  // clear text
  std::string realm;     // empty = no realm
  bool operator==(const Authentication&) const = default;
};

// `credentials number N username U password [0|7] P realm R` (sip-ua). Key: (number, realm) — F5.
struct Credential {
  std::string number;
  std::string username;
  std::string password;  // clear text
  std::string realm;
  bool operator==(const Credential&) const = default;
};

struct Localhost {
  std::string dns_name;
  bool preferred = false;
  bool operator==(const Localhost&) const = default;
};

struct DialPeer {
  std::uint32_t tag = 0;
  std::string destination_pattern;   // empty = not configured
  std::vector<Authentication> authentication;
  std::optional<Localhost> localhost;  // voice-class sip localhost
  bool operator==(const DialPeer&) const = default;
};

struct SipUa {
  std::map<int, Registrar> registrars;  // by index (indexed form or legacy 1/2)
  bool registrar_dhcp = false;          // `registrar dhcp` (legacy form only, R2); mirrors a
                                        // legacy entry of `registrars` with kind dhcp, which
                                        // keeps its expires/secondary
  std::vector<Authentication> authentication;
  std::vector<Credential> credentials;
  // `credentials dhcp password P realm R` (legacy registrar form only, R2): the number and
  // username come from DHCP, so `number` and `username` stay empty.
  std::optional<Credential> credentials_dhcp;
  std::optional<Localhost> localhost;
  std::uint8_t retry_register = kDefaultRetryRegister;
  std::uint32_t timers_register_ms = kDefaultTimersRegisterMs;
  std::uint32_t registration_rate = kDefaultRegistrationRate;
  bool present = false;  // `sip-ua` entered at least once (rendered even when empty)
  bool operator==(const SipUa&) const = default;
};

struct Config {
  std::string hostname = "Router";
  bool service_password_encryption = false;
  SipUa sip_ua;
  std::map<std::uint32_t, DialPeer> dial_peers;
  bool operator==(const Config&) const = default;
};

// True when `pattern` names one endpoint (digits with an optional leading '+'), as opposed to a
// wildcard pattern ("408555....", "T", "[2-9]…"), which IOS does not register.
bool is_endpoint_number(const std::string& pattern);

// The endpoints of a configuration (F2): the numbers of POTS dial peers whose
// destination-pattern is a number, then the `credentials` numbers not already listed, in order,
// without duplicates.
std::vector<std::string> endpoint_numbers(const Config& cfg);

}  // namespace regfront::config
