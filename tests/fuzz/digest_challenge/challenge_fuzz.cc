// libFuzzer target for parse_challenge().
//
// Oracle, beyond "no crash, no read outside the input" (ASan, and the replayer's exactly sized
// buffer):
//   * an ok challenge obeys the documented limits and its views lie inside the input;
//   * re-serialising it canonically and parsing again gives the same challenge (a second,
//     independent path through the grammar: quoting, separators, case, parameter order);
//   * the Hasher accepts it and produces lowercase hex of the algorithm's length.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "regfront/auth/digest.h"

namespace {

using namespace regfront::auth;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool inside(std::string_view part, std::string_view whole) {
  if (part.empty()) return true;
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

std::string canonical(const Challenge& c) {
  std::string s = "Digest realm=\"";
  s.append(c.realm);
  s += "\", nonce=\"";
  s.append(c.nonce);
  s += "\"";
  if (c.opaque_present) {
    s += ", opaque=\"";
    s.append(c.opaque);
    s += "\"";
  }
  s += ", algorithm=";
  s.append(algorithm_name(c.algorithm));
  if (c.qop_mask) {
    const bool a = c.qop_mask & (1u << static_cast<unsigned>(Qop::auth));
    const bool i = c.qop_mask & (1u << static_cast<unsigned>(Qop::auth_int));
    s += ", qop=\"";
    s += a && i ? "auth,auth-int" : a ? "auth" : "auth-int";
    s += "\"";
  }
  if (c.stale) s += ", stale=true";
  if (c.userhash) s += ", userhash=true";
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Challenge c;
  if (parse_challenge(input, c) != ChallengeStatus::ok) return 0;

  check(inside(c.realm, input) && inside(c.nonce, input) && inside(c.opaque, input));
  check(c.realm.size() <= kMaxRealmLength);
  check(!c.nonce.empty() && c.nonce.size() <= kMaxNonceLength);
  check(c.opaque.size() <= kMaxOpaqueLength);
  for (char ch : c.nonce) check(ch != '"' && ch != '\\' && ch != '\r' && ch != '\n' && ch != 0);

  const std::string again = canonical(c);
  Challenge d;
  check(parse_challenge(again, d) == ChallengeStatus::ok);
  check(d.realm == c.realm && d.nonce == c.nonce && d.opaque == c.opaque &&
        d.opaque_present == c.opaque_present && d.algorithm == c.algorithm &&
        d.qop_mask == c.qop_mask && d.stale == c.stale && d.userhash == c.userhash);

  static Hasher hasher;
  const Hash h = base_hash(c.algorithm);
  const std::string ha1(hex_length(h), 'a');
  char out[kMaxHexLength];
  const std::size_t n = hasher.response(c.algorithm, ha1, c.nonce, "00000001", "0a4f113b",
                                        choose_qop(c), "REGISTER", "sip:registrar.example.com",
                                        {}, out);
  check(n == hex_length(h));
  for (std::size_t k = 0; k < n; ++k) {
    check((out[k] >= '0' && out[k] <= '9') || (out[k] >= 'a' && out[k] <= 'f'));
  }
  return 0;
}
