// Tests of the SIP parser (dataplane/sip/parser.cc): RFC 4475 and RFC 5118 torture messages,
// every truncated prefix against an unreadable page, limits, framing and the value helpers.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "guarded_buffer.h"
#include "regfront/sip/message.h"

namespace regfront::sip {
namespace {

using testing::GuardedBuffer;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string rfc4475(const char* file) {
  return read_file(std::string(REGFRONT_TEST_DATA) + "/rfc4475/" + file);
}

// RFC 5118's archive is LF-only; its MANIFEST says: convert to CRLF (the wire form), add the
// missing empty line of the §4.10 pair and fix Content-Length of the SDP cases.
std::string rfc5118(const char* file) {
  const std::string raw = read_file(std::string(REGFRONT_TEST_DATA) + "/rfc5118/" + file);
  std::string out;
  for (char c : raw) {
    if (c == '\n') out += '\r';
    out += c;
  }
  std::size_t hdr_end = out.find("\r\n\r\n");
  if (hdr_end == std::string::npos) {
    out += "\r\n";
    hdr_end = out.find("\r\n\r\n");
  }
  const std::size_t body = out.size() - (hdr_end + 4);
  const std::size_t cl = out.find("Content-Length: ");
  if (cl != std::string::npos && cl < hdr_end) {
    const std::size_t eol = out.find("\r\n", cl);
    out.replace(cl, eol - cl, "Content-Length: " + std::to_string(body));
  }
  return out;
}

struct Parsed {
  ParseStatus status;
  Message msg;
  std::array<Header, kMaxHeaders> headers;
};

// Parses `text` placed against a guard page. The views stay valid until the next call on
// the same GuardedBuffer, so each test keeps its own buffer.
void parse_guarded(GuardedBuffer& buf, std::string_view text, Parsed& out) {
  const std::string_view placed = buf.place(text);
  out.status = parse(placed, out.msg, out.headers);
}

std::vector<const Header*> all(const Message& m, HeaderId id) {
  std::vector<const Header*> v;
  for (std::size_t i = 0; i < m.header_count; ++i) {
    if (m.headers[i].id == id) v.push_back(&m.headers[i]);
  }
  return v;
}

std::string_view value_of(const Message& m, HeaderId id) {
  const Header* h = m.first(id);
  return h ? h->value : std::string_view("<absent>");
}

std::string_view value_named(const Message& m, std::string_view name) {
  for (std::size_t i = 0; i < m.header_count; ++i) {
    if (iequals(m.headers[i].name, name)) return m.headers[i].value;
  }
  return "<absent>";
}

// ---- RFC 4475: one row per message, with what regfront does about it -----------------------

struct TortureCase {
  const char* file;
  ParseError error;        // none: parse() must succeed
  const char* method;      // request method, or nullptr for a response
  const char* uri;         // request URI (requests only)
  int status;              // status code (responses only)
  std::size_t body;        // body length when parse() succeeds
  const char* call_id;     // Call-ID value when parse() succeeds
  const char* regfront;    // what regfront does with it (documentation, shown on failure)
};

const TortureCase kRfc4475[] = {
    // §3.1.1 valid
    {"wsinv.dat", ParseError::none, "INVITE", "sip:vivekg@chair-dnrc.example.com;unknownparam", 0,
     150, "wsinv.ndaksdj@192.0.2.1", "parses; folding, LWS before colons, compact forms"},
    {"intmeth.dat", ParseError::none, "!interesting-Method0123456789_*+`.%indeed'~",
     "sip:1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*:&it+has=1,weird!*pas$wo~d_too.(doesn't-"
     "it)@example.com",
     0, 0, "intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{", "parses"},
    {"esc01.dat", ParseError::none, "INVITE", "sip:sips%3Auser%40example.com@example.net", 0, 150,
     "esc01.239409asdfakjkn23onasd0-3234", "parses; escapes kept as written"},
    {"escnull.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "escnull.39203ndfvkjdasfkq3w4otrq0adsfdfnavd", "parses; %00 is just text in a view"},
    {"esc02.dat", ParseError::none, "RE%47IST%45R", "sip:registrar.example.com", 0, 0,
     "esc02.asdfnqwo34rq23i34jrjasdcnl23nrlknsdf", "parses; method is not REGISTER"},
    {"lwsdisp.dat", ParseError::none, "OPTIONS", "sip:user@example.com", 0, 0,
     "lwsdisp.1234abcd@funky.example.com", "parses"},
    {"longreq.dat", ParseError::none, "INVITE", "sip:user@example.com", 0, 150, nullptr,
     "parses; 34 Via fields, long values"},
    {"dblreq.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "dblreq.0ha0isndaksdj99sdfafnl3lk233412", "REGISTER parsed, trailing INVITE ignored"},
    {"semiuri.dat", ParseError::none, "OPTIONS", "sip:user;par=u%40example.net@example.com", 0, 0,
     "semiuri.0ha0isndaksdj", "parses"},
    {"transports.dat", ParseError::none, "OPTIONS", "sip:user@example.com", 0, 0,
     "transports.kijh4akdnaqjkwendsasfdj", "parses; any transport token"},
    {"mpart01.dat", ParseError::none, "MESSAGE", "sip:kumiko@example.org", 0, 553,
     "3d9485ad0c49859b@Zmx1ZmZ5LW1hYy0xNi5sb2NhbA..", "parses; binary body untouched"},
    {"unreason.dat", ParseError::none, nullptr, nullptr, 200, 154,
     "unreason.1234ksdfak3j2erwedfsASdf", "parses; UTF-8 reason"},
    {"noreason.dat", ParseError::none, nullptr, nullptr, 100, 0, "noreason.asndj203insdf99223ndf",
     "parses; empty reason"},
    // §3.1.2 invalid
    {"badinv01.dat", ParseError::none, "INVITE", "sip:user@example.com", 0, 152,
     "badinv01.0ha0isndaksdjasdf3234nas", "parses; parse_via and next_param reject the values"},
    {"clerr.dat", ParseError::body_truncated, "INVITE", nullptr, 0, 0, nullptr, "dropped"},
    {"ncl.dat", ParseError::content_length, "INVITE", nullptr, 0, 0, nullptr, "dropped"},
    {"scalar02.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "scalar02.23o0pd9vanlq3wnrlnewofjas9ui32", "parses; parse_cseq/parse_delta_seconds reject"},
    {"scalarlg.dat", ParseError::none, nullptr, nullptr, 503, 0,
     "scalarlg.noase0of0234hn2qofoaf0232aewf2394r", "parses; parse_cseq/Retry-After reject"},
    {"quotbal.dat", ParseError::none, "INVITE", "sip:user@example.com", 0, 152, "quotbal.aksdj",
     "parses; parse_name_addr rejects To"},
    {"ltgtruri.dat", ParseError::start_line, "INVITE", nullptr, 0, 0, nullptr, "dropped"},
    {"lwsruri.dat", ParseError::start_line, "INVITE", nullptr, 0, 0, nullptr, "dropped"},
    {"lwsstart.dat", ParseError::start_line, "INVITE", nullptr, 0, 0, nullptr, "dropped"},
    {"trws.dat", ParseError::start_line, "OPTIONS", nullptr, 0, 0, nullptr, "dropped"},
    {"escruri.dat", ParseError::none, "INVITE", "sip:user@example.com?Route=%3Csip:example.com%3E",
     0, 150, "escruri.23940-asdfhj-aje3br-234q098w-fawerh2q-h4n5",
     "parses; URI opaque, escaped headers never become headers"},
    {"baddate.dat", ParseError::none, "INVITE", "sip:user@example.com", 0, 150,
     "baddate.239423mnsadf3j23lj42--sedfnm234", "parses; Date is never read"},
    {"regbadct.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "regbadct.k345asrl3fdbv@10.0.0.1", "parses; parse_name_addr rejects Contact"},
    {"badaspec.dat", ParseError::none, "OPTIONS", "sip:user@example.org", 0, 0,
     "badaspec.sdf0234n2nds0a099u23h3hnnw009cdkne3", "parses; parse_name_addr rejects To"},
    {"baddn.dat", ParseError::truncated, "OPTIONS", nullptr, 0, 0, nullptr,
     "no empty line in the archive: truncated; parse_name_addr rejects From too"},
    {"badvers.dat", ParseError::version, "OPTIONS", nullptr, 0, 0, nullptr, "505 material"},
    {"mismatch01.dat", ParseError::none, "OPTIONS", "sip:user@example.com", 0, 0,
     "mismatch01.dj0234sxdfl3", "parses; CSeq method != method (engine drops)"},
    {"mismatch02.dat", ParseError::none, "NEWMETHOD", "sip:user@example.com", 0, 138,
     "mismatch02.dj0234sxdfl3", "parses; CSeq method != method (engine drops)"},
    {"bigcode.dat", ParseError::status_code, nullptr, nullptr, 0, 0, nullptr, "dropped"},
    // §3.2 transaction layer
    {"badbranch.dat", ParseError::none, "OPTIONS", "sip:user@example.com", 0, 0,
     "badbranch.sadonfo23i420jv0as0derf3j3n", "parses; branch is the bare magic cookie"},
    // §3.3 application layer
    {"insuf.dat", ParseError::none, "INVITE", "sip:user@example.com", 0, 152, nullptr,
     "parses; Call-ID/From/To absent (engine drops)"},
    {"unkscm.dat", ParseError::none, "OPTIONS", "nobodyKnowsThisScheme:totallyopaquecontent", 0, 0,
     "unkscm.nasdfasser0q239nwsdfasdkl34", "parses"},
    {"novelsc.dat", ParseError::none, "OPTIONS", "soap.beep://192.0.2.103:3002", 0, 0,
     "novelsc.asdfasser0q239nwsdfasdkl34", "parses"},
    {"unksm2.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "unksm2.daksdj@hyphenated-host.example.com", "parses"},
    {"bext01.dat", ParseError::none, "OPTIONS", "sip:user@example.com", 0, 0, "bext01.0ha0isndaksdj",
     "parses"},
    {"invut.dat", ParseError::none, "INVITE", "sip:user@example.com", 0, 40,
     "invut.0ha0isndaksdjadsfij34n23d", "parses"},
    {"regaut01.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0, "regaut01.0ha0isndaksdj",
     "parses"},
    {"multi01.dat", ParseError::none, "INVITE", "sip:user@company.com", 0, 154,
     "multi01.98asdh@192.0.2.1", "parses; duplicates visible (engine drops)"},
    {"mcl01.dat", ParseError::content_length, "OPTIONS", nullptr, 0, 0, nullptr, "dropped"},
    {"bcast.dat", ParseError::none, nullptr, nullptr, 200, 154,
     "bcast.0384840201234ksdfak3j2erwedfsASdf", "parses"},
    {"zeromf.dat", ParseError::none, "OPTIONS", "sip:user@example.com", 0, 0, nullptr, "parses"},
    {"cparam01.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "cparam01.70710@saturn.example.com", "parses"},
    {"cparam02.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "cparam02.70710@saturn.example.com", "parses"},
    {"regescrt.dat", ParseError::none, "REGISTER", "sip:example.com", 0, 0,
     "regescrt.k345asrl3fdbv@192.0.2.1", "parses"},
    {"sdp01.dat", ParseError::none, "INVITE", "sip:user@example.com", 0, 150, "sdp01.ndaksdj9342dasdd",
     "parses"},
    // §3.4 backward compatibility
    {"inv2543.dat", ParseError::none, "INVITE", "sip:UserB@example.com", 0, 105,
     "inv2543.1717@ift.client.example.com", "parses; no Content-Length: body to end of datagram"},
    // In the archive, referenced by no section: no SIP-Version in the request line.
    {"test.dat", ParseError::start_line, nullptr, nullptr, 0, 0, nullptr, "dropped"},
};

TEST(Rfc4475, EveryMessageAsTabled) {
  GuardedBuffer buf(8192);
  auto parsed = std::make_unique<Parsed>();
  for (const TortureCase& c : kRfc4475) {
    SCOPED_TRACE(std::string(c.file) + ": " + c.regfront);
    const std::string text = rfc4475(c.file);
    ASSERT_FALSE(text.empty());
    parse_guarded(buf, text, *parsed);
    const Message& m = parsed->msg;
    if (c.error != ParseError::none) {
      EXPECT_EQ(parsed->status, ParseStatus::error);
      EXPECT_EQ(static_cast<int>(m.error), static_cast<int>(c.error));
      continue;
    }
    ASSERT_EQ(parsed->status, ParseStatus::ok) << static_cast<int>(m.error);
    EXPECT_EQ(m.error, ParseError::none);
    EXPECT_EQ(m.is_request, c.method != nullptr);
    if (c.method) {
      EXPECT_EQ(m.method, c.method);
      EXPECT_EQ(m.request_uri, c.uri);
    } else {
      EXPECT_EQ(m.status, c.status);
    }
    EXPECT_EQ(m.body.size(), c.body);
    if (c.call_id) {
      EXPECT_EQ(value_of(m, HeaderId::call_id), c.call_id);
    }
    EXPECT_LE(m.consumed, text.size());
    EXPECT_EQ(m.body.data() + m.body.size(), buf.place("").data() - text.size() + m.consumed);
  }
}

// Per-message details beyond the table.
class Rfc4475Detail : public ::testing::Test {
 protected:
  const Message& load(const char* file) {
    text_ = rfc4475(file);
    parse_guarded(buf_, text_, *p_);
    EXPECT_EQ(p_->status, ParseStatus::ok) << file << " " << static_cast<int>(p_->msg.error);
    return p_->msg;
  }
  std::string text_;
  GuardedBuffer buf_{8192};
  std::unique_ptr<Parsed> p_ = std::make_unique<Parsed>();
};

TEST_F(Rfc4475Detail, Wsinv) {
  const Message& m = load("wsinv.dat");
  CSeq cseq;
  ASSERT_TRUE(parse_cseq(value_of(m, HeaderId::cseq), cseq));  // "0009\r\n  INVITE"
  EXPECT_EQ(cseq.number, 9u);
  EXPECT_EQ(cseq.method, "INVITE");
  EXPECT_EQ(value_of(m, HeaderId::max_forwards), "0068");
  EXPECT_EQ(value_of(m, HeaderId::content_length), "150");
  EXPECT_EQ(value_named(m, "s"), "");
  EXPECT_EQ(value_named(m, "NewFangledHeader"), "newfangled value\r\n continued newfangled value");
  EXPECT_EQ(value_named(m, "UnknownHeaderWithUnusualValue"), ";;,,;;,;");
  const auto vias = all(m, HeaderId::via);
  ASSERT_EQ(vias.size(), 2u);
  Via via;
  std::size_t pos = 0;
  std::string_view el;
  ASSERT_TRUE(next_list_element(vias[0]->value, pos, el));
  ASSERT_TRUE(parse_via(el, via));
  EXPECT_EQ(via.sent_by, "192.0.2.2");
  EXPECT_EQ(via.branch, "390skdjuw");
  EXPECT_FALSE(next_list_element(vias[0]->value, pos, el));
  pos = 0;
  std::vector<std::string_view> branches;
  while (next_list_element(vias[1]->value, pos, el)) {
    ASSERT_TRUE(parse_via(el, via)) << el;
    branches.push_back(via.branch);
  }
  ASSERT_EQ(branches.size(), 2u);
  EXPECT_EQ(branches[0], "z9hG4bK9ikj8");
  EXPECT_EQ(branches[1], "z9hG4bK30239");
  EXPECT_EQ(via.sent_by, "192.168.255.111");
  NameAddr na;
  ASSERT_TRUE(parse_name_addr(value_of(m, HeaderId::to), na));
  EXPECT_EQ(na.uri, "sip:vivekg@chair-dnrc.example.com");
  ASSERT_TRUE(parse_name_addr(value_of(m, HeaderId::from), na));
  EXPECT_EQ(na.display, "\"J Rosenberg \\\\\\\"\"");
  EXPECT_EQ(unquote(na.display), "J Rosenberg \\\\\\\"");
  EXPECT_EQ(na.uri, "sip:jdrosen@example.com");
  std::string_view name, value;
  pos = 0;
  ASSERT_TRUE(next_param(na.params, pos, name, value));
  EXPECT_EQ(name, "tag");
  EXPECT_EQ(value, "98asjd8");
  ASSERT_TRUE(parse_name_addr(value_of(m, HeaderId::contact), na));
  EXPECT_EQ(na.display, "\"Quoted string \\\"\\\"\"");
  pos = 0;
  std::vector<std::pair<std::string_view, std::string_view>> params;
  while (next_param(na.params, pos, name, value)) params.emplace_back(name, value);
  EXPECT_EQ(pos, na.params.size());
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0].first, "newparam");
  EXPECT_EQ(params[0].second, "newvalue");
  EXPECT_EQ(params[1].first, "secondparam");
  EXPECT_EQ(params[1].second, "");
  EXPECT_EQ(params[2].second, "0.33");
}

TEST_F(Rfc4475Detail, IntmethAndEscapes) {
  const Message& m = load("intmeth.dat");
  CSeq cseq;
  ASSERT_TRUE(parse_cseq(value_of(m, HeaderId::cseq), cseq));
  EXPECT_EQ(cseq.method, m.method);
  NameAddr na;
  ASSERT_TRUE(parse_name_addr(value_of(m, HeaderId::to), na));  // NUL/BEL/DEL as quoted-pairs
  EXPECT_EQ(na.display.size(), 22u);
  ASSERT_TRUE(parse_name_addr(value_of(m, HeaderId::from), na));
  EXPECT_EQ(na.display, "token1~` token2'+_ token3*%!.-");
  EXPECT_EQ(na.uri, "sip:mundane@example.com");
  std::size_t pos = 0;
  std::string_view name, value;
  ASSERT_TRUE(next_param(na.params, pos, name, value));
  EXPECT_EQ(name, "fromParam''~+*_!.-%");
  ASSERT_TRUE(next_param(na.params, pos, name, value));
  EXPECT_EQ(name, "tag");
  EXPECT_EQ(value, "_token~1'+`*%!-.");

  const Message& e = load("esc02.dat");
  EXPECT_EQ(all(e, HeaderId::contact).size(), 2u);  // "C%6Fntact" is not Contact
  ASSERT_TRUE(parse_name_addr(value_of(e, HeaderId::to), na));
  EXPECT_EQ(unquote(na.display), "%Z%45");

  const Message& n = load("escnull.dat");
  const auto contacts = all(n, HeaderId::contact);
  ASSERT_EQ(contacts.size(), 2u);
  ASSERT_TRUE(parse_name_addr(contacts[1]->value, na));
  EXPECT_EQ(na.uri, "sip:%00%00@host5.example.com");
  EXPECT_EQ(value_of(n, HeaderId::content_length), "0");  // "L:0"
}

TEST_F(Rfc4475Detail, LongreqDblreqTransports) {
  const Message& m = load("longreq.dat");
  EXPECT_EQ(all(m, HeaderId::via).size(), 34u);
  Via via;
  ASSERT_TRUE(parse_via(all(m, HeaderId::via).back()->value, via));
  EXPECT_EQ(via.received, "192.0.2.5");
  EXPECT_GT(via.branch.size(), 100u);

  const Message& d = load("dblreq.dat");
  EXPECT_EQ(d.consumed, 300u);
  EXPECT_LT(d.consumed, text_.size());  // the INVITE after it is ignored

  const Message& t = load("transports.dat");
  const char* protos[] = {"SIP/2.0/UDP", "SIP/2.0/SCTP", "SIP/2.0/TLS", "SIP/2.0/UNKNOWN",
                          "SIP/2.0/TCP"};
  const auto vias = all(t, HeaderId::via);
  ASSERT_EQ(vias.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(parse_via(vias[i]->value, via));
    EXPECT_EQ(via.protocol, protos[i]);
  }
}

TEST_F(Rfc4475Detail, SemanticInvalidOnesAreCaughtByHelpers) {
  // badinv01: Via ";;,;,," and Contact ";;;;" (§3.1.2.1).
  const Message& b = load("badinv01.dat");
  std::size_t pos = 0;
  std::string_view el;
  Via via;
  int elements = 0, good = 0;
  while (next_list_element(value_of(b, HeaderId::via), pos, el)) {
    ++elements;
    good += parse_via(el, via) ? 1 : 0;
  }
  EXPECT_EQ(elements, 2);
  EXPECT_EQ(good, 0);
  NameAddr na;
  ASSERT_TRUE(parse_name_addr(value_of(b, HeaderId::contact), na));
  std::string_view name, value;
  pos = 0;
  EXPECT_FALSE(next_param(na.params, pos, name, value));
  EXPECT_LT(pos, na.params.size());  // malformed, not merely the end

  // scalar02 (§3.1.2.4): overlarge CSeq, Expires and contact expires.
  const Message& s = load("scalar02.dat");
  CSeq cseq;
  std::uint32_t secs = 7;
  EXPECT_FALSE(parse_cseq(value_of(s, HeaderId::cseq), cseq));
  EXPECT_FALSE(parse_delta_seconds(value_of(s, HeaderId::expires), secs));
  ASSERT_TRUE(parse_name_addr(value_of(s, HeaderId::contact), na));
  pos = 0;
  ASSERT_TRUE(next_param(na.params, pos, name, value));
  EXPECT_EQ(name, "expires");
  EXPECT_FALSE(parse_delta_seconds(value, secs));
  EXPECT_TRUE(parse_delta_seconds(value_of(s, HeaderId::max_forwards), secs));
  EXPECT_EQ(secs, 300u);  // > 255: Max-Forwards is not used by a UA client

  // scalarlg (§3.1.2.5): a response the engine discards.
  const Message& l = load("scalarlg.dat");
  EXPECT_FALSE(parse_cseq(value_of(l, HeaderId::cseq), cseq));
  EXPECT_FALSE(parse_delta_seconds(value_of(l, HeaderId::retry_after), secs));
  ASSERT_TRUE(parse_via(value_of(l, HeaderId::via), via));
  EXPECT_EQ(via.received, "192.0.2.129");

  // quotbal (§3.1.2.6), regbadct (§3.1.2.13), badaspec (§3.1.2.14).
  EXPECT_FALSE(parse_name_addr(value_of(load("quotbal.dat"), HeaderId::to), na));
  EXPECT_FALSE(parse_name_addr(value_of(load("regbadct.dat"), HeaderId::contact), na));
  const Message& a = load("badaspec.dat");
  EXPECT_FALSE(parse_name_addr(value_of(a, HeaderId::to), na));
  ASSERT_TRUE(parse_name_addr(value_of(a, HeaderId::from), na));
  EXPECT_EQ(unquote(na.display), "Bell, Alexander");

  // mismatch01/02 (§3.1.2.17/18): CSeq method differs from the request method.
  const Message& m1 = load("mismatch01.dat");
  ASSERT_TRUE(parse_cseq(value_of(m1, HeaderId::cseq), cseq));
  EXPECT_NE(cseq.method, m1.method);
  const Message& m2 = load("mismatch02.dat");
  ASSERT_TRUE(parse_cseq(value_of(m2, HeaderId::cseq), cseq));
  EXPECT_EQ(cseq.method, "INVITE");
  EXPECT_NE(cseq.method, m2.method);

  // insuf (§3.3.1), multi01 (§3.3.8): visible to the engine, which drops them.
  const Message& i = load("insuf.dat");
  EXPECT_EQ(i.first(HeaderId::call_id), nullptr);
  EXPECT_EQ(i.first(HeaderId::from), nullptr);
  EXPECT_EQ(i.first(HeaderId::to), nullptr);
  const Message& mu = load("multi01.dat");
  EXPECT_EQ(all(mu, HeaderId::cseq).size(), 2u);
  EXPECT_EQ(all(mu, HeaderId::call_id).size(), 2u);
  EXPECT_EQ(all(mu, HeaderId::from).size(), 2u);

  // badbranch (§3.2.1): branch is the cookie alone.
  ASSERT_TRUE(parse_via(value_of(load("badbranch.dat"), HeaderId::via), via));
  EXPECT_EQ(via.branch, "z9hG4bK");

  // cparam01/02 (§3.3.12/13): header param vs URI param.
  ASSERT_TRUE(parse_name_addr(value_of(load("cparam01.dat"), HeaderId::contact), na));
  EXPECT_EQ(na.uri, "sip:+19725552222@gw1.example.net");
  EXPECT_EQ(na.params, "unknownparam");
  ASSERT_TRUE(parse_name_addr(value_of(load("cparam02.dat"), HeaderId::contact), na));
  EXPECT_EQ(na.uri, "sip:+19725552222@gw1.example.net;unknownparam");
  EXPECT_EQ(na.params, "");
  // regescrt (§3.3.14): escaped header kept inside the Contact URI.
  ASSERT_TRUE(parse_name_addr(value_of(load("regescrt.dat"), HeaderId::contact), na));
  EXPECT_EQ(na.uri, "sip:user@example.com?Route=%3Csip:sip.example.com%3E");
  // lwsdisp (§3.1.1.6)
  ASSERT_TRUE(parse_name_addr(value_of(load("lwsdisp.dat"), HeaderId::from), na));
  EXPECT_EQ(na.display, "caller");
  EXPECT_EQ(na.uri, "sip:caller@example.com");
}

TEST(Rfc4475, BaddnWithItsEmptyLineRestored) {
  // The archive's baddn.dat lacks the empty line; with it the message parses and the
  // unquoted display name with a comma is rejected by parse_name_addr (§3.1.2.15).
  const std::string text = rfc4475("baddn.dat") + "\r\n";
  GuardedBuffer buf(text.size());
  auto p = std::make_unique<Parsed>();
  parse_guarded(buf, text, *p);
  ASSERT_EQ(p->status, ParseStatus::ok);
  NameAddr na;
  EXPECT_FALSE(parse_name_addr(value_of(p->msg, HeaderId::from), na));
  EXPECT_FALSE(parse_name_addr(value_of(p->msg, HeaderId::to), na));
}

// ---- RFC 5118 ---------------------------------------------------------------------------------

TEST(Rfc5118, AllParse) {
  GuardedBuffer buf(8192);
  auto p = std::make_unique<Parsed>();
  struct Row {
    const char* file;
    const char* uri;
  };
  // ipv6-bad (§4.2) parses too: the Request-URI is opaque to the parser; regfront never acts
  // on a received request's URI.
  const Row rows[] = {
      {"ipv6-good", "sip:[2001:db8::10]"},
      {"ipv6-bad", "sip:2001:db8::10"},
      {"port-ambiguous", "sip:[2001:db8::10:5070]"},
      {"port-unambiguous", "sip:[2001:db8::10]:5070"},
      {"via-received-param-with-delim", "sip:[2001:db8::10]"},
      {"via-received-param-no-delim", "sip:[2001:db8::10]"},
      {"ipv6-in-sdp", "sip:user@[2001:db8::10]"},
      {"mult-ip-in-header", "sip:user@host.example.net"},
      {"mult-ip-in-sdp", "sip:user@[2001:db8::10]"},
      {"ipv4-mapped-ipv6", "sip:user@example.com"},
      {"ipv6-bug-abnf-3-colons", "sip:user@[2001:db8:::192.0.2.1]"},
      {"ipv6-correct-abnf-2-colons", "sip:user@[2001:db8::192.0.2.1]"},
  };
  for (const Row& r : rows) {
    SCOPED_TRACE(r.file);
    const std::string text = rfc5118(r.file);
    parse_guarded(buf, text, *p);
    ASSERT_EQ(p->status, ParseStatus::ok) << static_cast<int>(p->msg.error);
    EXPECT_EQ(p->msg.request_uri, r.uri);
    EXPECT_EQ(p->msg.consumed, text.size());
    const auto vias = all(p->msg, HeaderId::via);
    for (const Header* h : vias) {
      Via via;
      EXPECT_TRUE(parse_via(h->value, via)) << h->value;
    }
    if (const Header* c = p->msg.first(HeaderId::contact)) {
      NameAddr na;
      EXPECT_TRUE(parse_name_addr(c->value, na)) << c->value;
    }
  }
}

TEST(Rfc5118, ViaAndContactDetails) {
  GuardedBuffer buf(8192);
  auto p = std::make_unique<Parsed>();
  Via via;
  NameAddr na;
  parse_guarded(buf, rfc5118("ipv6-good"), *p);
  ASSERT_TRUE(parse_via(value_of(p->msg, HeaderId::via), via));
  EXPECT_EQ(via.sent_by, "[2001:db8::9:1]");
  ASSERT_TRUE(parse_name_addr(value_of(p->msg, HeaderId::contact), na));
  EXPECT_EQ(na.uri, "sip:caller@[2001:db8::1]");
  EXPECT_EQ(unquote(na.display), "Caller");

  parse_guarded(buf, rfc5118("via-received-param-with-delim"), *p);
  ASSERT_TRUE(parse_via(value_of(p->msg, HeaderId::via), via));
  EXPECT_EQ(via.received, "[2001:db8::9:255]");
  EXPECT_EQ(via.branch, "z9hG4bKas3-111");
  parse_guarded(buf, rfc5118("via-received-param-no-delim"), *p);
  ASSERT_TRUE(parse_via(value_of(p->msg, HeaderId::via), via));
  EXPECT_EQ(via.received, "2001:db8::9:255");
  EXPECT_EQ(via.branch, "z9hG4bKas3");

  parse_guarded(buf, rfc5118("mult-ip-in-header"), *p);
  const auto vias = all(p->msg, HeaderId::via);
  ASSERT_EQ(vias.size(), 3u);
  ASSERT_TRUE(parse_via(vias[0]->value, via));
  EXPECT_EQ(via.sent_by, "[2001:db8::9:1]:6050");
  ASSERT_TRUE(parse_via(vias[2]->value, via));
  EXPECT_EQ(via.protocol, "SIP/2.0/TCP");
  EXPECT_EQ(via.sent_by, "[2001:db8::9:255]");
  EXPECT_EQ(via.received, "192.0.2.200");

  const std::string sdp = rfc5118("ipv6-in-sdp");
  parse_guarded(buf, sdp, *p);
  EXPECT_EQ(p->msg.body.size(), sdp.size() - sdp.find("\r\n\r\n") - 4);
  EXPECT_TRUE(p->msg.body.starts_with("v=0\r\n"));
}

// ---- every truncated prefix against a guard page ---------------------------------------------

const char kRegister[] =
    "REGISTER sip:sip.carrier.example SIP/2.0\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK.reg.00017.4711;rport\r\n"
    "Max-Forwards: 70\r\n"
    "From: <sip:+4930123456@sip.carrier.example>;tag=rf-8f2c\r\n"
    "To: <sip:+4930123456@sip.carrier.example>\r\n"
    "Call-ID: rf-0-00017-4711@198.51.100.7\r\n"
    "CSeq: 17 REGISTER\r\n"
    "Contact: <sip:+4930123456@198.51.100.7:5060>;expires=3600\r\n"
    "Expires: 3600\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const char k401[] =
    "SIP/2.0 401 Unauthorized\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK.reg.00017.4711;received=198.51.100.7;"
    "rport=5060\r\n"
    "From: <sip:+4930123456@sip.carrier.example>;tag=rf-8f2c\r\n"
    "To: <sip:+4930123456@sip.carrier.example>;tag=as7d1f4e2b\r\n"
    "Call-ID: rf-0-00017-4711@198.51.100.7\r\n"
    "CSeq: 17 REGISTER\r\n"
    "WWW-Authenticate: Digest realm=\"sip.carrier.example\", nonce=\"5f3a9c1e7b2d4a6f\", "
    "qop=\"auth\", algorithm=MD5, opaque=\"4f2a9b\"\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

const char k200[] =
    "SIP/2.0 200 OK\r\n"
    "Via: SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK.reg.00018.4711;received=198.51.100.7;"
    "rport=5060\r\n"
    "From: <sip:+4930123456@sip.carrier.example>;tag=rf-8f2c\r\n"
    "To: <sip:+4930123456@sip.carrier.example>;tag=as7d1f4e2b\r\n"
    "Call-ID: rf-0-00017-4711@198.51.100.7\r\n"
    "CSeq: 18 REGISTER\r\n"
    "Contact: <sip:+4930123456@198.51.100.7:5060>;expires=1800\r\n"
    "Expires: 1800\r\n"
    "Date: Tue, 04 Mar 2025 10:00:00 GMT\r\n"
    "Content-Length: 0\r\n"
    "\r\n";

std::vector<std::pair<std::string, std::string>> truncation_table() {
  std::vector<std::pair<std::string, std::string>> t;
  for (const TortureCase& c : kRfc4475) t.emplace_back(c.file, rfc4475(c.file));
  for (const char* f : {"ipv6-good", "ipv6-in-sdp", "mult-ip-in-header", "ipv4-mapped-ipv6"}) {
    t.emplace_back(f, rfc5118(f));
  }
  t.emplace_back("register", kRegister);
  t.emplace_back("401", k401);
  t.emplace_back("200", k200);
  t.emplace_back("keepalive+200", std::string("\r\n\r\n") + k200);
  return t;
}

TEST(Truncation, EveryPrefixIsAnErrorUnlessComplete) {
  GuardedBuffer buf(8192);
  auto full = std::make_unique<Parsed>();
  auto part = std::make_unique<Parsed>();
  for (const auto& [name, text] : truncation_table()) {
    SCOPED_TRACE(name);
    parse_guarded(buf, text, *full);
    const bool full_ok = full->status == ParseStatus::ok;
    const bool has_length = full_ok && full->msg.first(HeaderId::content_length) != nullptr;
    // Shortest complete prefix: the whole framed message with Content-Length, otherwise the
    // end of the headers (the body then runs to the end of whatever is there).
    const std::size_t complete_at =
        !full_ok ? text.size() + 1
                 : (has_length ? full->msg.consumed : full->msg.consumed - full->msg.body.size());
    // Copies: the views of `full` die when the next prefix is placed in the same buffer.
    const std::uint16_t full_headers = full->msg.header_count;
    const std::uint16_t full_status = full->msg.status;
    const std::string full_method(full->msg.method);
    for (std::size_t len = 0; len <= text.size(); ++len) {
      parse_guarded(buf, std::string_view(text).substr(0, len), *part);
      if (len >= complete_at) {
        ASSERT_EQ(part->status, ParseStatus::ok) << "prefix " << len;
        EXPECT_EQ(part->msg.header_count, full_headers);
        EXPECT_EQ(part->msg.status, full_status);
        EXPECT_EQ(part->msg.method, full_method);
        EXPECT_LE(part->msg.consumed, len);
      } else {
        ASSERT_EQ(part->status, ParseStatus::error) << "prefix " << len;
        EXPECT_NE(part->msg.error, ParseError::none);
        if (len == 0) {
          EXPECT_EQ(part->msg.error, ParseError::empty);
        }
      }
    }
  }
}

// ---- framing, limits, line endings ------------------------------------------------------------

ParseError error_of(std::string_view text) {
  GuardedBuffer buf(text.size() + 1);
  auto p = std::make_unique<Parsed>();
  parse_guarded(buf, text, *p);
  return p->status == ParseStatus::ok ? ParseError::none : p->msg.error;
}

std::string with_length(std::string_view cl_line, std::string_view body = "") {
  return std::string("SIP/2.0 200 OK\r\nCall-ID: x\r\n") + std::string(cl_line) + "\r\n\r\n" +
         std::string(body);
}

TEST(Framing, ContentLength) {
  EXPECT_EQ(error_of(with_length("Content-Length: 3", "abc")), ParseError::none);
  EXPECT_EQ(error_of(with_length("Content-Length: 3", "abcdef")), ParseError::none);
  EXPECT_EQ(error_of(with_length("Content-Length: 4", "abc")), ParseError::body_truncated);
  EXPECT_EQ(error_of(with_length("Content-Length: 4294967295", "abc")),
            ParseError::body_truncated);
  EXPECT_EQ(error_of(with_length("Content-Length: 4294967296")), ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length: 99999999999999999999999")),
            ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length: -1")), ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length: +1", "a")), ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length: 1a", "a")), ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length: 1 1", "aa")), ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length:")), ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length: 0\r\nl: 0")), ParseError::none);
  EXPECT_EQ(error_of(with_length("Content-Length: 0\r\nl: 1", "a")), ParseError::content_length);
  EXPECT_EQ(error_of(with_length("Content-Length:   0002 ", "ab")), ParseError::none);

