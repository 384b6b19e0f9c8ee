// Restrictions R1–R7 and F5 of docs/rules.md: each refused with an IOS-style error and the
// configuration left exactly as it was.
#include <gtest/gtest.h>

#include "harness.h"

namespace regfront::config {
namespace {

using test::Harness;

// Runs `line` after `setup` and expects it refused with `code`, the config unchanged, and
// `message_part` in what the operator sees (format_error()).
void expect_refused(std::initializer_list<std::string_view> setup, std::string_view line,
                    ResultCode code, std::string_view message_part = {}) {
  Harness h = test::in_sip_ua();
  h.setup(setup);
  Config before = h.cfg;
  Result r = h.run(line);
  EXPECT_EQ(r.code(), code) << line << "\n" << format_error(line, r);
  EXPECT_FALSE(r.status.message().starts_with('%')) << r.status.message();  // plain text
  if (!message_part.empty()) {
    EXPECT_NE(format_error(line, r).find(message_part), std::string::npos) << format_error(line, r);
  }
  EXPECT_EQ(h.cfg, before) << line;
  EXPECT_EQ(h.s.mode, Mode::sip_ua) << line;
}

TEST(Restrictions, R1IndexedAndLegacyFormsExclusive) {
  expect_refused({"registrar 1 dns:a.com"}, "registrar dns:b.com", ResultCode::rejected,
                 "cannot be configured together");
  expect_refused({"registrar 1 dns:a.com"}, "registrar dns:b.com secondary", ResultCode::rejected);
  expect_refused({"registrar dns:b.com"}, "registrar 1 dns:a.com", ResultCode::rejected,
                 "cannot be configured together");
  expect_refused({"registrar ipv4:192.0.2.1 secondary"}, "registrar 6 dns:a.com expires 60",
                 ResultCode::rejected);
  // After removing the other form, the command is accepted.
  Harness h = test::in_sip_ua();
  h.setup({"registrar dns:b.com", "no registrar dns:b.com", "registrar 1 dns:a.com"});
  EXPECT_EQ(h.cfg.sip_ua.registrars.size(), 1u);
}

TEST(Restrictions, R2DhcpOnlyInLegacyForm) {
  expect_refused({"registrar 1 dns:a.com"}, "registrar dhcp", ResultCode::rejected, "DHCP");
  expect_refused({"registrar dhcp"}, "registrar 1 dns:a.com", ResultCode::rejected, "DHCP");
  expect_refused({"registrar 2 dns:a.com"}, "credentials dhcp password P realm R",
                 ResultCode::rejected, "DHCP");
  expect_refused({"credentials dhcp password P realm R"}, "registrar 1 dns:a.com",
                 ResultCode::rejected, "DHCP");
  Harness h = test::in_sip_ua();
  h.setup({"registrar dhcp", "registrar dns:b.com secondary", "credentials dhcp password P realm R"});
  EXPECT_TRUE(h.cfg.sip_ua.registrar_dhcp);
  EXPECT_EQ(h.cfg.sip_ua.registrars.size(), 2u);
}

TEST(Restrictions, R3UsernameRealmPairReplacesPassword) {
  for (const char* mode_line : {"sip-ua", "dial-peer voice 1 pots"}) {
    Harness h;
    h.setup({mode_line, "authentication username U password P1 realm R",
             "authentication username U password P2 realm S",
             "authentication username U password P3 realm R",  // same pair: replaces
             "authentication username V password P4 realm R",  // other username: adds
             "authentication username U password P5",          // no realm is its own key
             "authentication username U password P6"});
    const auto& list = h.cfg.dial_peers.empty() ? h.cfg.sip_ua.authentication
                                                : h.cfg.dial_peers.at(1).authentication;
    ASSERT_EQ(list.size(), 4u) << mode_line;
    EXPECT_EQ(list[0], (Authentication{"U", "P3", "R"}));  // kept its place
    EXPECT_EQ(list[1], (Authentication{"U", "P2", "S"}));
    EXPECT_EQ(list[2], (Authentication{"V", "P4", "R"}));
    EXPECT_EQ(list[3], (Authentication{"U", "P6", ""}));
  }
}

TEST(Restrictions, R4AtMostSixRegistrars) {
  Harness h = test::in_sip_ua();
  for (int i = 1; i <= 6; ++i) h.setup({"registrar " + std::to_string(i) + " dns:r.example.com"} );
  EXPECT_EQ(h.cfg.sip_ua.registrars.size(), 6u);
  expect_refused({"registrar 1 dns:a.com"}, "registrar 7 dns:r7.example.com",
                 ResultCode::invalid_input);
  // Re-configuring an index replaces it.
  h.setup({"registrar 3 dns:other.example.com expires 90"});
  EXPECT_EQ(h.cfg.sip_ua.registrars.size(), 6u);
  EXPECT_EQ(h.cfg.sip_ua.registrars.at(3).address.host, "other.example.com");
}

std::vector<std::string> realm_lines(const char* prefix, int n) {
  std::vector<std::string> out;
  for (int i = 1; i <= n; ++i) out.push_back(std::string(prefix) + " realm r" + std::to_string(i));
  return out;
}

TEST(Restrictions, R5AtMostTwelveRealmsPerEndpoint) {
  struct Case {
    const char* enter;
    const char* prefix;
  } cases[] = {
      {"dial-peer voice 1 pots", "authentication username U password P"},
      {"sip-ua", "authentication username U password P"},
      {"sip-ua", "credentials number 1111 username U password P"},
  };
  for (const Case& c : cases) {
    Harness h;
    h.setup({c.enter});
    for (const auto& l : realm_lines(c.prefix, 12)) h.setup({l});
    Config before = h.cfg;
    std::string thirteenth = std::string(c.prefix) + " realm r13";
    Result r = h.run(thirteenth);
    EXPECT_EQ(r.code(), ResultCode::rejected) << thirteenth;
    EXPECT_EQ(format_error(thirteenth, r), "% A maximum of 12 different realms can be configured");
    EXPECT_EQ(h.cfg, before);
    // Another entry for a realm already present is not a new realm.
    std::string again = std::string(c.prefix) + " realm r5";
    EXPECT_TRUE(h.run(again).ok()) << again;
  }
  // Another number has its own 12 realms.
  Harness h = test::in_sip_ua();
  for (const auto& l : realm_lines("credentials number 1111 username U password P", 12)) h.setup({l});
  EXPECT_TRUE(h.run("credentials number 2222 username U password P realm r13").ok());
}

TEST(Restrictions, F5CredentialsNumberRealmKeyReplaces) {
  Harness h = test::in_sip_ua();
  h.setup({"credentials number 1111 username MyUsername password MyPassword realm Realm1.example.com",
           "credentials number 1111 username MyUsername password MyPassword realm Realm2.example.com",
           "credentials number 1111 username AnotherUsername password TheirPassword realm Realm1.example.com",
           "credentials number 1111 username AnotherUsername password TheirPassword realm Realm2.example.com"});
  ASSERT_EQ(h.cfg.sip_ua.credentials.size(), 2u);
  EXPECT_EQ(h.cfg.sip_ua.credentials[0],
            (Credential{"1111", "AnotherUsername", "TheirPassword", "Realm1.example.com"}));
  EXPECT_EQ(h.cfg.sip_ua.credentials[1].realm, "Realm2.example.com");
}

TEST(Restrictions, R7CredentialsRemovedOneAtATime) {
  expect_refused({"credentials number 1 username U password P realm R",
                  "credentials number 1 username U password P realm S"},
                 "no credentials number 1", ResultCode::incomplete, "% Incomplete command.");
  Harness h = test::in_sip_ua();
  h.setup({"credentials number 1 username U password P realm R",
           "credentials number 1 username U password P realm S", "no credentials number 1 realm S"});
  ASSERT_EQ(h.cfg.sip_ua.credentials.size(), 1u);
  EXPECT_EQ(h.cfg.sip_ua.credentials[0].realm, "R");
}

TEST(Restrictions, InvalidType7PasswordRefused) {
  for (const char* bad : {"MyPassword", "0", "02050D48080", "99050D", "02ZZ", "020"}) {
    std::string line = std::string("authentication username U password 7 ") + bad + " realm R";
    expect_refused({}, line, ResultCode::invalid_input);
  }
  expect_refused({}, "credentials number 1 username U password 7 XY realm R",
                 ResultCode::invalid_input);
}

// R5 counts the realms an endpoint can answer, whatever list they are in: its POTS dial peer's
// `authentication`, its `credentials`, and sip-ua `authentication` (issue 11, item 9: 7 in a
// dial peer + 6 in credentials loaded).
TEST(Restrictions, R5CountsTheUnionOfAnEndpointsRealms) {
  Harness h;
  h.setup({"dial-peer voice 1 pots", "destination-pattern 1111"});
  for (int i = 1; i <= 7; ++i) h.setup({"authentication username D password P realm d" + std::to_string(i)});
  h.setup({"sip-ua"});
  for (int i = 1; i <= 5; ++i) {
    h.setup({"credentials number 1111 username C password P realm c" + std::to_string(i)});
  }
  // 7 + 5 = 12: a 13th realm for 1111 is refused, from any list.
  const auto refused = [&](std::string_view line) {
    const Config before = h.cfg;
    const Mode mode = h.s.mode;
    const Result r = h.run(line);
    EXPECT_EQ(r.code(), ResultCode::rejected) << line;
    EXPECT_EQ(format_error(line, r), "% A maximum of 12 different realms can be configured") << line;
    EXPECT_EQ(h.cfg, before) << line;
    EXPECT_EQ(h.s.mode, mode);
  };
  refused("credentials number 1111 username C password P realm c6");
  refused("authentication username S password P realm s1");  // sip-ua: every endpoint's
  // A realm 1111 already has is not a new one; another number has its own twelve.
  h.setup({"credentials number 1111 username C password P realm d1",
           "credentials number 1111 username C2 password Q realm c5",
           "authentication username S password P realm d2",
           "authentication username S password P",  // realm-less: not a realm
           "credentials number 2222 username C password P realm c6"});
  h.setup({"dial-peer voice 1 pots"});
  refused("authentication username D password P realm d8");
  h.setup({"authentication username D password P realm c1"});
  // A dial peer with realms taking the number brings them along.
  h.setup({"dial-peer voice 2 pots", "authentication username E password P realm e1"});
  refused("destination-pattern 1111");
  h.setup({"destination-pattern 3333", "destination-pattern 2222"});

  // The same refusals when loading, with the line.
  std::string text = "dial-peer voice 1 pots\n destination-pattern 1111\n";
  for (int i = 1; i <= 7; ++i) text += " authentication username D password P realm d" + std::to_string(i) + "\n";
  text += "sip-ua\n";
  for (int i = 1; i <= 6; ++i) {
    text += " credentials number 1111 username C password P realm c" + std::to_string(i) + "\n";
  }
  Config cfg;
  LoadResult r = load_startup_config(text, cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 16) << r.errors[0].format("f");
  EXPECT_EQ(r.errors[0].status.message(), "A maximum of 12 different realms can be configured");
  EXPECT_EQ(cfg, Config{});
  // Credentials first, then the dial peer: refused at the dial peer's 7th realm.
  text = "sip-ua\n";
  for (int i = 1; i <= 6; ++i) {
    text += " credentials number 1111 username C password P realm c" + std::to_string(i) + "\n";
  }
  text += "dial-peer voice 1 pots\n destination-pattern 1111\n";
  for (int i = 1; i <= 7; ++i) text += " authentication username D password P realm d" + std::to_string(i) + "\n";
  r = load_startup_config(text, cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 16) << r.errors[0].format("f");
  // Realms first, then the number.
  text = "dial-peer voice 1 pots\n";
  for (int i = 1; i <= 7; ++i) text += " authentication username D password P realm d" + std::to_string(i) + "\n";
  text += " destination-pattern 1111\nsip-ua\n";
  for (int i = 1; i <= 6; ++i) {
    text += " credentials number 1111 username C password P realm c" + std::to_string(i) + "\n";
  }
  r = load_startup_config(text, cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 16) << r.errors[0].format("f");
  // Sip-ua realms count for every endpoint when loading too.
  text = "sip-ua\n";
  for (int i = 1; i <= 12; ++i) {
    text += " credentials number 1111 username C password P realm c" + std::to_string(i) + "\n";
  }
  text += " authentication username S password P realm c3\n authentication username S password P realm s1\n";
  r = load_startup_config(text, cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 15) << r.errors[0].format("f");
}

// The daemon keeps one ConfigIndex across every command of every session. After any mix of
// additions and removals (credentials, sip-ua and dial-peer authentication, dial peers taking
// and dropping numbers, dial peers removed), each command is accepted or refused (R5 above all)
// exactly as a session without kept tables decides it, and leaves the same configuration.
TEST(Restrictions, KeptIndexDecidesAsAFreshOne) {
  Config kept_cfg, fresh_cfg;
  ConfigIndex index;
  Interpreter kept(kept_cfg, nullptr, &index), fresh(fresh_cfg);
  Session ks, fs;
  std::uint64_t seed = 42;
  auto next = [&](std::uint64_t n) { return ((seed = seed * 6364136223846793005ull + 1442695040888963407ull) >> 33) % n; };
  auto realm = [&] { return "r" + std::to_string(next(16)); };
  auto number = [&] { return std::to_string(5000 + next(4)); };
  int refused = 0;
  for (int i = 0; i < 3000; ++i) {
    std::vector<std::string> lines;
    switch (next(8)) {
      case 0:
      case 1:
        lines = {"sip-ua", "credentials number " + number() + " username u password 0 p" + std::to_string(next(2)) +
                               " realm " + realm()};
        break;
      case 2:
        lines = {"sip-ua", "no credentials number " + number() + " username u password 0 p0 realm " + realm()};
        break;
      case 3:
        lines = {"sip-ua", "authentication username a password 0 p realm " + realm()};
        break;
      case 4:
        lines = {"sip-ua", "no authentication username a password 0 p realm " + realm()};
        break;
      case 5: {
        const std::string tag = std::to_string(1 + next(3));
        lines = {"dial-peer voice " + tag + " pots", "destination-pattern " + number(),
                 "authentication username d password 0 p realm " + realm()};
        break;
      }
      case 6:
        lines = {"dial-peer voice " + std::to_string(1 + next(3)) + " pots",
                 "no authentication username d password 0 p realm " + realm()};
        break;
      default:
        lines = {"no dial-peer voice " + std::to_string(1 + next(3)) + " pots"};
        break;
    }
    ks.mode = fs.mode = Mode::global_config;
    for (const std::string& line : lines) {
      const Result a = kept.execute(line, ks), b = fresh.execute(line, fs);
      ASSERT_EQ(a.code(), b.code()) << i << ": " << line << "\n" << format_error(line, a) << format_error(line, b);
      ASSERT_EQ(a.changed, b.changed) << i << ": " << line;
      refused += a.ok() ? 0 : 1;
    }
    ASSERT_EQ(kept_cfg, fresh_cfg) << i;
  }
  EXPECT_GT(refused, 10);  // R5 was reached: the realm counts were exercised, not only additions
}

}  // namespace
}  // namespace regfront::config
