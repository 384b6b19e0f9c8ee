// Hasher, compute_ha1() and the algorithm helpers against tests/data/digest-vectors.txt
// (V1, V2, V3, V5a–V5g; expected values copied from the file, ids cited), plus a cross-check
// of every algorithm × qop against a straightforward reference built on one-shot EVP_Digest,
// and the no-allocation contract of response().
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alloc_hooks.h"
#include "regfront/auth/digest.h"

namespace regfront::auth {
namespace {

std::string hash_hex(Hasher& h, Hash which, std::string_view data) {
  char out[kMaxHexLength];
  return std::string(out, h.hash_hex(which, data, out));
}
std::string joined(Hasher& h, Hash which, std::initializer_list<std::string_view> parts) {
  char out[kMaxHexLength];
  return std::string(out, h.hash_joined_hex(which, parts, out));
}

struct Req {
  Algorithm alg;
  std::string_view ha1, nonce, nc, cnonce;
  Qop qop;
  std::string_view method, uri, body;
};
std::string response(Hasher& h, const Req& r) {
  char out[kMaxHexLength];
  const std::size_t n =
      h.response(r.alg, r.ha1, r.nonce, r.nc, r.cnonce, r.qop, r.method, r.uri, r.body, out);
  return std::string(out, n);
}

TEST(Algorithm, Helpers) {
  EXPECT_EQ(algorithm_name(Algorithm::md5), "MD5");
  EXPECT_EQ(algorithm_name(Algorithm::md5_sess), "MD5-sess");
  EXPECT_EQ(algorithm_name(Algorithm::sha256), "SHA-256");
  EXPECT_EQ(algorithm_name(Algorithm::sha256_sess), "SHA-256-sess");
  EXPECT_EQ(algorithm_name(Algorithm::sha512_256), "SHA-512-256");
  EXPECT_EQ(algorithm_name(Algorithm::sha512_256_sess), "SHA-512-256-sess");
  EXPECT_EQ(base_hash(Algorithm::sha256_sess), Hash::sha256);
  EXPECT_EQ(base_hash(Algorithm::sha512_256_sess), Hash::sha512_256);
  EXPECT_TRUE(is_sess(Algorithm::md5_sess));
  EXPECT_FALSE(is_sess(Algorithm::sha512_256));
  EXPECT_EQ(hex_length(Hash::md5), 32u);
  EXPECT_EQ(hex_length(Hash::sha256), 64u);
  EXPECT_EQ(hex_length(Hash::sha512_256), 64u);
}

TEST(Vectors, FileIsTheOneWeCopiedFrom) {
  // The expected values below are copied from this file; fail loudly if it changes under us.
  std::ifstream in(REGFRONT_TEST_DATA "/digest-vectors.txt");
  ASSERT_TRUE(in) << "missing " REGFRONT_TEST_DATA "/digest-vectors.txt";
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  for (const char* v : {"6629fae49393a05397450978507c4ef1", "8ca523f5e9506fed4657c9700eebdbec",
                        "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1",
                        "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5",
                        "29eb1af67f7a698d80eedd873a13332d", "97e61663120207015bc05bebfcc8ec38"}) {
    EXPECT_NE(text.find(v), std::string::npos) << v;
  }
}

TEST(Vectors, V1_Rfc2617Md5Auth) {
  Hasher h;
  const Ha1Set ha1 = compute_ha1("Mufasa", "testrealm@host.com", "Circle Of Life");
  EXPECT_EQ(ha1.for_algorithm(Algorithm::md5).view(), "939e7578ed9e3c518a452acee763bce9");
  EXPECT_EQ(joined(h, Hash::md5, {"GET", "/dir/index.html"}), "39aff3a2bab6126f332b942af96d3366");
  EXPECT_EQ(response(h, {Algorithm::md5, ha1.for_algorithm(Algorithm::md5).view(),
                         "dcd98b7102dd2f0e8b11d0f600bfb0c093", "00000001", "0a4f113b", Qop::auth,
                         "GET", "/dir/index.html", ""}),
            "6629fae49393a05397450978507c4ef1");
}

TEST(Vectors, V2_Rfc7616Md5AndSha256) {
  Hasher h;
  const Ha1Set ha1 = compute_ha1("Mufasa", "http-auth@example.org", "Circle of Life");
  const std::string_view nonce = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
  const std::string_view cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
  EXPECT_EQ(ha1.for_algorithm(Algorithm::md5).view(), "3d78807defe7de2157e2b0b6573a855f");
  EXPECT_EQ(response(h, {Algorithm::md5, ha1.for_algorithm(Algorithm::md5).view(), nonce,
                         "00000001", cnonce, Qop::auth, "GET", "/dir/index.html", ""}),
            "8ca523f5e9506fed4657c9700eebdbec");
  EXPECT_EQ(ha1.for_algorithm(Algorithm::sha256).view(),
            "7987c64c30e25f1b74be53f966b49b90f2808aa92faf9a00262392d7b4794232");
  EXPECT_EQ(joined(h, Hash::sha256, {"GET", "/dir/index.html"}),
            "9a3fdae9a622fe8de177c24fa9c070f2b181ec85e15dcbdc32e10c82ad450b04");
  EXPECT_EQ(response(h, {Algorithm::sha256, ha1.for_algorithm(Algorithm::sha256).view(), nonce,
                         "00000001", cnonce, Qop::auth, "GET", "/dir/index.html", ""}),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1");
}

// V3: RFC 7616 §3.9.2 with FIPS 180-4 SHA-512/256. The RFC's published values come from
// truncated SHA-512 (erratum 4897); we must produce the FIPS values and never the RFC ones.
constexpr std::string_view kV3User = "J\xc3\xa4s\xc3\xb8n Doe";
constexpr std::string_view kV3Realm = "api@example.org";
constexpr std::string_view kV3Nonce = "5TsQWLVdgBdmrQ0XsxbDODV+57QdFR34I9HAbC/RVvkK";
constexpr std::string_view kV3Cnonce = "NTg6RKcb9boFIAS3KrFK9BGeh+iDa/sm6jUMp2wds69v";

TEST(Vectors, V3_Sha512_256IsFipsNotTruncatedSha512) {
  Hasher h;
  const Ha1Set ha1 = compute_ha1(kV3User, kV3Realm, "Secret, or not?");
  const HexDigest fips_hex = ha1.for_algorithm(Algorithm::sha512_256);
  const std::string_view fips_ha1 = fips_hex.view();
  const std::string userhash = joined(h, Hash::sha512_256, {kV3User, kV3Realm});
  const std::string ha2 = joined(h, Hash::sha512_256, {"GET", "/doe.json"});
  const std::string resp = response(h, {Algorithm::sha512_256, fips_ha1, kV3Nonce, "00000001",
                                        kV3Cnonce, Qop::auth, "GET", "/doe.json", ""});

  EXPECT_EQ(userhash, "793263caabb707a56211940d90411ea4a575adeccb7e360aeb624ed06ece9b0b");
  EXPECT_EQ(fips_ha1, "2d3d9f12c9f3d30011259dc5fecee005ae24de40e3e1f61806d03e65f1e6024f");
  EXPECT_EQ(ha2, "1734b070bafdeb53ae52f93659427bb4bc545e2ef4d5e74ba247dad4861b4634");
  EXPECT_EQ(resp, "3798d4131c277846293534c3edc11bd8a5e4cdcbff78b05db9d95eeb1cec68a5");

  // Negative: the RFC's truncated-SHA-512 values.
  EXPECT_NE(userhash, "488869477bf257147b804c45308cd62ac4e25eb717b12b298c79e62dcea254ec");
  EXPECT_NE(fips_ha1, "5c6783001d858140bd16077dd8d4d3afaad20b9993c741f4cb675d057ff76c1b");
  EXPECT_NE(ha2, "cf84ec4b68e11a0c01c90b716ae92325750c123969b406bc6008193cc9175e82");
  EXPECT_NE(resp, "ae66e67d6b427bd3f120414a82e4acff38e8ecd9101d6c861229025f607a79dd");
}

// V5: derived SIP REGISTER vectors.
constexpr std::string_view kV5Nonce = "ea9c8e88df84f1cec4341ae6cbe5a359";
constexpr std::string_view kV5Uri = "sip:atlanta.example.com";

class V5 : public ::testing::Test {
 protected:
  Hasher h;
  Ha1Set ha1 = compute_ha1("alice", "atlanta.example.com", "s3cr3t pass");
  std::string run(Algorithm alg, Qop qop, std::string_view nc = "00000001") {
    return response(h, {alg, ha1.for_algorithm(alg).view(), kV5Nonce, nc, "0a4f113b", qop,
                        "REGISTER", kV5Uri, ""});
  }
};

TEST_F(V5, Ha1AndHa2) {
  EXPECT_EQ(ha1.hex(Hash::md5).view(), "0a1ddd142d4c3475dcd29d1defaee5aa");
  EXPECT_EQ(ha1.hex(Hash::sha256).view(),
            "68d8aaaa53869cfa79c865de0a70b88c54eaadcb6212ca95b417c86fb8594a8d");
  EXPECT_EQ(ha1.hex(Hash::sha512_256).view(),
            "29d5e15eaf29a37d37e9166743b6df84653e70d4945eea182718b79619825a2b");
  EXPECT_EQ(joined(h, Hash::md5, {"REGISTER", kV5Uri}), "29d4e618a9d0ca0ac6b3752f97985ed2");
  EXPECT_EQ(joined(h, Hash::sha256, {"REGISTER", kV5Uri}),
            "f578d4bfc26fc3a02342b4573a2e8a5ad441ca49e024ed21b08484a9c5a39487");
  EXPECT_EQ(joined(h, Hash::sha512_256, {"REGISTER", kV5Uri}),
            "e1f1ef63656aa6a4680325e5a12dde4d1e12756788631b31a98ffe230cd8ee88");
  // V5e HA2 for auth-int with an empty body, V5f session HA1.
  const std::string empty_md5 = hash_hex(h, Hash::md5, "");
  EXPECT_EQ(empty_md5, "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(joined(h, Hash::md5, {"REGISTER", kV5Uri, empty_md5}),
            "2d55db2c1b334351a1d846447e8b3a9d");
  EXPECT_EQ(joined(h, Hash::md5, {ha1.hex(Hash::md5).view(), kV5Nonce, "0a4f113b"}),
            "f2285bb18412af5163ce911be15998cc");
}
TEST_F(V5, a_Md5NoQop) { EXPECT_EQ(run(Algorithm::md5, Qop::none), "29eb1af67f7a698d80eedd873a13332d"); }
TEST_F(V5, b_Md5Auth) { EXPECT_EQ(run(Algorithm::md5, Qop::auth), "bca6beab4267799c923e39455ddeb389"); }
TEST_F(V5, c_Sha256Auth) {
  EXPECT_EQ(run(Algorithm::sha256, Qop::auth),
            "1daf30ce1d0542b87bea0cf2426697eaffaea942c5240db460084cf6b4e3f412");
}
TEST_F(V5, d_Sha512_256Auth) {
  EXPECT_EQ(run(Algorithm::sha512_256, Qop::auth),
            "0fe8d5f1a82b7ad0995f6f72f931f39d46d0334568b9c3e1420b7a28f8b6f8b5");
}
TEST_F(V5, e_Md5AuthIntEmptyBody) {
  EXPECT_EQ(run(Algorithm::md5, Qop::auth_int), "a93cfcf23c2896fb6cfecc39901b0b46");
}
TEST_F(V5, f_Md5SessAuth) {
  EXPECT_EQ(run(Algorithm::md5_sess, Qop::auth), "37a41cc7c869ceb118c25a1e964bdecf");
}
TEST_F(V5, g_NcChangesResponse) {
  EXPECT_EQ(run(Algorithm::md5, Qop::auth, "00000002"), "97e61663120207015bc05bebfcc8ec38");
}

TEST(Hasher, RejectsHa1OfTheWrongLength) {
  Hasher h;
  char out[kMaxHexLength];
  EXPECT_EQ(h.response(Algorithm::sha256, "0a1ddd142d4c3475dcd29d1defaee5aa", "n", "00000001",
                       "c", Qop::auth, "REGISTER", "sip:a", "", out),
            0u);
}

// --- independent reference ---------------------------------------------------------------

std::string ref_hash(Hash which, const std::string& data) {
  const EVP_MD* md = which == Hash::md5      ? EVP_md5()
                     : which == Hash::sha256 ? EVP_sha256()
                                             : EVP_sha512_256();
  unsigned char bin[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), bin, &n, md, nullptr);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < n; ++i) {
    hex += digits[bin[i] >> 4];
    hex += digits[bin[i] & 15];
  }
  return hex;
}

std::string ref_response(Algorithm alg, const std::string& user, const std::string& realm,
                         const std::string& pass, const std::string& nonce, const std::string& nc,
                         const std::string& cnonce, Qop qop, const std::string& method,
                         const std::string& uri, const std::string& body) {
  const Hash h = base_hash(alg);
  std::string ha1 = ref_hash(h, user + ":" + realm + ":" + pass);
  if (is_sess(alg)) ha1 = ref_hash(h, ha1 + ":" + nonce + ":" + cnonce);
  const std::string ha2 = qop == Qop::auth_int
                              ? ref_hash(h, method + ":" + uri + ":" + ref_hash(h, body))
                              : ref_hash(h, method + ":" + uri);
  if (qop == Qop::none) return ref_hash(h, ha1 + ":" + nonce + ":" + ha2);
  const std::string q = qop == Qop::auth ? "auth" : "auth-int";
  return ref_hash(h, ha1 + ":" + nonce + ":" + nc + ":" + cnonce + ":" + q + ":" + ha2);
}

constexpr Algorithm kAll[] = {Algorithm::md5,        Algorithm::md5_sess,
                              Algorithm::sha256,     Algorithm::sha256_sess,
                              Algorithm::sha512_256, Algorithm::sha512_256_sess};

TEST(Hasher, EveryAlgorithmAndQopMatchesReference) {
  Hasher h;
  const std::string user = "+4930123456", realm = "registrar.example.com", pass = "pw:with:colons";
  const std::string nonce = "Y2hhbGxlbmdlLW5vbmNlLTE3MDY4MDQxMjMtYWJjZGVm";
  const std::string body = std::string(3000, 'b') + "v=0\r\n";  // spans many blocks
  const Ha1Set set = compute_ha1(user, realm, pass);
  for (Algorithm alg : kAll) {
    EXPECT_EQ(set.for_algorithm(alg).view(), ref_hash(base_hash(alg), user + ":" + realm + ":" + pass));
    for (Qop qop : {Qop::none, Qop::auth, Qop::auth_int}) {
      for (const std::string& b : {std::string(), body}) {
        const std::string got =
            response(h, {alg, set.for_algorithm(alg).view(), nonce, "0000002a", "9f86d081884c7d65",
                         qop, "REGISTER", "sip:registrar.example.com", b});
        const std::string want =
            ref_response(alg, user, realm, pass, nonce, "0000002a", "9f86d081884c7d65", qop,
                         "REGISTER", "sip:registrar.example.com", b);
        EXPECT_EQ(got, want) << algorithm_name(alg) << " qop=" << static_cast<int>(qop)
                             << " body=" << b.size();
        EXPECT_EQ(got.size(), hex_length(base_hash(alg)));
        EXPECT_EQ(got.find_first_not_of("0123456789abcdef"), std::string::npos);
      }
    }
  }
}

TEST(Hasher, Ha2CacheNeverServesAStaleEntry) {
  // The Hasher remembers a few H(method ":" uri); rotate through more keys than it holds, with
  // keys that differ only in the method/uri split, in hash, and one too long to be cached.
  Hasher h;
  const std::string user = "alice", realm = "r", pass = "p", nonce = "abc";
  const Ha1Set set = compute_ha1(user, realm, pass);
  std::vector<std::pair<std::string, std::string>> keys = {
      {"REGISTER", "sip:a"}, {"REGISTE", "Rsip:a"}, {"INVITE", "sip:a"},
      {"REGISTER", "sip:" + std::string(300, 'x')}};
  for (int i = 0; i < 12; ++i) keys.emplace_back("REGISTER", "sip:reg" + std::to_string(i));
  for (int round = 0; round < 3; ++round) {
    for (std::size_t k = 0; k < keys.size(); ++k) {
      for (Algorithm alg : {Algorithm::md5, Algorithm::sha256, Algorithm::sha512_256_sess}) {
        const auto& [method, uri] = keys[(k * 7 + round) % keys.size()];
        EXPECT_EQ(response(h, {alg, set.for_algorithm(alg).view(), nonce, "00000001", "c",
                               Qop::auth, method, uri, ""}),
                  ref_response(alg, user, realm, pass, nonce, "00000001", "c", Qop::auth, method,
                               uri, ""))
            << method << " " << uri.substr(0, 20);
      }
    }
  }
}

TEST(Hasher, ResponseDoesNotAllocateAfterWarmUp) {
  ASSERT_TRUE(test::openssl_hooks_installed())
      << "CRYPTO_set_mem_functions must run before any OpenSSL allocation";
  Hasher h;
  const Ha1Set set = compute_ha1("alice", "atlanta.example.com", "s3cr3t pass");
  const std::string body(700, 'x');
  char out[kMaxHexLength];
  auto loop = [&] {
    for (Algorithm alg : kAll) {
      for (Qop qop : {Qop::none, Qop::auth, Qop::auth_int}) {
        h.response(alg, set.for_algorithm(alg).view(), kV5Nonce, "00000001", "0a4f113b", qop,
                   "REGISTER", kV5Uri, body, out);
      }
    }
  };
  loop();  // warm-up
  test::CountAllocations scope;
  for (int i = 0; i < 1000; ++i) loop();
  EXPECT_EQ(scope.counts().openssl, 0u);
  EXPECT_EQ(scope.counts().cxx, 0u);
}

TEST(Hasher, CountingHooksSeeOpenSslAllocations) {
  // Guards the test above against counting nothing at all.
  ASSERT_TRUE(test::openssl_hooks_installed());
  test::CountAllocations scope;
  EVP_MD_CTX_free(EVP_MD_CTX_new());
  { Hasher h; }
  EXPECT_GT(scope.counts().openssl, 0u);
  EXPECT_GT(scope.counts().cxx, 0u);
}

}  // namespace
}  // namespace regfront::auth