  GuardedBuffer buf(256);
  auto p = std::make_unique<Parsed>();
  const std::string t = with_length("l: 2", "abcd");
  parse_guarded(buf, t, *p);
  ASSERT_EQ(p->status, ParseStatus::ok);
  EXPECT_EQ(p->msg.body, "ab");
  EXPECT_EQ(p->msg.consumed, t.size() - 2);
  const std::string no_cl = "SIP/2.0 200 OK\r\nCall-ID: x\r\n\r\nbody";
  parse_guarded(buf, no_cl, *p);
  ASSERT_EQ(p->status, ParseStatus::ok);
  EXPECT_EQ(p->msg.body, "body");
}

TEST(Framing, StartLines) {
  EXPECT_EQ(error_of(""), ParseError::empty);
  EXPECT_EQ(error_of("\r\n"), ParseError::empty);
  EXPECT_EQ(error_of("\r\n\r\n"), ParseError::empty);
  EXPECT_EQ(error_of("\r\n\r\nSIP/2.0 200 OK\r\n\r\n"), ParseError::none);
  EXPECT_EQ(error_of("sip/2.0 200 OK\r\n\r\n"), ParseError::none);
  EXPECT_EQ(error_of("SIP/2.0 200\r\n\r\n"), ParseError::none);  // lenient: no SP, no reason
  EXPECT_EQ(error_of("SIP/2.0 099 Low\r\n\r\n"), ParseError::status_code);
  EXPECT_EQ(error_of("SIP/2.0 700 High\r\n\r\n"), ParseError::status_code);
  EXPECT_EQ(error_of("SIP/2.0 20 Short\r\n\r\n"), ParseError::status_code);
  EXPECT_EQ(error_of("SIP/2.0 2000 Long\r\n\r\n"), ParseError::status_code);
  EXPECT_EQ(error_of("SIP/2.0 2x0 Bad\r\n\r\n"), ParseError::status_code);
  EXPECT_EQ(error_of("SIP/3.0 200 OK\r\n\r\n"), ParseError::version);
  EXPECT_EQ(error_of("SIP/2.0x 200 OK\r\n\r\n"), ParseError::start_line);
  EXPECT_EQ(error_of("HTTP/1.1 200 OK\r\n\r\n"), ParseError::start_line);
  EXPECT_EQ(error_of("OPTIONS sip:a SIP/2.0\r\n\r\n"), ParseError::none);
  EXPECT_EQ(error_of("OPTIONS sip:a SIP/2.1\r\n\r\n"), ParseError::version);
  EXPECT_EQ(error_of("OPTIONS sip:a\r\n\r\n"), ParseError::start_line);
  EXPECT_EQ(error_of("OPTIONS a SIP/2.0\r\n\r\n"), ParseError::start_line);  // no scheme
  EXPECT_EQ(error_of("OPT@ONS sip:a SIP/2.0\r\n\r\n"), ParseError::start_line);
  // Strict CRLF (RFC 3261 §7): bare LF or CR is an error wherever it ends a line.
  EXPECT_EQ(error_of("SIP/2.0 200 OK\n\n"), ParseError::start_line);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nCall-ID: x\n\r\n"), ParseError::header_syntax);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nCall-ID: x\rx\r\n\r\n"), ParseError::header_syntax);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nCall-ID: x\r\n\n"), ParseError::header_syntax);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nCall-ID: x\r\n\rx"), ParseError::header_syntax);
}

