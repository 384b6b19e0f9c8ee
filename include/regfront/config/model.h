// regfront/config/model.h — the configuration model, owned by the control plane.
//
// The model is what the IOS-style commands (config/commands.h) edit and what
// `render_running_config()` prints. It holds passwords in clear text; it never leaves the control
// plane: the snapshot builder turns it into HA1 values for the workers.
//
//   regfront::config::Config cfg;
//   auto result = regfront::config::load_startup_config(text, cfg);
//   if (!result.ok()) { for (auto& e : result.errors) std::cerr << e.format() << '\n'; }
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "regfront/common/status.h"

namespace regfront::config {

inline constexpr int kMaxRegistrars = 6;          // R4
inline constexpr int kMaxRealmsPerEndpoint = 12;  // R5
inline constexpr std::uint32_t kDefaultExpires = 3600;       // IOS default for `registrar`
inline constexpr std::uint8_t kDefaultRefreshRatio = 80;     // percent of the granted expiry
inline constexpr std::uint8_t kDefaultRetryRegister = 6;     // IOS `retry register` default
inline constexpr std::uint32_t kDefaultTimersRegisterMs = 500;  // IOS `timers register`: T1
inline constexpr std::uint32_t kDefaultRegistrationRate = 500;  // REGISTER requests
                                                                // per second per registrar
inline constexpr std::uint16_t kDefaultSipPort = 5060;
inline constexpr int kMaxDpdkPorts = 64;                // `dpdkN`: N = DPDK port id 0..63
inline constexpr std::uint16_t kMaxVlanId = 4094;       // `dpdkN.V` and dot1Q: 1..4094

// The longest value of each kind a command takes (docs/config-limits.md). A longer one is
// refused with an IOS-style error when typed and with FILE:LINE when loaded; it changes nothing.
inline constexpr std::size_t kMaxUsernameLength = 128;   // `username U`
inline constexpr std::size_t kMaxPasswordLength = 128;   // `password [0] P` (clear text)
inline constexpr std::size_t kMaxType7Length = 2 + 2 * kMaxPasswordLength;  // `password 7 P`
inline constexpr std::size_t kMaxRealmLength = 128;      // `realm R`, `auth-realm R`
inline constexpr std::size_t kMaxNumberLength = 32;      // E.164 numbers (`credentials number`)
inline constexpr std::size_t kMaxHostnameLength = 63;    // `hostname` (RFC 1123 label)
inline constexpr std::size_t kMaxDnsNameLength = 253;    // dns:NAME (RFC 1035 §2.3.4)
inline constexpr std::size_t kMaxConfigLineLength = 4096;  // one line of a startup-config

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
  // regfront extension: `options-keepalive profile TAG` — the registrar is pinged with OPTIONS
  // per `voice class sip-options-keepalive TAG` (0 = none). IOS applies the profile to dial
  // peers only (`voice-class sip options-keepalive profile TAG`).
  std::uint32_t keepalive_profile = 0;
  bool operator==(const Registrar&) const = default;
};

// `authentication username U password [0|7] P [realm R]` (sip-ua or dial-peer).
// Key: (username, realm) — R3. An empty realm serves any realm (F4.4).
struct Authentication {
  std::string username;
  std::string password;  // clear text
  std::string realm;     // empty = no realm
  // Shown as type 7 whatever `service password-encryption` says: entered as type 7, or
  // encrypted by the service (IOS: `no service password-encryption` decrypts nothing).
  bool password_encrypted = false;
  bool operator==(const Authentication&) const = default;
};

