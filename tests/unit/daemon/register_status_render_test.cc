// `show sip-ua register status`: IOS XE's layout (a Registrar-Index section per registrar, in
// index order, IOS's columns first and regfront's after), and the JSON fields the rows carry.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "regfront/cli/show.h"

namespace regfront::cli {
namespace {

BindingRow row(std::string number, int registrar) {
  BindingRow r;
  r.number = std::move(number);
  r.registrar = registrar;
  return r;
}

std::vector<BindingRow> sample() {
  BindingRow a = row("4085550101", 2);
  a.state = "backoff";
  a.last_code = 401;
  a.realm = "stranger.example";
  a.reason = "no_credential";
  a.reason_text = "no credential for realm stranger.example";
  a.address = "192.0.2.2:5060";
  a.algorithm = "MD5";
  a.next_attempt_s = 12;
  BindingRow b = row("4085550100", 1);
  b.dial_peer = 100;
  b.state = "registered";
  b.granted = 3600;
  b.seconds_left = 3599;
  b.last_code = 200;
  b.username = "alice";
  b.realm = "realm-a.example";
  b.address = "192.0.2.1:5060";
  b.algorithm = "SHA-256";
  b.next_attempt_s = 2800;
  BindingRow c = row("4085550099", 1);
  c.state = "queued";
  return {a, b, c};
}

TEST(RegisterStatusRender, SectionPerRegistrarInIndexOrderWithIosColumnsFirst) {
  const std::string out = render_register_status(sample(), false);
  const std::size_t s1 = out.find("Registrar-Index  1\n"), s2 = out.find("Registrar-Index  2\n");
  ASSERT_NE(s1, std::string::npos) << out;
  ASSERT_NE(s2, std::string::npos) << out;
  EXPECT_LT(s1, s2);
  // Within a section, rows by number.
  EXPECT_LT(out.find("4085550099"), out.find("4085550100"));
  EXPECT_LT(out.find("4085550100"), s2);
  EXPECT_GT(out.find("4085550101"), s2);
  // IOS's header, then regfront's columns.
  const std::size_t header = out.find("Line ");
  ASSERT_NE(header, std::string::npos);
  const std::string line = out.substr(header, out.find('\n', header) - header);
  const char* order[] = {"Line", "peer", "expires(sec)", "reg", "survival", "P-Associated-URI", "State", "Last",
                         "User", "Realm", "Address", "Alg", "Next(sec)", "Reason"};
  std::size_t at = 0;
  for (const char* col : order) {
    const std::size_t p = line.find(col, at);
    ASSERT_NE(p, std::string::npos) << col << " in " << line;
    at = p + 1;
  }
  // The registered row: peer, seconds left, yes, normal; then what regfront knows.
  const std::size_t r = out.find("4085550100");
  const std::string reg = out.substr(r, out.find('\n', r) - r);
  for (const char* v : {" 100 ", " 3599 ", " yes ", " normal ", "registered", "alice", "realm-a.example",
                        "192.0.2.1:5060", "SHA-256", " 2800 "}) {
    EXPECT_NE(reg.find(v), std::string::npos) << v << " in " << reg;
  }
  const std::size_t f = out.find("4085550101");
  const std::string failed = out.substr(f, out.find('\n', f) - f);
  for (const char* v : {" -1 ", " no ", "stranger.example", "no credential for realm stranger.example"}) {
    EXPECT_NE(failed.find(v), std::string::npos) << v << " in " << failed;
  }
}

TEST(RegisterStatusRender, JsonKeepsTheOldFieldsAndAddsTheNew) {
  const nlohmann::json j = nlohmann::json::parse(render_register_status(sample(), true));
  ASSERT_EQ(j["bindings"].size(), 3u);
  const nlohmann::json& a = j["bindings"][0];
  for (const char* k : {"number", "registrar", "state", "expires", "seconds_left", "last_code", "username", "realm",
                        "reason", "dial_peer", "registered", "address", "algorithm", "reason_text",
                        "next_attempt_seconds"}) {
    EXPECT_TRUE(a.contains(k)) << k;
  }
  EXPECT_EQ(a["reason"], "no_credential");
  EXPECT_EQ(a["reason_text"], "no credential for realm stranger.example");
  EXPECT_EQ(a["registered"], false);
  EXPECT_EQ(j["bindings"][1]["registered"], true);
  EXPECT_EQ(j["bindings"][1]["next_attempt_seconds"], 2800);
  EXPECT_EQ(j["bindings"][2]["next_attempt_seconds"], -1);
}

TEST(RegisterStatusRender, NoRowsNoSection) {
  EXPECT_EQ(render_register_status({}, false), "");
}

}  // namespace
}  // namespace regfront::cli