TEST(Framing, HeaderSyntaxAndFolding) {
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nNoColon\r\n\r\n"), ParseError::header_syntax);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\n: empty\r\n\r\n"), ParseError::header_syntax);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\n folded-start: x\r\n\r\n"), ParseError::header_syntax);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nBad Name: x\r\n\r\n"), ParseError::header_syntax);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nCall-ID: x\r\n"), ParseError::truncated);
  EXPECT_EQ(error_of("SIP/2.0 200 OK\r\nCall-ID: x"), ParseError::truncated);

  GuardedBuffer buf(256);
  auto p = std::make_unique<Parsed>();
  parse_guarded(buf, "SIP/2.0 200 OK\r\nSubject:\r\n \r\n\tlunch\t \r\n \r\nCall-ID :\tx \r\n\r\n",
                *p);
  ASSERT_EQ(p->status, ParseStatus::ok);
  ASSERT_EQ(p->msg.header_count, 2);
  EXPECT_EQ(p->msg.headers[0].value, "lunch");
  EXPECT_EQ(p->msg.headers[1].name, "Call-ID");
  EXPECT_EQ(p->msg.headers[1].value, "x");
  EXPECT_EQ(p->msg.first(HeaderId::expires), nullptr);
  EXPECT_EQ(p->msg.first(HeaderId::call_id), &p->msg.headers[1]);
}

