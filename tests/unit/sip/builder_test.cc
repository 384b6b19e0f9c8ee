// The SIP builders (regfront/sip/builder.h): what a proxy forwards and what it writes itself,
// checked by parsing the output back. Every edit of Forward, the response, ACK and CANCEL forms,
// URI helpers, and refusal (0) when a message does not fit or an edit cannot be made.
#include "regfront/sip/builder.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "regfront/sip/message.h"

namespace regfront::sip {
namespace {

constexpr std::string_view kInvite =
    "INVITE sip:2125550123@192.0.2.1:5060 SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKcore1;rport, SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx\r\n"
    "Max-Forwards: 70\r\n"
    "From: \"Alice\" <sip:4085550100@10.0.0.5:5080;user=phone>;tag=ft1\r\n"
    "To: <sip:2125550123@192.0.2.1>\r\n"
    "Call-ID: c1@10.0.0.5\r\n"
    "CSeq: 100 INVITE\r\n"
    "Contact: <sip:4085550100@10.0.0.5:5080>\r\n"
    "Proxy-Authorization: Digest username=\"core\", realm=\"core.example\", nonce=\"n\", uri=\"sip:x\", response=\"0\"\r\n"
    "Content-Type: application/sdp\r\n"
    "Content-Length: 12\r\n"
    "\r\n"
    "v=0\r\no=- 1\r\n";

struct Parsed {
  std::string text;
  Header hs[kMaxHeaders];
  Message m;
  bool ok = false;
};

void parse_into(std::string_view s, Parsed& p) {
  p.text.assign(s);
  p.ok = parse(p.text, p.m, p.hs) == ParseStatus::ok;
}

std::vector<std::string_view> values(const Message& m, HeaderId id) {
  std::vector<std::string_view> v;
  for (std::uint16_t i = 0; i < m.header_count; ++i)
    if (m.headers[i].id == id) v.push_back(m.headers[i].value);
  return v;
}

TEST(Forward, RequestEditsAsAProxyMakesThem) {
  Parsed in;
  parse_into(kInvite, in);
  ASSERT_TRUE(in.ok);
  Forward f;
  f.request_uri = "sip:2125550123@provider.example";
  f.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrcX;rport";
  f.record_route = "<sip:192.0.2.1:5060;lr>";
  f.decrement_max_forwards = true;
  f.cseq_delta = 1;
  f.from_host = "sbc.example";
  f.drop_credentials = true;
  f.add_headers = "Proxy-Authorization: Digest username=\"4085550100\"\r\n";
  char out[kMaxBuilt];
  const std::size_t n = forward(in.m, out, sizeof out, f);
  ASSERT_GT(n, 0u);
  Parsed o;
  parse_into({out, n}, o);
  ASSERT_TRUE(o.ok) << o.text;
  EXPECT_EQ(o.m.method, "INVITE");
  EXPECT_EQ(o.m.request_uri, "sip:2125550123@provider.example");
  const auto vias = values(o.m, HeaderId::via);
  ASSERT_EQ(vias.size(), 2u);
  EXPECT_EQ(vias[0], "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrcX;rport") << "ours on top";
  EXPECT_EQ(o.m.first(HeaderId::record_route)->value, "<sip:192.0.2.1:5060;lr>");
  EXPECT_EQ(o.m.first(HeaderId::max_forwards)->value, "69");
  EXPECT_EQ(o.m.first(HeaderId::cseq)->value, "101 INVITE");
  EXPECT_EQ(o.m.first(HeaderId::from)->value, "\"Alice\" <sip:4085550100@sbc.example;user=phone>;tag=ft1");
  const auto creds = values(o.m, HeaderId::proxy_authorization);
  ASSERT_EQ(creds.size(), 1u) << "the caller's dropped, ours added";
  EXPECT_EQ(creds[0], "Digest username=\"4085550100\"");
  EXPECT_EQ(o.m.body, "v=0\r\no=- 1\r\n");
  EXPECT_EQ(o.m.first(HeaderId::call_id)->value, "c1@10.0.0.5");
}

TEST(Forward, ResponseLosesOurViaAndTheOffset) {
  const std::string resp =
      "SIP/2.0 200 OK\r\n"
      "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrcX;rport=5060\r\n"
      "Via: SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKcore1;rport\r\n"
      "From: <sip:4085550100@sbc.example>;tag=ft1\r\nTo: <sip:2125550123@p>;tag=tt\r\n"
      "Call-ID: c1\r\nCSeq: 102 INVITE\r\nContent-Length: 0\r\n\r\n";
  Parsed in;
  parse_into(resp, in);
  ASSERT_TRUE(in.ok);
  Forward f;
  f.pop_via = true;
  f.cseq_delta = -2;
  char out[kMaxBuilt];
  const std::size_t n = forward(in.m, out, sizeof out, f);
  Parsed o;
  parse_into({out, n}, o);
  ASSERT_TRUE(o.ok) << o.text;
  EXPECT_EQ(o.m.status, 200);
  EXPECT_EQ(values(o.m, HeaderId::via), (std::vector<std::string_view>{"SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKcore1;rport"}));
  EXPECT_EQ(o.m.first(HeaderId::cseq)->value, "100 INVITE");
}

TEST(Forward, PopsTheFirstElementOfACombinedHeader) {
  const std::string req =
      "BYE sip:a@10.0.0.5 SIP/2.0\r\nVia: SIP/2.0/UDP 1.1.1.1;branch=z9hG4bKa, SIP/2.0/UDP 2.2.2.2;branch=z9hG4bKb\r\n"
      "Route: <sip:192.0.2.1:5060;lr>, <sip:198.51.100.7;lr>\r\n"
      "From: <sip:x@y>;tag=1\r\nTo: <sip:a@b>;tag=2\r\nCall-ID: c\r\nCSeq: 5 BYE\r\nContent-Length: 0\r\n\r\n";
  Parsed in;
  parse_into(req, in);
  ASSERT_TRUE(in.ok);
  Forward f;
  f.pop_route = true;
  char out[kMaxBuilt];
  Parsed o;
  parse_into({out, forward(in.m, out, sizeof out, f)}, o);
  ASSERT_TRUE(o.ok) << o.text;
  EXPECT_EQ(o.m.first(HeaderId::route)->value, "<sip:198.51.100.7;lr>");
  Forward g;
  g.pop_via = true;
  parse_into({out, forward(in.m, out, sizeof out, g)}, o);
  EXPECT_EQ(o.m.first(HeaderId::via)->value, "SIP/2.0/UDP 2.2.2.2;branch=z9hG4bKb");
}

TEST(Forward, RefusesWhatCannotBeDone) {
  Parsed in;
  parse_into(kInvite, in);
  char out[kMaxBuilt];
  Forward f;
  f.cseq_delta = -101;  // below 0
  EXPECT_EQ(forward(in.m, out, sizeof out, f), 0u);
  f.cseq_delta = std::int64_t{1} << 31;  // beyond 2^31 - 1 (RFC 3261 §8.1.1.5)
  EXPECT_EQ(forward(in.m, out, sizeof out, f), 0u);
  EXPECT_EQ(forward(in.m, out, 100, Forward{}), 0u) << "does not fit";
  const std::string mf0 = std::string(kInvite).replace(std::string(kInvite).find("70"), 2, "0");
  Parsed z;
  parse_into(mf0, z);
  Forward d;
  d.decrement_max_forwards = true;
  EXPECT_EQ(forward(z.m, out, sizeof out, d), 0u) << "Max-Forwards 0 is the caller's to refuse (483)";
}

TEST(Forward, AddsMaxForwardsWhenAbsent) {
  const std::string req =
      "OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/UDP 1.1.1.1;branch=z9hG4bKa\r\nFrom: <sip:x@y>;tag=1\r\n"
      "To: <sip:a@b>\r\nCall-ID: c\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";
  Parsed in;
  parse_into(req, in);
  Forward f;
  f.decrement_max_forwards = true;
  char out[kMaxBuilt];
  Parsed o;
  parse_into({out, forward(in.m, out, sizeof out, f)}, o);
  ASSERT_TRUE(o.ok);
  EXPECT_EQ(o.m.first(HeaderId::max_forwards)->value, "69");
}

TEST(BuildResponse, CopiesTheTransactionHeadersAndTagsTheTo) {
  Parsed in;
  parse_into(kInvite, in);
  char out[kMaxBuilt];
  const std::size_t n = build_response(in.m, 404, "Not Found", "tag99", "Allow: INVITE\r\n", out, sizeof out);
  Parsed o;
  parse_into({out, n}, o);
  ASSERT_TRUE(o.ok) << o.text;
  EXPECT_EQ(o.m.status, 404);
  EXPECT_EQ(o.m.reason, "Not Found");
  EXPECT_EQ(values(o.m, HeaderId::via).size(), 1u);
  EXPECT_EQ(o.m.first(HeaderId::to)->value, "<sip:2125550123@192.0.2.1>;tag=tag99");
  EXPECT_EQ(o.m.first(HeaderId::cseq)->value, "100 INVITE");
  EXPECT_EQ(o.m.first(HeaderId::content_length)->value, "0");
  EXPECT_NE(o.text.find("Allow: INVITE\r\n"), std::string::npos);
  EXPECT_EQ(o.m.first(HeaderId::contact), nullptr);
  // 100 Trying carries no To tag (RFC 3261 §8.2.6.2).
  parse_into({out, build_response(in.m, 100, "Trying", "tag99", {}, out, sizeof out)}, o);
  EXPECT_EQ(o.m.first(HeaderId::to)->value, "<sip:2125550123@192.0.2.1>");
}

TEST(BuildAckAndCancel, FollowTheInviteTheyBelongTo) {
  Parsed invite;
  parse_into(kInvite, invite);
  const std::string resp =
      "SIP/2.0 407 Proxy Authentication Required\r\nVia: SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKcore1;rport\r\n"
      "From: \"Alice\" <sip:4085550100@10.0.0.5:5080;user=phone>;tag=ft1\r\nTo: <sip:2125550123@192.0.2.1>;tag=p1\r\n"
      "Call-ID: c1@10.0.0.5\r\nCSeq: 100 INVITE\r\nContent-Length: 0\r\n\r\n";
  Parsed r;
  parse_into(resp, r);
  char out[kMaxBuilt];
  Parsed ack;
  parse_into({out, build_ack(invite.m, r.m, out, sizeof out)}, ack);
  ASSERT_TRUE(ack.ok) << ack.text;
  EXPECT_EQ(ack.m.method, "ACK");
  EXPECT_EQ(ack.m.request_uri, invite.m.request_uri);
  EXPECT_EQ(values(ack.m, HeaderId::via), (std::vector<std::string_view>{"SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bKcore1;rport"}))
      << "the INVITE's top Via only: the same branch (§17.1.1.3)";
  EXPECT_EQ(ack.m.first(HeaderId::to)->value, "<sip:2125550123@192.0.2.1>;tag=p1");
  EXPECT_EQ(ack.m.first(HeaderId::cseq)->value, "100 ACK");
  Parsed cancel;
  parse_into({out, build_cancel(invite.m, out, sizeof out)}, cancel);
  ASSERT_TRUE(cancel.ok) << cancel.text;
  EXPECT_EQ(cancel.m.method, "CANCEL");
  EXPECT_EQ(cancel.m.first(HeaderId::to)->value, "<sip:2125550123@192.0.2.1>");
  EXPECT_EQ(cancel.m.first(HeaderId::cseq)->value, "100 CANCEL");
  EXPECT_TRUE(cancel.m.body.empty());
}

TEST(UriHelpers, UsersHostsAndTags) {
  EXPECT_EQ(header_uri("\"A\" <sip:1@h:5;user=phone>;tag=x"), "sip:1@h:5;user=phone");
  EXPECT_EQ(header_uri("sip:1@h;tag=x"), "sip:1@h");
  EXPECT_EQ(tag_of("<sip:1@h>;tag=abc;other=1"), "abc");
  EXPECT_EQ(tag_of("<sip:1@h;tag=inside>"), "") << "a URI parameter is not the header's tag";
  EXPECT_EQ(uri_user("sip:+14085550100@h:5060;user=phone"), "+14085550100");
  EXPECT_EQ(uri_user("sips:alice:secret@h"), "alice");
  EXPECT_EQ(uri_user("sip:h.example"), "");
  EXPECT_EQ(uri_hostport("sip:1@[2001:db8::1]:5070;transport=udp"), "[2001:db8::1]:5070");
  EXPECT_EQ(uri_hostport("sip:h.example?x=1"), "h.example");
  EXPECT_EQ(uri_hostport("tel:+1408"), "");
}

}  // namespace
}  // namespace regfront::sip