// A string of the model that takes 16 bytes where std::string takes 32: up to 15 characters
// inline, longer ones on the heap. Used where the model holds one entry per binding (the
// storm benchmark: 600k `credentials` lines of four strings each). Reads as a std::string_view; compares with
// strings; `std::string(s)` makes a copy.
class CompactString {
 public:
  CompactString() noexcept { set_inline(0); }
  CompactString(std::string_view s) { assign(s); }
  CompactString(const std::string& s) { assign(s); }
  CompactString(const char* s) { assign(s); }
  CompactString(const CompactString& o) { assign(o.view()); }
  CompactString(CompactString&& o) noexcept {
    std::memcpy(buf_, o.buf_, sizeof buf_);
    o.set_inline(0);
  }
  CompactString& operator=(const CompactString& o) {
    if (this != &o) *this = CompactString(o);
    return *this;
  }
  CompactString& operator=(CompactString&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(buf_, o.buf_, sizeof buf_);
      o.set_inline(0);
    }
    return *this;
  }
  ~CompactString() { release(); }

  std::string_view view() const noexcept {
    if (!on_heap()) return {buf_, static_cast<unsigned char>(buf_[kInline])};
    const char* p;
    std::uint32_t n;
    std::memcpy(&p, buf_, sizeof p);
    std::memcpy(&n, buf_ + sizeof p, sizeof n);
    return {p, n};
  }
  operator std::string_view() const noexcept { return view(); }
  const char* data() const noexcept { return view().data(); }
  std::size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return size() == 0; }

  friend bool operator==(const CompactString& a, const CompactString& b) { return a.view() == b.view(); }
  friend bool operator==(const CompactString& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const CompactString& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const CompactString& a, const char* b) { return a.view() == b; }
  friend std::string operator+(std::string a, const CompactString& b) { return a.append(b.view()); }
  friend std::string operator+(const char* a, const CompactString& b) { return std::string(a).append(b.view()); }
  friend std::ostream& operator<<(std::ostream& os, const CompactString& s);

 private:
  // Inline: buf_[0..14] the characters, buf_[15] the length. On the heap: buf_[15] == kHeap,
  // the pointer in buf_[0..7] and the length in buf_[8..11].
  static constexpr std::size_t kInline = 15;
  static constexpr unsigned char kHeap = 0xff;
  bool on_heap() const noexcept { return static_cast<unsigned char>(buf_[kInline]) == kHeap; }
  void set_inline(std::size_t n) noexcept { buf_[kInline] = static_cast<char>(n); }
  void assign(std::string_view s);
  void release() noexcept;
  alignas(8) char buf_[16];
};

// A string that many entries of the model repeat (realms: a handful for 600k credentials):
// one copy per distinct value, shared and reference-counted, 8 bytes per use. Same reading
// interface as CompactString. Thread-safe (a process-wide table under a mutex).
class SharedString {
 public:
  SharedString() noexcept = default;
  SharedString(std::string_view s) : e_(acquire(s)) {}
  SharedString(const std::string& s) : e_(acquire(s)) {}
  SharedString(const char* s) : e_(acquire(s)) {}
  SharedString(const SharedString& o) : e_(o.e_) { retain(e_); }
  SharedString(SharedString&& o) noexcept : e_(o.e_) { o.e_ = nullptr; }
  SharedString& operator=(const SharedString& o) {
    if (e_ != o.e_) {
      retain(o.e_);
      release(e_);
      e_ = o.e_;
    }
    return *this;
  }
  SharedString& operator=(SharedString&& o) noexcept {
    if (this != &o) {
      release(e_);
      e_ = o.e_;
      o.e_ = nullptr;
    }
    return *this;
  }
  ~SharedString() { release(e_); }

  std::string_view view() const noexcept { return e_ ? std::string_view(e_->text) : std::string_view(); }
  operator std::string_view() const noexcept { return view(); }
  const char* data() const noexcept { return view().data(); }
  std::size_t size() const noexcept { return view().size(); }
  bool empty() const noexcept { return e_ == nullptr; }

  friend bool operator==(const SharedString& a, const SharedString& b) { return a.view() == b.view(); }
  friend bool operator==(const SharedString& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const SharedString& a, const std::string& b) { return a.view() == b; }
  friend bool operator==(const SharedString& a, const char* b) { return a.view() == b; }
  friend std::string operator+(std::string a, const SharedString& b) { return a.append(b.view()); }
  friend std::string operator+(const char* a, const SharedString& b) { return std::string(a).append(b.view()); }
  friend std::ostream& operator<<(std::ostream& os, const SharedString& s);

 private:
  struct Entry {
    std::string text;
    std::size_t refs = 0;
  };
  static Entry* acquire(std::string_view s);  // nullptr for ""
  static void retain(Entry* e) noexcept;
  static void release(Entry* e) noexcept;
  Entry* e_ = nullptr;
};