TEST(Limits, HeadersLengthsAndArray) {
  std::string many = "SIP/2.0 200 OK\r\n";
  for (std::size_t i = 0; i < kMaxHeaders; ++i) many += "X: y\r\n";
  EXPECT_EQ(error_of(many + "\r\n"), ParseError::none);
  EXPECT_EQ(error_of(many + "X: y\r\n\r\n"), ParseError::limit);

  const std::string ok_long = "SIP/2.0 200 OK\r\nX: " + std::string(kMaxHeaderLength - 3, 'a') +
                              "\r\n\r\n";
  EXPECT_EQ(error_of(ok_long), ParseError::none);
  const std::string too_long = "SIP/2.0 200 OK\r\nX: " + std::string(kMaxHeaderLength - 2, 'a') +
                               "\r\n\r\n";
  EXPECT_EQ(error_of(too_long), ParseError::limit);
  const std::string folded_long = "SIP/2.0 200 OK\r\nX: " +
                                  std::string(kMaxHeaderLength / 2, 'a') + "\r\n " +
                                  std::string(kMaxHeaderLength / 2, 'a') + "\r\n\r\n";
  EXPECT_EQ(error_of(folded_long), ParseError::limit);

  std::string big = "SIP/2.0 200 OK\r\n\r\n";
  big.resize(kMaxMessageLength + 1, 'b');
  EXPECT_EQ(error_of(big), ParseError::limit);
  big.resize(kMaxMessageLength);
  EXPECT_EQ(error_of(big), ParseError::none);

  // A caller array smaller than kMaxHeaders is honoured.
  std::array<Header, 2> small;
  Message m;
  const std::string three = "SIP/2.0 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
  EXPECT_EQ(parse(three, m, small), ParseStatus::error);
  EXPECT_EQ(m.error, ParseError::limit);
  EXPECT_EQ(parse(three, m, std::span<Header>()), ParseStatus::error);
}

