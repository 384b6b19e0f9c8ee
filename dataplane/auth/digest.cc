// SIP digest authentication, client side. See include/regfront/auth/digest.h.
//
// Three parts:
//   * parse_challenge(): a single forward pass over the header value, no allocation, no copy;
//     every bounds check goes through Cursor so that nothing reads outside the view.
//   * Hasher: one context per base hash, held by value and re-initialised in place. It uses
//     OpenSSL's low-level MD5_* / SHA256_* / SHA512_* functions (deprecated in OpenSSL 3, still
//     exported) rather than EVP: on OpenSSL 3.0 every EVP_DigestInit_ex2() frees and
//     re-allocates the provider context, i.e. one CRYPTO_malloc per hash (the allocation test
//     caught it), and EVP's dispatch also costs more than the 4 MD5 blocks of a cached-HA1
//     response. Low-level calls bypass providers, so a FIPS-provider-only deployment would
//     need another path; regfront does not run in FIPS mode.
//   * CnonceSource: AES-256-CTR keystream keyed from RAND_bytes at construction.
#include "regfront/auth/digest.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

// The low-level digest functions are deprecated in OpenSSL 3 but still exported; we use them
// on purpose (see above). Silence the deprecation here rather than for the whole build.
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
#endif
#include <openssl/md5.h>
#include <openssl/sha.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace regfront::auth {

// ---------------------------------------------------------------------------------------------
// Algorithm helpers

Hash base_hash(Algorithm a) {
  switch (a) {
    case Algorithm::md5:
    case Algorithm::md5_sess:
      return Hash::md5;
    case Algorithm::sha256:
    case Algorithm::sha256_sess:
      return Hash::sha256;
    case Algorithm::sha512_256:
    case Algorithm::sha512_256_sess:
      return Hash::sha512_256;
  }
  return Hash::md5;
}

bool is_sess(Algorithm a) {
  return a == Algorithm::md5_sess || a == Algorithm::sha256_sess ||
         a == Algorithm::sha512_256_sess;
}

std::string_view algorithm_name(Algorithm a) {
  switch (a) {
    case Algorithm::md5: return "MD5";
    case Algorithm::md5_sess: return "MD5-sess";
    case Algorithm::sha256: return "SHA-256";
    case Algorithm::sha256_sess: return "SHA-256-sess";
    case Algorithm::sha512_256: return "SHA-512-256";
    case Algorithm::sha512_256_sess: return "SHA-512-256-sess";
  }
  return "MD5";
}

std::size_t hex_length(Hash h) { return h == Hash::md5 ? 32 : 64; }

namespace {

// ---------------------------------------------------------------------------------------------
// Character classes (RFC 3261 §25.1)

enum : std::uint8_t { kToken = 1, kWsp = 2 };

constexpr std::array<std::uint8_t, 256> make_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] |= kToken;
  for (int c = 'a'; c <= 'z'; ++c) t[c] |= kToken;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] |= kToken;
  // token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
  for (char c : {'-', '.', '!', '%', '*', '_', '+', '`', '\'', '~'}) {
    t[static_cast<unsigned char>(c)] |= kToken;
  }
  t[' '] |= kWsp;
  t['\t'] |= kWsp;
  return t;
}
constexpr std::array<std::uint8_t, 256> kClass = make_classes();

inline bool is_token(char c) { return kClass[static_cast<unsigned char>(c)] & kToken; }
inline bool is_wsp(char c) { return kClass[static_cast<unsigned char>(c)] & kWsp; }

inline char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// ASCII case-insensitive equality; `lit` is lowercase.
bool iequals(std::string_view s, std::string_view lit) {
  if (s.size() != lit.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (lower(s[i]) != lit[i]) return false;
  }
  return true;
}

// All reads of the header value go through here: `p < end` is checked before every access.
struct Cursor {
  const char* p;
  const char* end;

  bool done() const { return p >= end; }
  char peek() const { return *p; }
  bool has(std::size_t n) const { return static_cast<std::size_t>(end - p) >= n; }

