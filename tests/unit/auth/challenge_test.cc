// parse_challenge(), choose_qop() and better_challenge(). Table-driven; the V6 rows are the
// parser inputs of tests/data/digest-vectors.txt. Every input and every truncated prefix of it
// is also parsed against an unreadable page, so a read past the view faults.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "alloc_hooks.h"
#include "regfront/auth/digest.h"

namespace regfront::auth {
namespace {

using S = ChallengeStatus;

const char* status_name(S s) {
  switch (s) {
    case S::ok: return "ok";
    case S::not_digest: return "not_digest";
    case S::malformed: return "malformed";
    case S::missing_realm: return "missing_realm";
    case S::missing_nonce: return "missing_nonce";
    case S::unsupported_algorithm: return "unsupported_algorithm";
    case S::unsupported_qop: return "unsupported_qop";
    case S::too_long: return "too_long";
  }
  return "?";
}

// Places `text` at the very end of a readable page followed by a PROT_NONE page.
class GuardedBuffer {
 public:
  GuardedBuffer() {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    size_ = 4 * page_;  // room for the 10 000-byte nonce row
    base_ = static_cast<char*>(
        mmap(nullptr, size_ + page_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    EXPECT_NE(base_, MAP_FAILED);
    EXPECT_EQ(mprotect(base_ + size_, page_, PROT_NONE), 0);
  }
  ~GuardedBuffer() { munmap(base_, size_ + page_); }
  std::string_view place(std::string_view text) {
    EXPECT_LE(text.size(), size_);
    char* dst = base_ + size_ - text.size();
    std::memcpy(dst, text.data(), text.size());
    return {dst, text.size()};
  }

 private:
  std::size_t page_ = 0;
  std::size_t size_ = 0;
  char* base_ = nullptr;
};

struct Row {
  const char* id;
  std::string input;
  S status;
};

std::vector<Row> v6_rows() {
  return {
      {"V6 minimal, no space after comma", R"(Digest realm="a",nonce="x")", S::ok},
      {"V6 no nonce", R"(Digest realm="a")", S::missing_nonce},
      {"V6 no realm", R"(Digest nonce="x")", S::missing_realm},
      {"V6 unterminated quote", R"(Digest realm="unterminated, nonce="x")", S::malformed},
      {"V6 empty nonce", R"(Digest realm="a", nonce="")", S::missing_nonce},
      {"V6 oversize nonce", "Digest realm=\"a\", nonce=\"" + std::string(10000, 'A') + "\"",
       S::too_long},
      {"V6 duplicate nonce", R"(Digest realm="a", nonce="x", nonce="y")", S::malformed},
      {"V6 SHA-1", R"(Digest realm="a", nonce="x", algorithm=SHA-1)", S::unsupported_algorithm},
      {"V6 quoted algorithm", R"(Digest realm="a", nonce="x", algorithm="MD5")", S::ok},
      {"V6 qop auth-int,auth", R"(Digest realm="a", nonce="x", qop="auth-int,auth")", S::ok},
      {"V6 unknown qop", R"(Digest realm="a", nonce="x", qop="token-we-dont-know")",
       S::unsupported_qop},
      {"V6 stale=TRUE", R"(Digest realm="a", nonce="x", stale=TRUE)", S::ok},
      {"V6 quoted-pair in realm", R"(Digest realm="a\"b", nonce="x")", S::malformed},
      {"V6 empty list elements", R"(Digest realm="a",,,,nonce="x")", S::ok},
      {"V6 LWS around = and ,", R"(Digest  realm = "a" , nonce = "x")", S::ok},
      {"V6 Basic", R"(Basic realm="a")", S::not_digest},
      {"V6 NTLM", "NTLM", S::not_digest},
      {"V6 Bearer", R"(Bearer realm="a")", S::not_digest},
      {"V6 folded continuation", "Digest realm=\"a\",\r\n nonce=\"x\"", S::ok},
      {"V6 NUL in quotes", std::string("Digest realm=\"a\", nonce=\"x") + '\0' + "y\"", S::malformed},
      {"V6 CR in quotes", "Digest realm=\"a\", nonce=\"x\ry\"", S::malformed},
      {"V6 LF in quotes", "Digest realm=\"a\", nonce=\"x\ny\"", S::malformed},
  };
}

std::vector<Row> more_rows() {
  return {
      {"Kamailio auth_challenge",
       R"(Digest realm="sip.example.net", nonce="ZbnGf2W5xVPl0cBa2cbjDVSZ97i7rJa6", qop="auth")",
       S::ok},
      {"Asterisk chan_pjsip",
       R"(Digest realm="asterisk",nonce="1706804123/0b7b3b5b9a2bd7a1e2f0c1d2e3f4a5b6",)"
       R"(opaque="7a3c0f2b1d6e4a58",algorithm=md5,qop="auth")",
       S::ok},
      {"OpenSIPS SHA-512-256",
       R"(Digest realm="opensips.org", nonce="Y2hhbGxlbmdlMQ==", qop="auth,auth-int", )"
       R"(algorithm=SHA-512-256)",
       S::ok},
      {"lower-case scheme and params", R"(digest REALM="a", Nonce="x")", S::ok},
      {"upper-case scheme", R"(DIGEST realm="a", nonce="x")", S::ok},
      {"unquoted token values", "Digest realm=a, nonce=x", S::ok},
      {"leading LWS", R"(   Digest realm="a", nonce="x")", S::ok},
      {"trailing comma", R"(Digest realm="a", nonce="x",)", S::ok},
      {"trailing CRLF", "Digest realm=\"a\", nonce=\"x\"\r\n", S::ok},
      {"tab separators", "Digest\trealm=\"a\",\tnonce=\"x\"", S::ok},
      {"fold before =", "Digest realm\r\n\t=\"a\", nonce=\"x\"", S::ok},
      {"fold right after scheme", "Digest\r\n realm=\"a\", nonce=\"x\"", S::ok},
      {"fold inside qop list", "Digest realm=\"a\", nonce=\"x\", qop=\"auth,\r\n auth-int\"",
       S::ok},
      {"fold inside nonce (would change the hash)", "Digest realm=\"a\", nonce=\"x\r\n y\"",
       S::malformed},
      {"CRLF without WSP between params", "Digest realm=\"a\",\r\nnonce=\"x\"", S::malformed},
      {"bare CR between params", "Digest realm=\"a\",\r nonce=\"x\"", S::malformed},
      {"quoted-pair in nonce", R"(Digest realm="a", nonce="x\y")", S::malformed},
      {"quoted-pair in opaque is kept escaped", R"(Digest realm="a", nonce="x", opaque="o\"p")",
       S::ok},
      {"quoted-pair in unknown param", R"(Digest realm="a", foo="b\"c", nonce="x")", S::ok},
      {"backslash at the end", R"(Digest realm="a", nonce="x\)", S::malformed},
      {"other CTL in quotes", "Digest realm=\"a\x01\", nonce=\"x\"", S::malformed},
      {"UTF-8 in realm", "Digest realm=\"r\xc3\xa9seau\", nonce=\"x\"", S::ok},
      {"duplicate realm", R"(Digest realm="a", realm="a", nonce="x")", S::malformed},
      {"duplicate algorithm", R"(Digest realm="a", nonce="x", algorithm=MD5, algorithm=MD5)",
       S::malformed},
      {"duplicate param, different case", R"(Digest realm="a", nonce="x", Nonce="y")",
       S::malformed},
      {"missing =", R"(Digest realm="a", nonce)", S::malformed},
      {"missing value", R"(Digest realm="a", nonce=)", S::malformed},
      {"junk after value", R"(Digest realm="a" nonce="x")", S::malformed},
      {"scheme glued to comma", R"(Digest,realm="a", nonce="x")", S::malformed},
      {"empty value", "", S::malformed},
      {"only spaces", "   ", S::malformed},
      {"Digest alone", "Digest", S::missing_realm},
      {"DigestX scheme", R"(DigestX realm="a", nonce="x")", S::not_digest},
      {"MD5-foo", R"(Digest realm="a", nonce="x", algorithm=MD5-foo)", S::unsupported_algorithm},
      {"empty algorithm", R"(Digest realm="a", nonce="x", algorithm="")",
       S::unsupported_algorithm},
      {"AKAv1-MD5", R"(Digest realm="a", nonce="x", algorithm=AKAv1-MD5)",
       S::unsupported_algorithm},
      {"empty qop", R"(Digest realm="a", nonce="x", qop="")", S::unsupported_qop},
      {"realm at limit", "Digest realm=\"" + std::string(kMaxRealmLength, 'r') + "\", nonce=\"x\"",
       S::ok},
      {"realm over limit",
       "Digest realm=\"" + std::string(kMaxRealmLength + 1, 'r') + "\", nonce=\"x\"",
       S::too_long},
      {"nonce at limit", "Digest realm=\"a\", nonce=\"" + std::string(kMaxNonceLength, 'n') + "\"",
       S::ok},
      {"opaque over limit",
       "Digest realm=\"a\", nonce=\"x\", opaque=\"" + std::string(kMaxOpaqueLength + 1, 'o') +
           "\"",
       S::too_long},
      {"empty realm is a realm", R"(Digest realm="", nonce="x")", S::ok},
  };
}

class ParseTable : public ::testing::TestWithParam<Row> {};

TEST_P(ParseTable, StatusAndEveryPrefixStaysInBounds) {
  const Row& row = GetParam();
  GuardedBuffer buf;
  Challenge c;
  EXPECT_EQ(status_name(parse_challenge(buf.place(row.input), c)), status_name(row.status))
      << row.id;
  // Truncated prefixes: any status is acceptable, a read past the end is not (it faults).
  for (std::size_t n = 0; n < row.input.size(); ++n) {
    parse_challenge(buf.place(std::string_view(row.input).substr(0, n)), c);
  }
}

INSTANTIATE_TEST_SUITE_P(V6, ParseTable, ::testing::ValuesIn(v6_rows()));
INSTANTIATE_TEST_SUITE_P(Field, ParseTable, ::testing::ValuesIn(more_rows()));

Challenge parse_ok(std::string_view text) {
  Challenge c;
  EXPECT_EQ(status_name(parse_challenge(text, c)), status_name(S::ok)) << text;
  return c;
}

TEST(ParseChallenge, ViewsPointIntoTheValueWithoutQuotes) {
  const std::string text =
      R"(Digest realm="asterisk",nonce="1706804123/0b7b",opaque="7a3c",algorithm=md5,qop="auth")";
  const Challenge c = parse_ok(text);
  EXPECT_EQ(c.realm, "asterisk");
  EXPECT_EQ(c.nonce, "1706804123/0b7b");
  EXPECT_TRUE(c.opaque_present);
  EXPECT_EQ(c.opaque, "7a3c");
  EXPECT_EQ(c.algorithm, Algorithm::md5);
  EXPECT_EQ(choose_qop(c), Qop::auth);
  EXPECT_FALSE(c.stale);
  EXPECT_GE(c.nonce.data(), text.data());
  EXPECT_LE(c.nonce.data() + c.nonce.size(), text.data() + text.size());
}

TEST(ParseChallenge, Defaults) {
  const Challenge c = parse_ok(R"(Digest realm="a", nonce="x")");
  EXPECT_EQ(c.algorithm, Algorithm::md5);  // RFC 2617 §3.2.1
  EXPECT_EQ(c.qop_mask, 0);
  EXPECT_EQ(choose_qop(c), Qop::none);  // RFC 2069 form
  EXPECT_FALSE(c.opaque_present);
  EXPECT_FALSE(c.stale);
  EXPECT_FALSE(c.userhash);
}

TEST(ParseChallenge, AlgorithmsCaseInsensitiveAndQuoted) {
  struct {
    const char* token;
    Algorithm alg;
  } cases[] = {
      {"MD5", Algorithm::md5},
      {"md5-SESS", Algorithm::md5_sess},
      {"\"SHA-256\"", Algorithm::sha256},
      {"sha-256-sess", Algorithm::sha256_sess},
      {"SHA-512-256", Algorithm::sha512_256},
      {"\"SHA-512-256-sess\"", Algorithm::sha512_256_sess},
  };
  for (const auto& k : cases) {
    const std::string text = std::string(R"(Digest realm="a", nonce="x", algorithm=)") + k.token;
    EXPECT_EQ(parse_ok(text).algorithm, k.alg) << text;
  }
}

TEST(ParseChallenge, QopMaskAndChoice) {
  // V6: qop="auth-int,auth" -> both offered, auth chosen.
  Challenge c = parse_ok(R"(Digest realm="a", nonce="x", qop="auth-int,auth")");
  EXPECT_EQ(c.qop_mask, (1u << static_cast<unsigned>(Qop::auth)) |
                            (1u << static_cast<unsigned>(Qop::auth_int)));
  EXPECT_EQ(choose_qop(c), Qop::auth);

  c = parse_ok(R"(Digest realm="a", nonce="x", qop="auth-int")");
  EXPECT_EQ(choose_qop(c), Qop::auth_int);
  c = parse_ok(R"(Digest realm="a", nonce="x", qop=" , AUTH-INT , foo ,")");
  EXPECT_EQ(choose_qop(c), Qop::auth_int);
  c = parse_ok(R"(Digest realm="a", nonce="x", qop=auth)");
  EXPECT_EQ(choose_qop(c), Qop::auth);
}

TEST(ParseChallenge, StaleAndUserhash) {
  EXPECT_TRUE(parse_ok(R"(Digest realm="a", nonce="x", stale=TRUE)").stale);  // V6
  EXPECT_TRUE(parse_ok(R"(Digest realm="a", nonce="x", stale="true")").stale);
  EXPECT_FALSE(parse_ok(R"(Digest realm="a", nonce="x", stale=false)").stale);
  EXPECT_FALSE(parse_ok(R"(Digest realm="a", nonce="x", stale=yes)").stale);
  EXPECT_TRUE(parse_ok(R"(Digest realm="a", nonce="x", userhash=true)").userhash);
}

TEST(ParseChallenge, FoldedValueIsWhitespace) {
  const Challenge c = parse_ok("Digest realm=\"a\",\r\n nonce=\"x\",\r\n\tqop=\"auth\"");
  EXPECT_EQ(c.realm, "a");
  EXPECT_EQ(c.nonce, "x");
  EXPECT_EQ(choose_qop(c), Qop::auth);
}

TEST(ParseChallenge, OpaqueQuotedPairKeptEscapedForEcho) {
  const Challenge c = parse_ok(R"(Digest realm="a", nonce="x", opaque="o\"p")");
  EXPECT_EQ(c.opaque, R"(o\"p)");
}

TEST(ParseChallenge, ErrorResetsOutput) {
  Challenge c = parse_ok(R"(Digest realm="a", nonce="x", stale=true)");
  EXPECT_NE(parse_challenge("Basic realm=\"b\"", c), S::ok);
  EXPECT_TRUE(c.realm.empty());
  EXPECT_FALSE(c.stale);
}

TEST(ParseChallenge, DoesNotAllocate) {
  const std::string big = "Digest realm=\"a\", nonce=\"" + std::string(10000, 'A') + "\"";
  const std::string good =
      R"(Digest realm="sip.example.net", nonce="ZbnGf2W5xVPl0cBa2cbjDVSZ97i7rJa6", qop="auth")";
  Challenge c;
  test::CountAllocations scope;
  for (int i = 0; i < 100; ++i) {
    parse_challenge(good, c);
    parse_challenge(big, c);
  }
  EXPECT_EQ(scope.counts().cxx, 0u);
  EXPECT_EQ(scope.counts().openssl, 0u);
}

// --- preference among several challenges ---------------------------------------------------

// What the engine does with the WWW-Authenticate headers of one response, top to bottom:
// skip those it cannot answer, keep the preferred one per better_challenge().
struct Picked {
  bool found = false;
  Challenge challenge;
  std::size_t index = 0;
};
Picked pick(const std::vector<std::string>& headers) {
  Picked best;
  for (std::size_t i = 0; i < headers.size(); ++i) {
    Challenge c;
    if (parse_challenge(headers[i], c) != S::ok) continue;
    if (!best.found || better_challenge(c, best.challenge)) {
      best = {true, c, i};
    }
  }
  return best;
}

TEST(BetterChallenge, OpenSipsThreeHeadersStrongestOnTop) {
  // V4: OpenSIPIt pattern, SHA-512-256 / SHA-256 / MD5 for one realm.
  const std::vector<std::string> headers = {
      R"(Digest realm="opensips.org", nonce="n1", qop="auth", algorithm=SHA-512-256)",
      R"(Digest realm="opensips.org", nonce="n2", qop="auth", algorithm=SHA-256)",
      R"(Digest realm="opensips.org", nonce="n3", qop="auth", algorithm=MD5)",
  };
  const Picked p = pick(headers);
  ASSERT_TRUE(p.found);
  EXPECT_EQ(p.index, 0u);
  EXPECT_EQ(p.challenge.algorithm, Algorithm::sha512_256);
  EXPECT_EQ(p.challenge.nonce, "n1");
}

TEST(BetterChallenge, StrongestWinsWhateverTheOrder) {
  const std::vector<std::string> headers = {
      R"(Digest realm="r", nonce="n1", algorithm=MD5)",
      R"(Digest realm="r", nonce="n2", algorithm=SHA-256)",
      R"(Digest realm="r", nonce="n3", algorithm=SHA-512-256-sess)",
  };
  EXPECT_EQ(pick(headers).index, 2u);
}

TEST(BetterChallenge, UnsupportedIsIgnoredNotAnsweredWithMd5) {
  // RFC 8760 §2.4: challenges we do not understand are ignored.
  const std::vector<std::string> headers = {
      R"(Digest realm="r", nonce="n1", algorithm=SHA-1)",
      R"(Digest realm="r", nonce="n2", algorithm=MD5)",
  };
  const Picked p = pick(headers);
  ASSERT_TRUE(p.found);
  EXPECT_EQ(p.index, 1u);
  EXPECT_FALSE(pick({R"(Digest realm="r", nonce="n1", algorithm=SHA-1)"}).found);
}

TEST(BetterChallenge, EqualStrengthKeepsTopmost) {
  const std::vector<std::string> headers = {
      R"(Digest realm="r", nonce="n1", algorithm=MD5-sess)",
      R"(Digest realm="r", nonce="n2", algorithm=MD5)",
      R"(Digest realm="r", nonce="n3", algorithm=SHA-256)",
      R"(Digest realm="r", nonce="n4", algorithm=SHA-256-sess)",
  };
  EXPECT_EQ(pick(headers).index, 2u);
  EXPECT_EQ(pick({headers[0], headers[1]}).index, 0u);
}

TEST(BetterChallenge, OtherRealmNeverReplaces) {
  Challenge md5 = parse_ok(R"(Digest realm="a", nonce="n1", algorithm=MD5)");
  Challenge sha = parse_ok(R"(Digest realm="b", nonce="n2", algorithm=SHA-256)");
  EXPECT_FALSE(better_challenge(sha, md5));
  EXPECT_FALSE(better_challenge(md5, sha));
}

}  // namespace
}  // namespace regfront::auth