TEST(Headers, CompactAndLongForms) {
  struct Row {
    const char* name;
    HeaderId id;
  };
  const Row rows[] = {
      {"v", HeaderId::via},        {"V", HeaderId::via},
      {"f", HeaderId::from},       {"t", HeaderId::to},
      {"i", HeaderId::call_id},    {"I", HeaderId::call_id},
      {"m", HeaderId::contact},    {"l", HeaderId::content_length},
      {"c", HeaderId::content_type}, {"k", HeaderId::other},
      {"s", HeaderId::other},      {"e", HeaderId::other},
      {"vIA", HeaderId::via},      {"cseq", HeaderId::cseq},
      {"CALL-id", HeaderId::call_id}, {"contact", HeaderId::contact},
      {"EXPIRES", HeaderId::expires}, {"min-expires", HeaderId::min_expires},
      {"Retry-After", HeaderId::retry_after}, {"www-authenticate", HeaderId::www_authenticate},
      {"Proxy-Authenticate", HeaderId::proxy_authenticate},
      {"authorization", HeaderId::authorization},
      {"Proxy-Authorization", HeaderId::proxy_authorization},
      {"content-length", HeaderId::content_length}, {"Content-Type", HeaderId::content_type},
      {"Max-Forwards", HeaderId::max_forwards}, {"Vias", HeaderId::other},
      {"route", HeaderId::route},  {"RECORD-ROUTE", HeaderId::record_route},
      {"Routes", HeaderId::other}, {"Record-Routes", HeaderId::other},
      {"C%6Fntact", HeaderId::other}, {"Contacts", HeaderId::other}, {"", HeaderId::other},
  };
  for (const Row& r : rows) EXPECT_EQ(classify_header_name(r.name), r.id) << r.name;
  EXPECT_EQ(compact_form_long_name('k'), "Supported");
  EXPECT_EQ(compact_form_long_name('S'), "Subject");
  EXPECT_EQ(compact_form_long_name('e'), "Content-Encoding");
  EXPECT_EQ(compact_form_long_name('o'), "Event");
  EXPECT_EQ(compact_form_long_name('z'), "");
  EXPECT_EQ(compact_form_long_name('\0'), "");
  for (char c = 'a'; c <= 'z'; ++c) {
    const std::string_view longer = compact_form_long_name(c);
    if (longer.empty()) continue;
    const HeaderId a = classify_header_name(std::string_view(&c, 1));
    EXPECT_EQ(a, classify_header_name(longer)) << c;
  }
}