  // Length of a line fold starting at p (CRLF 1*WSP, or leniently LF 1*WSP), 0 if none.
  // RFC 3261 §7.3.1: a fold is equivalent to a single SP.
  std::size_t fold_length() const {
    if (has(3) && p[0] == '\r' && p[1] == '\n' && is_wsp(p[2])) return 3;
    if (has(2) && p[0] == '\n' && is_wsp(p[1])) return 2;
    return 0;
  }

  // LWS = [*WSP CRLF] 1*WSP (RFC 3261 §25.1). Returns true if anything was skipped.
  bool skip_lws() {
    const char* start = p;
    while (!done()) {
      if (is_wsp(*p)) {
        ++p;
      } else if (std::size_t f = fold_length()) {
        p += f;
      } else {
        break;
      }
    }
    return p != start;
  }

  // True when only white space and line ends remain: a value handed over with its
  // terminating CRLF is accepted (the SIP parser normally strips it).
  bool only_trailing_space() const {
    for (const char* q = p; q < end; ++q) {
      if (!is_wsp(*q) && *q != '\r' && *q != '\n') return false;
    }
    return true;
  }

  std::string_view take_token() {
    const char* start = p;
    while (!done() && is_token(*p)) ++p;
    return {start, static_cast<std::size_t>(p - start)};
  }
};

struct Value {
  std::string_view text;  // without the quotes for a quoted-string
  bool quoted = false;
  bool has_escape = false;  // contains a quoted-pair
  bool has_fold = false;    // contains a line fold
};

enum class Scan : std::uint8_t { ok, malformed };

// quoted-string = SWS DQUOTE *(qdtext / quoted-pair) DQUOTE (RFC 3261 §25.1), cursor on the
// opening quote. qdtext admits LWS (so a fold) and no other control character; we reject
// CR/LF outside a fold, NUL and every other CTL, also when escaped, because the value may be
// echoed into our own request.
Scan scan_quoted(Cursor& c, Value& v) {
  ++c.p;  // opening DQUOTE
  const char* start = c.p;
  while (!c.done()) {
    const unsigned char ch = static_cast<unsigned char>(c.peek());
    if (ch == '"') {
      v.text = {start, static_cast<std::size_t>(c.p - start)};
      v.quoted = true;
      ++c.p;
      return Scan::ok;
    }
    if (ch == '\\') {
      if (!c.has(2)) return Scan::malformed;
      const unsigned char esc = static_cast<unsigned char>(c.p[1]);
      if (esc == '\r' || esc == '\n' || esc == 0 || esc == 0x7f) return Scan::malformed;
      v.has_escape = true;
      c.p += 2;
      continue;
    }
    if (ch == '\r' || ch == '\n') {
      const std::size_t f = c.fold_length();
      if (f == 0) return Scan::malformed;
      v.has_fold = true;
      c.p += f;
      continue;
    }
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return Scan::malformed;
    ++c.p;
  }
  return Scan::malformed;  // unterminated
}

Scan scan_value(Cursor& c, Value& v) {
  if (c.done()) return Scan::malformed;
  if (c.peek() == '"') return scan_quoted(c, v);
  v.text = c.take_token();
  return v.text.empty() ? Scan::malformed : Scan::ok;
}

bool parse_algorithm(std::string_view s, Algorithm& out) {
  struct Entry {
    std::string_view name;
    Algorithm alg;
  };
  static constexpr Entry kTable[] = {
      {"md5", Algorithm::md5},
      {"md5-sess", Algorithm::md5_sess},
      {"sha-256", Algorithm::sha256},
      {"sha-256-sess", Algorithm::sha256_sess},
      {"sha-512-256", Algorithm::sha512_256},
      {"sha-512-256-sess", Algorithm::sha512_256_sess},
  };
  for (const Entry& e : kTable) {
    if (iequals(s, e.name)) {
      out = e.alg;
      return true;
    }
  }
  return false;
}