// `credentials number N username U password [0|7] P realm R` (sip-ua). Key: (number, realm) — F5.
struct Credential {
  CompactString number;
  CompactString username;
  CompactString password;  // clear text
  SharedString realm;
  bool password_encrypted = false;  // as Authentication's
  bool operator==(const Credential&) const = default;
};

struct Localhost {
  std::string dns_name;
  bool preferred = false;
  bool operator==(const Localhost&) const = default;
};

// A value of the model kept on the heap, or none: an std::optional whose empty state costs one
// pointer (8 bytes) instead of sizeof(T). Copies copy the value; == compares values (two empty
// boxes are equal, an empty box differs from any value). Used where most entries of a large
// table do not have the part: the 100k+ POTS dial peers carry no VoIP settings.
//
//   OptionalBox<VoipSettings> v;        // empty
//   v.emplace();                         // a default VoipSettings
//   if (v) v->huntstop = true;
template <typename T>
class OptionalBox {
 public:
  OptionalBox() noexcept = default;
  OptionalBox(const OptionalBox& o) : p_(o.p_ ? new T(*o.p_) : nullptr) {}
  OptionalBox(OptionalBox&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  OptionalBox& operator=(const OptionalBox& o) {
    if (this != &o) *this = OptionalBox(o);
    return *this;
  }
  OptionalBox& operator=(OptionalBox&& o) noexcept {
    if (this != &o) {
      delete p_;
      p_ = std::exchange(o.p_, nullptr);
    }
    return *this;
  }
  ~OptionalBox() { delete p_; }

  bool has_value() const noexcept { return p_ != nullptr; }
  explicit operator bool() const noexcept { return has_value(); }
  T& operator*() noexcept { return *p_; }
  const T& operator*() const noexcept { return *p_; }
  T* operator->() noexcept { return p_; }
  const T* operator->() const noexcept { return p_; }
  // Replaces the value (or the emptiness) with T(args…).
  template <typename... A>
  T& emplace(A&&... args) {
    T* n = new T(std::forward<A>(args)...);
    delete p_;
    p_ = n;
    return *p_;
  }
  void reset() noexcept {
    delete p_;
    p_ = nullptr;
  }

  friend bool operator==(const OptionalBox& a, const OptionalBox& b) {
    if (a.p_ == nullptr || b.p_ == nullptr) return a.p_ == b.p_;
    return *a.p_ == *b.p_;
  }
  // As std::optional's: a box equals a value when it holds an equal one.
  friend bool operator==(const OptionalBox& a, const T& b) { return a.p_ != nullptr && *a.p_ == b; }

 private:
  T* p_ = nullptr;
};

// `dial-peer voice N pots` or `dial-peer voice N voip`. A tag names one dial peer, of one type.
enum class DialPeerType : std::uint8_t { pots, voip };

// `session target …` of a VoIP dial peer: where calls that select the dial peer are sent.
enum class SessionTargetKind : std::uint8_t {
  none,       // not configured
  ipv4,       // session target ipv4:A.B.C.D[:PORT]
  dns,        // session target dns:NAME[:PORT]
  registrar,  // session target registrar: the registrars that hold a live binding for the
              // calling number (the endpoint), in registrar index order
};

struct SessionTarget {
  SessionTargetKind kind = SessionTargetKind::none;
  std::string host;        // dotted quad or DNS name; empty for none and registrar
  std::uint16_t port = 0;  // 0 = not given (5060, or DNS SRV for dns:)
  bool operator==(const SessionTarget&) const = default;
};

inline constexpr std::uint8_t kMaxDialPeerPreference = 10;  // IOS `preference <0-10>`
inline constexpr std::size_t kMaxDialPeerDescription = 64;  // IOS dial-peer `description`

// What only a VoIP dial peer has (a POTS dial peer has none of it: DialPeer::voip is empty).
struct VoipSettings {
  SessionTarget session_target;
  // `preference <0-10>`: order among dial peers whose patterns match equally well; 0 (the
  // default, not rendered) is tried first.
  std::uint8_t preference = 0;
  bool huntstop = false;               // `huntstop`: no other dial peer after this one fails
  std::string incoming_called_number;  // `incoming called-number PATTERN`; empty = none
  std::string description;             // `description LINE`; empty = none
  bool operator==(const VoipSettings&) const = default;
};

struct DialPeer {
  std::uint32_t tag = 0;
  DialPeerType type = DialPeerType::pots;
  std::string destination_pattern;   // empty = not configured (validate_dial_pattern())
  std::vector<Authentication> authentication;  // POTS dial peers only (F4.1)
  // voice-class sip localhost: boxed like `voip`, 8 bytes where std::optional took 48 in every
  // dial peer (40 B per endpoint, 8 per binding at five registrars; tests/unit/config pins it).
  OptionalBox<Localhost> localhost;
  // Set exactly when type == voip (the actions keep it so). A POTS dial peer, one per
  // registered number, pays 8 bytes for it.
  OptionalBox<VoipSettings> voip;
  bool is_voip() const { return type == DialPeerType::voip; }
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
  // `shard I of N` (regfront extension; regfrontd --shard I/N sets the same): this box registers
  // only the endpoints whose number falls in shard I of N (shard_of()); 0 of 0: every endpoint.
  std::uint32_t shard_index = 0;
  std::uint32_t shard_count = 0;
  bool present = false;  // `sip-ua` entered at least once (rendered even when empty)
  bool operator==(const SipUa&) const = default;
};

inline constexpr std::uint32_t kMaxShards = 1024;

// The shard, 0..count-1, a number belongs to among `count`: jump consistent hashing (Lamping and
// Veach, 2014) of the number's 64-bit FNV-1a hash. Going from N to N+1 shards moves about 1/(N+1)
// of the numbers, all of them into the new shard N; nothing moves between the others. Fixed by
// design: a different hash would move numbers between boxes on an upgrade.
//   shard_of("4085550100", 1) == 0
std::uint32_t shard_of(std::string_view number, std::uint32_t count);
// True when `ua` is not sharded or `number` falls in its shard.
inline bool in_shard(const SipUa& ua, std::string_view number) {
  return ua.shard_count <= 1 || shard_of(number, ua.shard_count) == ua.shard_index;
}

// ---- Interfaces (the DPDK backend) -------------------------------------------------------------
// Addresses are stored in binary, so that equal addresses written differently compare equal and
// render in one canonical form. The layout maps directly onto net::NetConfig (stack.h):
// Ipv4Prefix::address is net::IpAddr::v4()'s host-order value; Ipv6Address is the 16 bytes of
// net::IpAddr in network order.
using Ipv6Address = std::array<std::uint8_t, 16>;  // network byte order

// `ip address A.B.C.D M.M.M.M`: the interface address (host order) and the mask as a length.
struct Ipv4Prefix {
  std::uint32_t address = 0;
  std::uint8_t length = 0;  // 0..32
  bool operator==(const Ipv4Prefix&) const = default;
};

// `ipv6 address X:X::X/len` (interface: our address) or a route's destination (the network).
struct Ipv6Prefix {
  Ipv6Address address{};
  std::uint8_t length = 0;  // 0..128
  bool operator==(const Ipv6Prefix&) const = default;
};

// `interface dpdkN` (DPDK port N) or `interface dpdkN.V` (a sub-interface of port N).
struct Interface {
  std::string name;          // canonical: "dpdk0", "dpdk0.100" (the key in Config::interfaces)
  std::uint16_t port = 0;    // N
  std::uint16_t subif = 0;   // V of dpdkN.V; 0 = the physical interface
  std::uint16_t vlan = 0;    // `encapsulation dot1Q V` (sub-interfaces only); 0 = untagged
  std::string description;   // empty = none
  std::optional<Ipv4Prefix> ipv4;
  std::vector<Ipv6Prefix> ipv6;  // in the order configured
  bool shutdown = false;
  bool is_subinterface() const { return subif != 0; }
  bool operator==(const Interface&) const = default;
};

// `ip route NET MASK GATEWAY` (ipv6 == false) or `ipv6 route X::/len GATEWAY` (ipv6 == true);
// only the fields of the route's family are meaningful (the others stay zero).
struct Route {
  bool ipv6 = false;
  Ipv4Prefix network4;         // network address (no host bits) and length
  std::uint32_t gateway4 = 0;  // host order
  Ipv6Prefix network6;
  Ipv6Address gateway6{};
  bool operator==(const Route&) const = default;
};

// `voice service voip` → `sip`.
struct VoiceSip {
  std::string bind_control_interface;  // `bind control source-interface NAME`; empty = none
  std::uint16_t listen_port = kDefaultSipPort;  // `listen-port non-secure PORT`
  bool present = false;                // `sip` entered at least once
  bool operator==(const VoiceSip&) const = default;
};

inline constexpr std::size_t kMaxTrustedEntries = 100;  // `ip address trusted list` entries

// `voice service voip` → `ip address trusted list`: the addresses calls may come from.
struct TrustedList {
  // `ipv4 A.B.C.D [M.M.M.M]` / `ipv4 A.B.C.D/LEN`, in the order configured. Stored as the
  // network (host bits cleared; host order, as Ipv4Prefix) and its length, 32 for one host.
  std::vector<Ipv4Prefix> ipv4;
  bool present = false;  // `ip address trusted list` entered (rendered even when empty)
  bool operator==(const TrustedList&) const = default;
};

struct VoiceService {
  TrustedList trusted;
  VoiceSip sip;
  bool present = false;  // `voice service voip` entered at least once
  bool operator==(const VoiceService&) const = default;
};

// `voice class sip-options-keepalive TAG` (IOS XE CUBE): OPTIONS pings of a peer, every
// up-interval seconds while it answers, every down-interval seconds while it is down; `retry`
// unanswered OPTIONS in a row mark it down, any answer (503 excepted) marks it up again.
inline constexpr std::uint32_t kMaxKeepaliveTag = 10000;
inline constexpr std::uint16_t kKeepaliveIntervalMin = 5;
inline constexpr std::uint16_t kKeepaliveIntervalMax = 1200;
inline constexpr std::uint16_t kDefaultKeepaliveUp = 60;
inline constexpr std::uint16_t kDefaultKeepaliveDown = 30;
inline constexpr std::uint8_t kDefaultKeepaliveRetry = 5;
inline constexpr std::size_t kMaxKeepaliveDescription = 64;
struct OptionsKeepalive {
  std::uint32_t tag = 0;
  std::string description;
  std::uint16_t up_interval_s = kDefaultKeepaliveUp;
  std::uint16_t down_interval_s = kDefaultKeepaliveDown;
  std::uint8_t retry = kDefaultKeepaliveRetry;
  bool operator==(const OptionsKeepalive&) const = default;
};

// `logging buffered [SIZE] [LEVEL]` / `no logging buffered`: the logging buffer of `show logging`
// (IOS's default: on, 4096 bytes, level debugging; regfront bounds it at kMaxLoggingBuffer).
inline constexpr std::uint32_t kMinLoggingBuffer = 4096;
inline constexpr std::uint32_t kMaxLoggingBuffer = 16u << 20;
struct Logging {
  bool buffered = true;
  std::uint32_t buffered_bytes = kMinLoggingBuffer;
  std::uint8_t buffered_level = 7;  // 0 emergencies .. 7 debugging
  bool operator==(const Logging&) const = default;
};

struct Config {
  std::string hostname = "Router";
  Logging logging;
  std::map<std::uint32_t, OptionsKeepalive> keepalive_profiles;  // by tag
  bool service_password_encryption = false;
  SipUa sip_ua;
  std::map<std::uint32_t, DialPeer> dial_peers;
  std::map<std::string, Interface> interfaces;  // by canonical name ("dpdk0", "dpdk0.100")
  // IPv4 routes first, then IPv6 routes, each in the order configured (as rendered).
  std::vector<Route> routes;
  VoiceService voice;
  bool operator==(const Config&) const = default;
};

// ---- Interface helpers ---------------------------------------------------------------------------
// Parses `dpdkN` / `dpdkN.V` (the keyword is case-insensitive and may be abbreviated: `dp0`,
// `DPDK1.100`; N 0..63, V 1..4094). Sets `subif` to 0 for a physical interface.
bool parse_interface_name(std::string_view text, std::uint16_t& port, std::uint16_t& subif);
// The canonical name: "dpdk" + N [+ "." + V].
std::string interface_name(std::uint16_t port, std::uint16_t subif = 0);
// The interfaces ordered as IOS lists them: by port, the physical interface before its
// sub-interfaces, sub-interfaces by number (the map's string order would put dpdk10 before dpdk2).
std::vector<const Interface*> interfaces_in_order(const Config& cfg);

std::uint32_t ipv4_mask(std::uint8_t length);  // 24 -> 0xFFFFFF00
std::string ipv4_to_string(std::uint32_t host_order);
std::string ipv6_to_string(const Ipv6Address& a);  // RFC 5952 (lower case, "::")
// `a` with the bits after `length` cleared.
Ipv6Address ipv6_network(const Ipv6Address& a, std::uint8_t length);

// Checks that only the daemon can make, once it knows the DPDK ports (the grammar cannot: a
// configuration is written before the EAL runs). `port_count` is rte_eth_dev_count_avail().
// Returns one message per problem (plain: the start-up report adds IOS's "% "), empty when the
// configuration fits:
//   "Interface dpdk7 does not exist: the EAL found 2 DPDK ports (dpdk0-dpdk1)"
//     — an interface, sub-interface, or the SIP bind interface, on a missing port;
//   "bind control source-interface dpdk0.100: the interface has no IP address"
//   "bind control source-interface dpdk0: the interface is shut down"
//   "ip route 0.0.0.0 0.0.0.0 10.9.0.1: the gateway is not in a connected subnet"
//     — NetStack picks a route's outgoing interface by the subnet that holds the gateway.
// regfrontd --io dpdk calls it after loading the startup-config and refuses to start on a
// non-empty result (the socket backend ignores interfaces and does not call it).
std::vector<std::string> validate_interfaces(const Config& cfg, int port_count);

// True when `pattern` names one endpoint (digits with an optional leading '+'), as opposed to a
// wildcard pattern ("408555....", "T", "[2-9]…"), which IOS does not register.
bool is_endpoint_number(const std::string& pattern);

// True when `dp` is an endpoint's dial peer (F2): a POTS dial peer whose destination-pattern is a
// number. VoIP dial peers route calls; they never register.
bool is_endpoint_dial_peer(const DialPeer& dp);

// Checks an IOS dial pattern (`destination-pattern`, `incoming called-number`); OK or the
// reason it is refused (plain text). Accepted, as IOS documents them:
//   digits 0-9, A-D, * and #;      one position each
//   .                              any one digit
//   [...]                          one position from a set: digits, A-D, * #, ranges 2-9, a
//                                  leading ^ negates; no nesting
//   ( )                            a group (for the repeat operators below); balanced, not empty
//   % ? +                          the preceding digit, set or group 0+, 0-1, 1+ times
//   + (first, or after a leading ^) the E.164 plus, not a repeat
//   T (last)                       variable length: digits until the interdigit timeout
//   ^ (first), $ (last)            anchors
//   ,                              a pause
// At most 32 positions (digits, '.' and sets) and 64 characters. This checks the syntax only;
// the data plane's matcher decides what a pattern matches.
//   validate_dial_pattern("+1408555....")  -> OK
//   validate_dial_pattern("[2-9")          -> "Invalid pattern [2-9: unbalanced brackets"
Status validate_dial_pattern(std::string_view pattern);

// The endpoints of a configuration (F2): the numbers of POTS dial peers whose
// destination-pattern is a number, then the `credentials` numbers not already listed, in order,
// without duplicates; with `shard I of N`, only those of shard I.
std::vector<std::string> endpoint_numbers(const Config& cfg);
// The same candidates in the same order, duplicates included: fn(std::string_view number) with
// views into `cfg`. For callers that dedupe with a table of their own (the snapshot builder).
template <typename Fn>
void for_each_endpoint_number(const Config& cfg, Fn&& fn) {
  for (const auto& [tag, dp] : cfg.dial_peers) {
    if (is_endpoint_dial_peer(dp) && in_shard(cfg.sip_ua, dp.destination_pattern)) {
      fn(std::string_view(dp.destination_pattern));
    }
  }
  for (const auto& c : cfg.sip_ua.credentials) {
    if (!c.number.empty() && in_shard(cfg.sip_ua, c.number.view())) fn(c.number.view());
  }
}

}  // namespace regfront::config