// ---- value helpers ----------------------------------------------------------------------------

std::vector<std::string_view> elements(std::string_view v, bool* malformed = nullptr) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  std::string_view e;
  while (next_list_element(v, pos, e)) out.push_back(e);
  if (malformed) *malformed = pos < v.size();
  return out;
}

TEST(Helpers, NextListElement) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(elements("a, b ,c"), (V{"a", "b", "c"}));
  EXPECT_EQ(elements(" , ,a,,\r\n ,b, "), (V{"a", "b"}));
  EXPECT_EQ(elements(""), V{});
  EXPECT_EQ(elements("\"x, y\" <sip:a@b>;q=1, <sip:c,d@e>"),
            (V{"\"x, y\" <sip:a@b>;q=1", "<sip:c,d@e>"}));
  EXPECT_EQ(elements("\"a\\\", b\" <sip:x>, c"), (V{"\"a\\\", b\" <sip:x>", "c"}));
  bool bad = false;
  EXPECT_EQ(elements("a, \"unterminated, b", &bad), (V{"a"}));
  EXPECT_TRUE(bad);
  EXPECT_EQ(elements("a, <sip:x, b", &bad), (V{"a"}));
  EXPECT_TRUE(bad);
  EXPECT_EQ(elements("a, b", &bad).size(), 2u);
  EXPECT_FALSE(bad);
  std::size_t pos = 100;  // out of range: no element, no read
  std::string_view e;
  EXPECT_FALSE(next_list_element("abc", pos, e));
}