// qop-options = "qop" EQUAL LDQUOT qop-value *("," qop-value) RDQUOT (RFC 3261 §25.1).
// Elements are trimmed of LWS (folds included) and compared case-insensitively; unknown
// elements and empty elements are ignored (RFC 7230 §7 #rule).
std::uint8_t parse_qop_list(std::string_view s) {
  std::uint8_t mask = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t j = s.find(',', i);
    if (j == std::string_view::npos) j = s.size();
    std::size_t b = i, e = j;
    auto space = [](char ch) { return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n'; };
    while (b < e && space(s[b])) ++b;
    while (e > b && space(s[e - 1])) --e;
    const std::string_view item = s.substr(b, e - b);
    if (iequals(item, "auth")) {
      mask |= 1u << static_cast<unsigned>(Qop::auth);
    } else if (iequals(item, "auth-int")) {
      mask |= 1u << static_cast<unsigned>(Qop::auth_int);
    }
    i = j + 1;
  }
  return mask;
}

// Parameters whose repetition we detect (RFC 7235 §2.1: each parameter name MUST only occur
// once per challenge). Unknown parameters are skipped without a duplicate check: that would
// need a table of names, and nothing we use depends on them.
enum Known : std::uint16_t {
  kRealm = 1u << 0,
  kNonce = 1u << 1,
  kOpaque = 1u << 2,
  kAlgorithm = 1u << 3,
  kQop = 1u << 4,
  kStale = 1u << 5,
  kDomain = 1u << 6,
  kCharset = 1u << 7,
  kUserhash = 1u << 8,
};

