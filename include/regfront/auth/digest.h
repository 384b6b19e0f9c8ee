// regfront/auth/digest.h — SIP digest authentication, client side (RFC 2617, RFC 7616,
// RFC 8760, RFC 3261 §22).
//
// Workers never see passwords: the control plane precomputes, per credential, HA1 for each base
// hash (MD5, SHA-256, SHA-512/256) with `compute_ha1()`. On a challenge the worker parses the
// WWW-/Proxy-Authenticate values with `parse_challenge()`, picks one per RFC 8760 with
// `better_challenge()`, and computes the response with a per-worker `Hasher`, which is set up
// once and never allocates afterwards.
//
//   regfront::auth::Challenge c;
//   if (parse_challenge(www_authenticate_value, c) == ChallengeStatus::ok) {
//     char resp[kMaxHexLength];
//     std::size_t n = hasher.response(c.algorithm, ha1_for(c.algorithm), c.nonce, nc, cnonce,
//                                     qop, "REGISTER", uri, body, resp);
//   }
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace regfront::auth {

enum class Algorithm : std::uint8_t {
  md5,
  md5_sess,
  sha256,
  sha256_sess,
  sha512_256,       // FIPS 180-4 SHA-512/256, not truncated SHA-512 (RFC 7616 erratum 4897)
  sha512_256_sess,
};

// The base hash of an algorithm (sess variants share the base's HA1).
enum class Hash : std::uint8_t { md5 = 0, sha256 = 1, sha512_256 = 2 };
inline constexpr std::size_t kHashCount = 3;

Hash base_hash(Algorithm a);
bool is_sess(Algorithm a);
std::string_view algorithm_name(Algorithm a);         // "MD5", "SHA-256-sess", …
std::size_t hex_length(Hash h);                        // 32 or 64
inline constexpr std::size_t kMaxHexLength = 64;

enum class Qop : std::uint8_t { none = 0, auth = 1, auth_int = 2 };

// A hex digest, lowercase, as stored in snapshots (HA1) and produced as responses.
struct HexDigest {
  char hex[kMaxHexLength] = {};
  std::uint8_t length = 0;   // 0 = not present
  std::string_view view() const { return {hex, length}; }
};

// HA1 of one credential for every base hash: H(username ":" realm ":" password), kept in binary
// (16 + 32 + 32 bytes: a snapshot holds one per credential, 600k in the storm benchmark) and
// hex-encoded on use: `for_algorithm()` returns the lowercase hex the response hash takes as
// input, by value, without allocating (about 10 ns for 64 characters).
// compute_ha1() is control plane only (allocation allowed there).
struct Ha1Set {
  static constexpr std::size_t kOffset[kHashCount] = {0, 16, 48};
  static constexpr std::size_t kBytes[kHashCount] = {16, 32, 32};
  std::uint8_t bytes[80] = {};
  HexDigest hex(Hash h) const;
  HexDigest for_algorithm(Algorithm a) const { return hex(base_hash(a)); }
};
// `hashes`: bit (1 << Hash) per base hash to compute; the others stay zero. A snapshot keeps
// the SHA ones only for realms that challenged with them (64 of the 80 bytes saved per credential).
inline constexpr std::uint8_t kAllHashes = 0x7;
inline constexpr std::uint8_t kMd5Hash = 0x1;
inline constexpr std::uint8_t kShaHashes = 0x6;
Ha1Set compute_ha1(std::string_view username, std::string_view realm, std::string_view password,
                   std::uint8_t hashes = kAllHashes);

// The binary HA1s of one credential as a snapshot holds them, wherever they are: one pointer
// per base hash (Ha1Set::kBytes long), nullptr when the snapshot has none for that hash.
struct Ha1View {
  const std::uint8_t* part[kHashCount] = {};
  bool has(Hash h) const { return part[static_cast<std::size_t>(h)] != nullptr; }
  bool has_algorithm(Algorithm a) const { return has(base_hash(a)); }
  HexDigest hex(Hash h) const;  // length 0 when absent
  HexDigest for_algorithm(Algorithm a) const { return hex(base_hash(a)); }
  static Ha1View of(const Ha1Set& s) {
    return {{s.bytes + Ha1Set::kOffset[0], s.bytes + Ha1Set::kOffset[1], s.bytes + Ha1Set::kOffset[2]}};
  }
};

enum class ChallengeStatus : std::uint8_t {
  ok,
  not_digest,          // another scheme (Basic, NTLM, Bearer, …): ignore this header
  malformed,           // syntax error, unterminated quote, CR/LF/NUL inside a value, duplicate param
  missing_realm,
  missing_nonce,       // absent or empty nonce
  unsupported_algorithm,  // algorithm we do not implement (e.g. SHA-1): must not be answered
  unsupported_qop,     // qop offered but neither auth nor auth-int
  too_long,            // a value over the limits below
};

inline constexpr std::size_t kMaxNonceLength = 256;
inline constexpr std::size_t kMaxRealmLength = 128;
inline constexpr std::size_t kMaxOpaqueLength = 256;

// One parsed Digest challenge. Views point into the header value; quoted values are given
// without their quotes. A realm or nonce containing a quoted-pair or a line fold is reported
// `malformed` (regfront would have to rewrite it into a buffer; no registrar in the field sends
// one). `opaque` keeps a quoted-pair in its escaped form: it is only echoed, inside quotes.
struct Challenge {
  std::string_view realm;
  std::string_view nonce;
  std::string_view opaque;           // empty when absent
  bool opaque_present = false;
  Algorithm algorithm = Algorithm::md5;  // MD5 when the parameter is absent (RFC 2617 §3.2.1)
  std::uint8_t qop_mask = 0;         // bit (1 << Qop::auth) | (1 << Qop::auth_int); 0 = absent
  bool stale = false;                // stale=true (case-insensitive)
  bool userhash = false;             // RFC 7616 §3.4.4
};

// Parses a WWW-Authenticate / Proxy-Authenticate value ("Digest realm=…, nonce=…").
// Algorithm tokens are matched case-insensitively and may be quoted (lenient: many servers
// quote them). Unknown parameters are ignored. Folds (CRLF 1*WSP, or LF 1*WSP) count as white
// space; a trailing CRLF is tolerated. A repeated realm/nonce/opaque/algorithm/qop/stale/
// domain/charset/userhash is `malformed` (repeats of unknown parameters are not detected).
// Errors are checked in this order: malformed / too_long (first one met, left to right), then
// missing_realm, missing_nonce, unsupported_algorithm, unsupported_qop. Never allocates.
ChallengeStatus parse_challenge(std::string_view value, Challenge& out);

// Qop to answer with: auth when offered, else auth-int, else none (qop absent, RFC 2069 form).
Qop choose_qop(const Challenge& c);

// RFC 8760 §2.4: among challenges of the same realm a UAC uses the topmost one it supports.
// regfront prefers the strongest algorithm it supports among those offered for a realm;
// returns true when `candidate` should replace `current`. Exact rule, for two challenges that
// both parsed `ok`: false when the realms differ (byte-exact; group by realm first); otherwise
// true only when candidate's base hash is stronger (SHA-512/256 > SHA-256 > MD5). Equal
// strength (including X vs X-sess) keeps `current`, so walking the headers top-down keeps the
// topmost, as RFC 8760 asks.
bool better_challenge(const Challenge& candidate, const Challenge& current);

// Per-worker hashing context (not thread-safe: it holds the digest contexts and a small cache
// of HA2 = H(method ":" uri) values). Construct at worker set-up; `response()` and friends do
// not allocate. `response()` returns 0 when `ha1_hex` is not hex_length() long.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  // response = H(HA1' ":" nonce ":" nc ":" cnonce ":" qop ":" HA2) or, with Qop::none,
  // H(HA1' ":" nonce ":" HA2); HA1' is derived for -sess algorithms; HA2 = H(method ":" uri
  // [":" H(body)]). `nc` is the 8-hex-digit count. Writes lowercase hex to `out` (at least
  // kMaxHexLength) and returns its length.
  std::size_t response(Algorithm alg, std::string_view ha1_hex, std::string_view nonce,
                       std::string_view nc, std::string_view cnonce, Qop qop,
                       std::string_view method, std::string_view uri, std::string_view body,
                       char* out);

  // H(data) in lowercase hex; returns its length.
  std::size_t hash_hex(Hash h, std::string_view data, char* out);
  // H(a ":" b ":" c …) helper used by the above and by userhash (H(username ":" realm)).
  std::size_t hash_joined_hex(Hash h, std::initializer_list<std::string_view> parts, char* out);

 private:
  struct Impl;
  Impl* impl_;
};

// Cryptographically secure random hex for cnonce, per worker; no allocation after set-up.
class CnonceSource {
 public:
  CnonceSource();
  ~CnonceSource();
  CnonceSource(const CnonceSource&) = delete;
  CnonceSource& operator=(const CnonceSource&) = delete;
  // Writes `length` lowercase hex characters (length ≤ 64) to `out`.
  void next(char* out, std::size_t length);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace regfront::auth