TEST(Helpers, NextParam) {
  std::string_view n, v;
  std::size_t pos = 0;
  const std::string_view p = " a=1 ; b ;c = \"x;y\"\r\n ;d=[2001:db8::1];e=2001:db8::1";
  std::vector<std::pair<std::string_view, std::string_view>> got;
  while (next_param(p, pos, n, v)) got.emplace_back(n, v);
  EXPECT_EQ(pos, p.size());
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0], std::make_pair(std::string_view("a"), std::string_view("1")));
  EXPECT_EQ(got[1], std::make_pair(std::string_view("b"), std::string_view("")));
  EXPECT_EQ(got[2].second, "\"x;y\"");
  EXPECT_EQ(unquote(got[2].second), "x;y");
  EXPECT_EQ(got[3].second, "[2001:db8::1]");
  EXPECT_EQ(got[4].second, "2001:db8::1");

  for (std::string_view bad : {";a", "a=", "a=\"open", "a b", "a=1 2", "=1", "a;;b", "a=<x>"}) {
    pos = 0;
    bool malformed = false;
    while (true) {
      if (!next_param(bad, pos, n, v)) {
        malformed = pos < bad.size();
        break;
      }
    }
    EXPECT_TRUE(malformed) << bad;
  }
  pos = 0;
  EXPECT_FALSE(next_param("", pos, n, v));
  EXPECT_EQ(pos, 0u);
}

TEST(Helpers, Unquote) {
  EXPECT_EQ(unquote("\"abc\""), "abc");
  EXPECT_EQ(unquote("\"\""), "");
  EXPECT_EQ(unquote("\"a\\\"b\""), "a\\\"b");  // quoted-pairs stay escaped
  EXPECT_EQ(unquote("\"a\\\""), "\"a\\\"");    // closing quote is escaped: not a quoted string
  EXPECT_EQ(unquote("\"a\\\\\""), "a\\\\");
  EXPECT_EQ(unquote("abc"), "abc");
  EXPECT_EQ(unquote("\""), "\"");
  EXPECT_EQ(unquote(""), "");
}