std::uint16_t known_param(std::string_view name) {
  switch (name.size()) {
    case 3:
      return iequals(name, "qop") ? kQop : 0;
    case 5:
      if (iequals(name, "realm")) return kRealm;
      if (iequals(name, "nonce")) return kNonce;
      if (iequals(name, "stale")) return kStale;
      return 0;
    case 6:
      if (iequals(name, "opaque")) return kOpaque;
      if (iequals(name, "domain")) return kDomain;
      return 0;
    case 7:
      return iequals(name, "charset") ? kCharset : 0;
    case 8:
      return iequals(name, "userhash") ? kUserhash : 0;
    case 9:
      return iequals(name, "algorithm") ? kAlgorithm : 0;
    default:
      return 0;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Challenge parsing

ChallengeStatus parse_challenge(std::string_view value, Challenge& out) {
  out = Challenge{};
  Cursor c{value.data(), value.data() + value.size()};

  // challenge = ("Digest" LWS digest-cln *(COMMA digest-cln)) / other-challenge
  // (RFC 3261 §25.1; auth-scheme is case-insensitive, RFC 7235 §2.1).
  c.skip_lws();
  const std::string_view scheme = c.take_token();
  if (scheme.empty()) return ChallengeStatus::malformed;
  if (!iequals(scheme, "digest")) return ChallengeStatus::not_digest;
  if (!c.done() && !c.skip_lws() && !c.only_trailing_space()) return ChallengeStatus::malformed;

  std::uint16_t seen = 0;
  bool algorithm_unknown = false;
  for (;;) {
    c.skip_lws();
    if (c.done() || c.only_trailing_space()) break;
    if (c.peek() == ',') {  // empty list element (RFC 7230 §7)
      ++c.p;
      continue;
    }
    // auth-param = token BWS "=" BWS (token / quoted-string) (RFC 7235 §2.1); SIP's EQUAL
    // allows LWS on both sides of "=" (RFC 3261 §25.1).
    const std::string_view name = c.take_token();
    if (name.empty()) return ChallengeStatus::malformed;
    c.skip_lws();
    if (c.done() || c.peek() != '=') return ChallengeStatus::malformed;
    ++c.p;
    c.skip_lws();
    Value v;
    if (scan_value(c, v) != Scan::ok) return ChallengeStatus::malformed;

    const std::uint16_t which = known_param(name);
    if (which & seen) return ChallengeStatus::malformed;
    seen |= which;
    switch (which) {
      case kRealm:
        // The realm is hashed into HA1 and matched against configuration byte for byte: an
        // escaped or folded realm would have to be rewritten into a buffer first.
        if (v.has_escape || v.has_fold) return ChallengeStatus::malformed;
        if (v.text.size() > kMaxRealmLength) return ChallengeStatus::too_long;
        out.realm = v.text;
        break;
      case kNonce:
        // Same for the nonce, which is hashed into the response.
        if (v.has_escape || v.has_fold) return ChallengeStatus::malformed;
        if (v.text.size() > kMaxNonceLength) return ChallengeStatus::too_long;
        out.nonce = v.text;
        break;
      case kOpaque:
        // Opaque is only echoed inside quotes, so a quoted-pair round-trips unchanged and is
        // kept in its escaped form; a fold would not survive the echo.
        if (v.has_fold) return ChallengeStatus::malformed;
        if (v.text.size() > kMaxOpaqueLength) return ChallengeStatus::too_long;
        out.opaque = v.text;
        out.opaque_present = true;
        break;
      case kAlgorithm:
        // algorithm = "algorithm" EQUAL ("MD5" / "MD5-sess" / token); quoting is tolerated
        // (many servers quote it) and tokens are case-insensitive (RFC 7616 §3.3).
        if (!parse_algorithm(v.text, out.algorithm)) algorithm_unknown = true;
        break;
      case kQop:
        out.qop_mask = parse_qop_list(v.text);
        break;
      case kStale:
        // stale = "stale" EQUAL ("true" / "false"); anything but TRUE is false (RFC 7616 §3.3).
        out.stale = iequals(v.text, "true");
        break;
      case kUserhash:
        out.userhash = iequals(v.text, "true");
        break;
      default:
        break;  // domain, charset, and unknown parameters are ignored
    }

    c.skip_lws();
    if (c.done() || c.only_trailing_space()) break;
    if (c.peek() != ',') return ChallengeStatus::malformed;
    ++c.p;
  }

  if (!(seen & kRealm)) return ChallengeStatus::missing_realm;
  if (!(seen & kNonce) || out.nonce.empty()) return ChallengeStatus::missing_nonce;
  // RFC 8760 §2.4: a challenge with an algorithm we do not know MUST be ignored; never fall
  // back to MD5 for it.
  if (algorithm_unknown) return ChallengeStatus::unsupported_algorithm;
  if ((seen & kQop) && out.qop_mask == 0) return ChallengeStatus::unsupported_qop;
  return ChallengeStatus::ok;
}

Qop choose_qop(const Challenge& c) {
  if (c.qop_mask & (1u << static_cast<unsigned>(Qop::auth))) return Qop::auth;
  if (c.qop_mask & (1u << static_cast<unsigned>(Qop::auth_int))) return Qop::auth_int;
  return Qop::none;
}

namespace {
int strength(Algorithm a) { return static_cast<int>(base_hash(a)); }  // md5 < sha256 < sha512_256
}  // namespace

// Rule: only challenges of the same realm (byte-exact) compete; the stronger base hash wins
// (SHA-512/256 > SHA-256 > MD5); on equal strength the one already held (the topmost, since
// callers walk the headers top-down) is kept, as RFC 8760 §2.4 asks. -sess and plain variants
// of one hash are equally strong.
bool better_challenge(const Challenge& candidate, const Challenge& current) {
  if (candidate.realm != current.realm) return false;
  return strength(candidate.algorithm) > strength(current.algorithm);
}

// ---------------------------------------------------------------------------------------------
// Hashing

namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

std::size_t to_hex(const unsigned char* bin, std::size_t n, char* out) {
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHexDigits[bin[i] >> 4];
    out[2 * i + 1] = kHexDigits[bin[i] & 0x0f];
  }
  return 2 * n;
}

[[noreturn]] void fatal_setup(const char* what) {
  // Set-up runs on the control plane or at worker start: a missing digest means a broken
  // OpenSSL installation, not a network condition.
  std::fprintf(stderr, "regfront auth: %s\n", what);
  std::abort();
}

}  // namespace

