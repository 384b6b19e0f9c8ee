// build_register: the exact bytes of a REGISTER without and with (Proxy-)Authorization, and
// "0 when it does not fit" for every buffer size below the full length.
#include "regfront/reg/request.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace regfront::reg {
namespace {

RegisterRequest base_request() {
  RegisterRequest r;
  r.request_uri = "sip:reg.example.com";
  r.domain = "reg.example.com";
  r.via_host = "192.0.2.10:5062";
  r.contact_host = "192.0.2.10:5060";
  r.number = "+14085550100";
  r.branch = "z9hG4bKrf00000001000000020123456789abcdef";
  r.call_id = "0011223344556677-00000001-00";
  r.from_tag = "a1b2c3d4e5f6";
  r.cseq = 2;
  r.expires = 3600;
  r.user_agent = "regfront/0.1";
  return r;
}

const std::string kHead =
    "REGISTER sip:reg.example.com SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKrf00000001000000020123456789abcdef;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:+14085550100@reg.example.com>;tag=a1b2c3d4e5f6\r\n"
    "To: <sip:+14085550100@reg.example.com>\r\n"
    "Call-ID: 0011223344556677-00000001-00\r\n"
    "CSeq: 2 REGISTER\r\n"
    "Contact: <sip:+14085550100@192.0.2.10:5060>\r\n"
    "Expires: 3600\r\n";
const std::string kTail = "User-Agent: regfront/0.1\r\nContent-Length: 0\r\n\r\n";

std::string build(const RegisterRequest& r) {
  std::vector<char> buf(4096);
  const std::size_t n = build_register(r, buf.data(), buf.size());
  return std::string(buf.data(), n);
}

// Every capacity below the full length must give 0; the full length must give the request.
void expect_exact_fit(const RegisterRequest& r, const std::string& want) {
  for (std::size_t cap = 0; cap < want.size(); ++cap) {
    std::vector<char> buf(cap + 1);  // +1 so .data() is valid for cap 0
    ASSERT_EQ(build_register(r, buf.data(), cap), 0u) << "cap " << cap;
  }
  std::vector<char> buf(want.size());
  ASSERT_EQ(build_register(r, buf.data(), buf.size()), want.size());
  EXPECT_EQ(std::string(buf.data(), buf.size()), want);
}

TEST(BuildRegister, Plain) {
  const RegisterRequest r = base_request();
  const std::string want = kHead + kTail;
  EXPECT_EQ(build(r), want);
  expect_exact_fit(r, want);
}

TEST(BuildRegister, UnregisterAndNoUserAgent) {
  RegisterRequest r = base_request();
  r.expires = 0;
  r.cseq = 4294967295u;
  r.user_agent = {};
  std::string want = kHead;
  want.replace(want.find("CSeq: 2"), 7, "CSeq: 4294967295");
  want.replace(want.find("Expires: 3600"), 13, "Expires: 0");
  want += "Content-Length: 0\r\n\r\n";
  EXPECT_EQ(build(r), want);
  expect_exact_fit(r, want);
}

TEST(BuildRegister, AuthorizationNoQop) {
  AuthorizationFields a;
  a.username = "alice";
  a.realm = "reg.example.com";
  a.nonce = "abc123";
  a.uri = "sip:reg.example.com";
  a.response = "0123456789abcdef0123456789abcdef";
  a.algorithm = auth::Algorithm::md5;
  RegisterRequest r = base_request();
  r.auth = &a;
  const std::string want = kHead +
      "Authorization: Digest username=\"alice\", realm=\"reg.example.com\", nonce=\"abc123\", "
      "uri=\"sip:reg.example.com\", response=\"0123456789abcdef0123456789abcdef\", "
      "algorithm=MD5\r\n" + kTail;
  EXPECT_EQ(build(r), want);
  expect_exact_fit(r, want);
}

TEST(BuildRegister, AuthorizationQopOpaque) {
  AuthorizationFields a;
  a.username = "alice";
  a.realm = "reg.example.com";
  a.nonce = "n0nce";
  a.uri = "sip:reg.example.com";
  a.response = std::string_view("f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed");
  a.algorithm = auth::Algorithm::sha256;
  a.qop = auth::Qop::auth;
  a.cnonce = "0a1b2c3d4e5f6071";
  a.nc = "00000001";
  a.opaque = "op4que";
  a.opaque_present = true;
  RegisterRequest r = base_request();
  r.auth = &a;
  const std::string want = kHead +
      "Authorization: Digest username=\"alice\", realm=\"reg.example.com\", nonce=\"n0nce\", "
      "uri=\"sip:reg.example.com\", "
      "response=\"f00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeedf00dfeed\", "
      "algorithm=SHA-256, qop=auth, nc=00000001, cnonce=\"0a1b2c3d4e5f6071\", "
      "opaque=\"op4que\"\r\n" + kTail;
  EXPECT_EQ(build(r), want);
  expect_exact_fit(r, want);
}

TEST(BuildRegister, ProxyAuthorizationEmptyOpaqueAuthInt) {
  AuthorizationFields a;
  a.proxy = true;
  a.username = "bob";
  a.realm = "proxy.example";
  a.nonce = "x";
  a.uri = "sip:reg.example.com";
  a.response = "11111111111111111111111111111111";
  a.algorithm = auth::Algorithm::md5_sess;
  a.qop = auth::Qop::auth_int;
  a.cnonce = "cc";
  a.nc = "00000001";
  a.opaque_present = true;  // present but empty: echoed as ""
  RegisterRequest r = base_request();
  r.auth = &a;
  const std::string want = kHead +
      "Proxy-Authorization: Digest username=\"bob\", realm=\"proxy.example\", nonce=\"x\", "
      "uri=\"sip:reg.example.com\", response=\"11111111111111111111111111111111\", "
      "algorithm=MD5-sess, qop=auth-int, nc=00000001, cnonce=\"cc\", opaque=\"\"\r\n" + kTail;
  EXPECT_EQ(build(r), want);
  expect_exact_fit(r, want);
}

TEST(PutHex, LowNibblesLowercase) {
  char out[8];
  put_hex(0x1234abcdull, 8, out);
  EXPECT_EQ(std::string(out, 8), "1234abcd");
  put_hex(0xfff, 2, out);
  EXPECT_EQ(std::string(out, 2), "ff");
}

}  // namespace
}  // namespace regfront::reg