TEST(Helpers, ParseVia) {
  Via v;
  ASSERT_TRUE(parse_via(
      "SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK776;received=192.0.2.1;rport=5061", v));
  EXPECT_EQ(v.protocol, "SIP/2.0/UDP");
  EXPECT_EQ(v.sent_by, "198.51.100.7:5060");
  EXPECT_EQ(v.branch, "z9hG4bK776");
  EXPECT_EQ(v.received, "192.0.2.1");
  EXPECT_EQ(v.rport, "5061");
  EXPECT_TRUE(v.rport_present);
  ASSERT_TRUE(parse_via("SIP/2.0/UDP h.example;rport;BRANCH=z9hG4bKx", v));
  EXPECT_TRUE(v.rport_present);
  EXPECT_EQ(v.rport, "");
  EXPECT_EQ(v.branch, "z9hG4bKx");
  ASSERT_TRUE(parse_via("SIP/2.0/TCP h.example", v));
  EXPECT_FALSE(v.rport_present);
  EXPECT_EQ(v.branch, "");
  ASSERT_TRUE(parse_via("SIP / 2.0 / UDP [2001:db8::1]:5060 ; received=[2001:db8::2]", v));
  EXPECT_EQ(v.protocol, "SIP / 2.0 / UDP");
  EXPECT_EQ(v.sent_by, "[2001:db8::1]:5060");
  EXPECT_EQ(v.received, "[2001:db8::2]");
  ASSERT_TRUE(parse_via("SIP/2.0/UDP [::ffff:192.0.2.2];received=::ffff:192.0.2.2", v));
  EXPECT_EQ(v.received, "::ffff:192.0.2.2");
  for (std::string_view bad :
       {"", "SIP/2.0/UDP", "SIP/2.0 h", "SIP/2.0/UDPh", "SIP/2.0/UDP h x",
        "SIP/2.0/UDP 2001:db8::1", "SIP/2.0/UDP [2001:db8::1", "SIP/2.0/UDP h:99999",
        "SIP/2.0/UDP h:", "SIP/2.0/UDP h;;branch=x", "SIP/2.0/UDP h;branch=", "/2.0/UDP h"}) {
    EXPECT_FALSE(parse_via(bad, v)) << bad;
  }
  // "h;" is lenient (one trailing ';' is ignored), see next_param.
}

TEST(Helpers, ParseCSeq) {
  CSeq c;
  ASSERT_TRUE(parse_cseq("17 REGISTER", c));
  EXPECT_EQ(c.number, 17u);
  EXPECT_EQ(c.method, "REGISTER");
  ASSERT_TRUE(parse_cseq(" 4294967295\r\n\tINVITE ", c));
  EXPECT_EQ(c.number, 4294967295u);
  EXPECT_EQ(c.method, "INVITE");
  ASSERT_TRUE(parse_cseq("0000000000000000000001 ACK", c));
  EXPECT_EQ(c.number, 1u);
  for (std::string_view bad : {"4294967296 INVITE", "17", "17REGISTER", "REGISTER 17", "-1 BYE",
                               "17 REG ISTER", "17 REG@", "", " ", "1 2 3"}) {
    EXPECT_FALSE(parse_cseq(bad, c)) << bad;
  }
}

TEST(Helpers, ParseNameAddr) {
  NameAddr a;
  ASSERT_TRUE(parse_name_addr("\"Alice, \\\"A\\\"\" <sip:alice@a.example>;tag=1", a));
  EXPECT_EQ(a.display, "\"Alice, \\\"A\\\"\"");
  EXPECT_EQ(a.uri, "sip:alice@a.example");
  EXPECT_EQ(a.params, "tag=1");
  ASSERT_TRUE(parse_name_addr("Bob Smith <sip:bob@b.example;transport=udp> ; expires=60", a));
  EXPECT_EQ(a.display, "Bob Smith");
  EXPECT_EQ(a.uri, "sip:bob@b.example;transport=udp");
  EXPECT_EQ(a.params, " expires=60");
  ASSERT_TRUE(parse_name_addr("<sip:c@c.example>", a));
  EXPECT_EQ(a.display, "");
  EXPECT_EQ(a.params, "");
  // Bare addr-spec: params after it are header params (RFC 3261 §20.10).
  ASSERT_TRUE(parse_name_addr("sip:d@d.example;tag=9;expires=30", a));
  EXPECT_EQ(a.uri, "sip:d@d.example");
  EXPECT_EQ(a.params, "tag=9;expires=30");
  ASSERT_TRUE(parse_name_addr("  tel:+4930123 ", a));
  EXPECT_EQ(a.uri, "tel:+4930123");
  ASSERT_TRUE(parse_name_addr("*", a));
  EXPECT_TRUE(a.wildcard);
  for (std::string_view bad :
       {"", "\"open <sip:x@y>", "\"a\" sip:x@y", "<sip:x@y", "<>", "< sip:x@y>", "<sip:x@y> junk",
        "a, b <sip:x@y>", "sip:x@y?h=1", "sip:x@y, sip:z@w", "nouri", "<nouri>", "sip:x@y junk",
        "<sip:a@b><sip:c@d>"}) {
    EXPECT_FALSE(parse_name_addr(bad, a)) << bad;
  }
}

TEST(Helpers, ParseDeltaSeconds) {
  std::uint32_t s = 0;
  ASSERT_TRUE(parse_delta_seconds("3600", s));
  EXPECT_EQ(s, 3600u);
  ASSERT_TRUE(parse_delta_seconds(" 0 ", s));
  EXPECT_EQ(s, 0u);
  ASSERT_TRUE(parse_delta_seconds("120 (I'm in a meeting);duration=60", s));
  EXPECT_EQ(s, 120u);
  ASSERT_TRUE(parse_delta_seconds("120;duration=60", s));
  EXPECT_EQ(s, 120u);
  ASSERT_TRUE(parse_delta_seconds("120(comment)", s));
  EXPECT_EQ(s, 120u);
  ASSERT_TRUE(parse_delta_seconds("4294967295", s));
  EXPECT_EQ(s, 4294967295u);
  ASSERT_TRUE(parse_delta_seconds("00000000000000000000000000042", s));
  EXPECT_EQ(s, 42u);
  s = 5;
  for (std::string_view bad : {"4294967296", "99999999999999999999", "", "-1", "+1", "12a",
                               "1.5", "abc", " ;duration=1"}) {
    EXPECT_FALSE(parse_delta_seconds(bad, s)) << bad;
  }
  EXPECT_EQ(s, 5u);  // untouched on failure
}

TEST(Helpers, IEquals) {
  EXPECT_TRUE(iequals("Via", "vIA"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_TRUE(iequals("Call-ID", "call-id"));
  EXPECT_FALSE(iequals("Via", "Vias"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("[", "{"));  // 0x5b vs 0x7b: not letters, differ by 0x20
  EXPECT_FALSE(iequals("@", "`"));
  EXPECT_TRUE(iequals("\xc3\xa9", "\xc3\xa9"));
  EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));  // ASCII-only folding
}

}  // namespace
}  // namespace regfront::sip