// SHA-512/256 initial hash value (FIPS 180-4 §5.3.6.2). SHA-512/256 is SHA-512 with these
// IVs and the output cut to 256 bits; it is NOT the first half of SHA-512 (the mistake behind
// RFC 7616 erratum 4897).
constexpr SHA_LONG64 kSha512_256Iv[8] = {
    0x22312194FC2BF72CULL, 0x9F555FA3C84C64C2ULL, 0x2393B86B6F53B151ULL, 0x963877195940EABDULL,
    0x96283EE2A88EFFE3ULL, 0xBE5E1E2553863992ULL, 0x2B0199FC2C85B8AAULL, 0x0EB72DDC81C52CA2ULL,
};

// One context per base hash, initialised in place on every use: the low-level functions
// keep their whole state in these structs and never allocate.
struct Hasher::Impl {
  MD5_CTX md5{};
  SHA256_CTX sha256{};
  SHA512_CTX sha512_256{};
  Hash current = Hash::md5;

  // HA2 = H(method ":" uri) depends only on the request line, and a worker answers challenges
  // for a handful of (method, Request-URI) pairs: REGISTER to each registrar's URI, plus the
  // odd INVITE. Remembering the last few saves one of the four MD5 blocks of a response.
  // Exact-match keys, so a hit is the same pure function result; auth-int HA2 (which depends
  // on the body) is never cached. Round-robin replacement.
  static constexpr std::size_t kHa2Entries = 8;
  static constexpr std::size_t kHa2MaxKey = 200;  // method + uri; longer ones are not cached
  struct Ha2Entry {
    std::uint16_t method_len = 0;
    std::uint16_t uri_len = 0;
    Hash hash = Hash::md5;
    bool valid = false;
    char key[kHa2MaxKey];
    char hex[kMaxHexLength];
  };
  Ha2Entry ha2_cache[kHa2Entries];
  std::size_t ha2_next = 0;

  const char* find_ha2(Hash h, std::string_view method, std::string_view uri) const {
    for (const Ha2Entry& e : ha2_cache) {
      if (e.valid && e.hash == h && e.method_len == method.size() && e.uri_len == uri.size() &&
          std::memcmp(e.key, method.data(), method.size()) == 0 &&
          std::memcmp(e.key + method.size(), uri.data(), uri.size()) == 0) {
        return e.hex;
      }
    }
    return nullptr;
  }
  void store_ha2(Hash h, std::string_view method, std::string_view uri, const char* hex) {
    if (method.size() + uri.size() > kHa2MaxKey) return;
    Ha2Entry& e = ha2_cache[ha2_next];
    ha2_next = (ha2_next + 1) % kHa2Entries;
    e.valid = true;
    e.hash = h;
    e.method_len = static_cast<std::uint16_t>(method.size());
    e.uri_len = static_cast<std::uint16_t>(uri.size());
    if (!method.empty()) std::memcpy(e.key, method.data(), method.size());
    if (!uri.empty()) std::memcpy(e.key + method.size(), uri.data(), uri.size());
    std::memcpy(e.hex, hex, hex_length(h));
  }

  void begin(Hash h) {
    current = h;
    switch (h) {
      case Hash::md5: MD5_Init(&md5); break;
      case Hash::sha256: SHA256_Init(&sha256); break;
      case Hash::sha512_256:
        SHA512_Init(&sha512_256);
        std::memcpy(sha512_256.h, kSha512_256Iv, sizeof kSha512_256Iv);
        sha512_256.md_len = SHA256_DIGEST_LENGTH;  // SHA512_Final then emits 32 bytes
        break;
    }
  }
  void add(std::string_view s) {
    if (s.empty()) return;
    switch (current) {
      case Hash::md5: MD5_Update(&md5, s.data(), s.size()); break;
      case Hash::sha256: SHA256_Update(&sha256, s.data(), s.size()); break;
      case Hash::sha512_256: SHA512_Update(&sha512_256, s.data(), s.size()); break;
    }
  }
  std::size_t finish_hex(char* out) {
    unsigned char bin[SHA512_DIGEST_LENGTH];
    std::size_t n = 0;
    switch (current) {
      case Hash::md5:
        MD5_Final(bin, &md5);
        n = MD5_DIGEST_LENGTH;
        break;
      case Hash::sha256:
        SHA256_Final(bin, &sha256);
        n = SHA256_DIGEST_LENGTH;
        break;
      case Hash::sha512_256:
        SHA512_Final(bin, &sha512_256);
        n = SHA256_DIGEST_LENGTH;
        break;
    }
    return to_hex(bin, n, out);
  }
};

Hasher::Hasher() : impl_(new Impl) {}
Hasher::~Hasher() { delete impl_; }

std::size_t Hasher::hash_hex(Hash h, std::string_view data, char* out) {
  impl_->begin(h);
  impl_->add(data);
  return impl_->finish_hex(out);
}

std::size_t Hasher::hash_joined_hex(Hash h, std::initializer_list<std::string_view> parts,
                                    char* out) {
  // Short inputs (every response line with sane nonces) are joined on the stack and hashed
  // with one update call: the per-update bookkeeping of the low-level API is measurable next
  // to 2-3 compression blocks. Longer inputs are streamed.
  char line[512];
  std::size_t total = parts.size() ? parts.size() - 1 : 0;
  for (std::string_view part : parts) total += part.size();
  impl_->begin(h);
  if (total <= sizeof line) {
    char* w = line;
    bool first = true;
    for (std::string_view part : parts) {
      if (!first) *w++ = ':';
      if (!part.empty()) std::memcpy(w, part.data(), part.size());
      w += part.size();
      first = false;
    }
    impl_->add({line, total});
  } else {
    bool first = true;
    for (std::string_view part : parts) {
      if (!first) impl_->add(":");
      impl_->add(part);
      first = false;
    }
  }
  return impl_->finish_hex(out);
}

std::size_t Hasher::response(Algorithm alg, std::string_view ha1_hex, std::string_view nonce,
                             std::string_view nc, std::string_view cnonce, Qop qop,
                             std::string_view method, std::string_view uri,
                             std::string_view body, char* out) {
  const Hash h = base_hash(alg);
  const std::size_t hex_len = hex_length(h);
  // HA1 comes from the snapshot, built by compute_ha1(); a wrong length is a configuration
  // bug, reported to the caller as 0 rather than asserted on the data plane.
  if (ha1_hex.size() != hex_len) return 0;

  // HA1 for -sess: H(HA1 ":" nonce ":" cnonce) (RFC 7616 §3.4.2, RFC 2617 §3.2.2.2).
  char ha1_sess[kMaxHexLength];
  std::string_view ha1 = ha1_hex;
  if (is_sess(alg)) {
    hash_joined_hex(h, {ha1_hex, nonce, cnonce}, ha1_sess);
    ha1 = {ha1_sess, hex_len};
  }

  // HA2 = H(method ":" uri) or, for auth-int, H(method ":" uri ":" H(entity-body))
  // (RFC 7616 §3.4.3); an empty body hashes as H("").
  char ha2_buf[kMaxHexLength];
  const char* ha2 = ha2_buf;
  if (qop == Qop::auth_int) {
    char body_hash[kMaxHexLength];
    hash_hex(h, body, body_hash);
    hash_joined_hex(h, {method, uri, std::string_view(body_hash, hex_len)}, ha2_buf);
  } else if (const char* cached = impl_->find_ha2(h, method, uri)) {
    ha2 = cached;
  } else {
    hash_joined_hex(h, {method, uri}, ha2_buf);
    impl_->store_ha2(h, method, uri, ha2_buf);
  }
  const std::string_view ha2_view(ha2, hex_len);

  // RFC 7616 §3.4.1; with qop absent the RFC 2069 form (RFC 2617 §3.2.2.1).
  if (qop == Qop::none) return hash_joined_hex(h, {ha1, nonce, ha2_view}, out);
  const std::string_view qop_text = qop == Qop::auth ? "auth" : "auth-int";
  return hash_joined_hex(h, {ha1, nonce, nc, cnonce, qop_text, ha2_view}, out);
}

HexDigest Ha1Set::hex(Hash h) const {
  const std::size_t i = static_cast<std::size_t>(h);
  HexDigest d;
  d.length = static_cast<std::uint8_t>(to_hex(bytes + kOffset[i], kBytes[i], d.hex));
  return d;
}

HexDigest Ha1View::hex(Hash h) const {
  const std::size_t i = static_cast<std::size_t>(h);
  HexDigest d;
  if (part[i] != nullptr) d.length = static_cast<std::uint8_t>(to_hex(part[i], Ha1Set::kBytes[i], d.hex));
  return d;
}

Ha1Set compute_ha1(std::string_view username, std::string_view realm,
                   std::string_view password, std::uint8_t hashes) {
  Ha1Set set;
  // One hashing context per thread: setting one up costs more than the three hashes.
  static thread_local Hasher hasher;
  auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
  for (std::size_t i = 0; i < kHashCount; ++i) {
    if ((hashes >> i & 1) == 0) continue;
    char hex[kMaxHexLength];
    const std::size_t n = hasher.hash_joined_hex(static_cast<Hash>(i), {username, realm, password}, hex);
    for (std::size_t k = 0; 2 * k + 1 < n && k < Ha1Set::kBytes[i]; ++k) {
      set.bytes[Ha1Set::kOffset[i] + k] = static_cast<std::uint8_t>(nibble(hex[2 * k]) << 4 | nibble(hex[2 * k + 1]));
    }
  }
  return set;
}

// ---------------------------------------------------------------------------------------------
// cnonce

namespace {
constexpr std::size_t kKeystreamBytes = 1024;  // 32 cnonces of 64 hex characters per refill
}

struct CnonceSource::Impl {
  EVP_CIPHER* cipher = nullptr;
  EVP_CIPHER_CTX* ctx = nullptr;
  unsigned char zeros[kKeystreamBytes] = {};
  unsigned char stream[kKeystreamBytes] = {};
  std::size_t used = kKeystreamBytes;

  Impl() {
    unsigned char key[32];
    unsigned char iv[16];
    cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
    ctx = EVP_CIPHER_CTX_new();
    if (!cipher || !ctx) fatal_setup("cannot fetch AES-256-CTR");
    // Key and initial counter from the OpenSSL DRBG (seeded by the OS). A 128-bit counter
    // never wraps in the life of a process, so the keystream is never reused.
    if (RAND_bytes(key, sizeof key) != 1 || RAND_bytes(iv, sizeof iv) != 1) {
      fatal_setup("RAND_bytes failed");
    }
    if (EVP_EncryptInit_ex2(ctx, cipher, key, iv, nullptr) != 1) {
      fatal_setup("cannot initialise AES-256-CTR");
    }
    OPENSSL_cleanse(key, sizeof key);
    refill();
  }
  ~Impl() {
    OPENSSL_cleanse(stream, sizeof stream);
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(cipher);
  }

  void refill() {
    int n = 0;
    EVP_EncryptUpdate(ctx, stream, &n, zeros, static_cast<int>(kKeystreamBytes));
    used = 0;
  }
};

CnonceSource::CnonceSource() : impl_(new Impl) {}
CnonceSource::~CnonceSource() { delete impl_; }

void CnonceSource::next(char* out, std::size_t length) {
  if (length > kMaxHexLength) length = kMaxHexLength;
  const std::size_t bytes = (length + 1) / 2;
  if (impl_->used + bytes > kKeystreamBytes) impl_->refill();
  const unsigned char* b = impl_->stream + impl_->used;
  for (std::size_t i = 0; i < length; ++i) {
    const unsigned char byte = b[i / 2];
    out[i] = kHexDigits[(i & 1) ? (byte & 0x0f) : (byte >> 4)];
  }
  // Each keystream byte is used once, then wiped.
  OPENSSL_cleanse(impl_->stream + impl_->used, bytes);
  impl_->used += bytes;
}

}  // namespace regfront::auth

#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
