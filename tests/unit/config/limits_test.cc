// The documented maxima of configuration values (docs/config-limits.md): a longer value is
// refused with an IOS-style error that changes nothing, when typed and when loaded (FILE:LINE
// and the reason), and the value at the maximum is accepted.
#include <gtest/gtest.h>

#include <string>

#include "harness.h"

namespace regfront::config {
namespace {

using test::Harness;

struct Case {
  const char* mode;      // the command that enters the mode
  std::string line;      // too long by one
  std::string ok_line;   // at the maximum
  const char* message;   // what the operator sees
};

std::vector<Case> cases() {
  const std::string u(kMaxUsernameLength, 'u'), u1(kMaxUsernameLength + 1, 'u');
  const std::string p(kMaxPasswordLength, 'p'), p1(kMaxPasswordLength + 1, 'p');
  const std::string r(kMaxRealmLength, 'r'), r1(kMaxRealmLength + 1, 'r');
  const std::string t7 = type7_encode(p), t71 = type7_encode(p1);
  const std::string n(kMaxNumberLength, '5'), n1(kMaxNumberLength + 1, '5');
  const std::string host = std::string(kMaxDnsNameLength - 4, 'h') + ".com";
  const std::string host1 = std::string(kMaxDnsNameLength - 3, 'h') + ".com";
  const std::string name(kMaxHostnameLength, 'R'), name1(kMaxHostnameLength + 1, 'R');
  return {
      {"sip-ua", "authentication username " + u1 + " password P realm R",
       "authentication username " + u + " password P realm R",
       "% Username too long (128 characters at most)"},
      {"sip-ua", "authentication username U password " + p1 + " realm R",
       "authentication username U password " + p + " realm R",
       "% Password too long (128 characters at most)"},
      {"sip-ua", "authentication username U password 7 " + t71 + " realm R",
       "authentication username U password 7 " + t7 + " realm R",
       "% Password too long (258 characters at most in type 7 form)"},
      {"sip-ua", "authentication username U password P realm " + r1,
       "authentication username U password P realm " + r, "% Realm too long (128 characters at most)"},
      {"sip-ua", "credentials number 1 username " + u1 + " password P realm R",
       "credentials number 1 username " + u + " password P realm R",
       "% Username too long (128 characters at most)"},
      {"sip-ua", "credentials number 1 username U password P realm " + r1,
       "credentials number 1 username U password P realm " + r, "% Realm too long (128 characters at most)"},
      {"sip-ua", "credentials number " + n1 + " username U password P realm R",
       "credentials number " + n + " username U password P realm R", "% Invalid input detected"},
      {"sip-ua", "registrar 1 dns:" + host1 + " expires 60", "registrar 1 dns:" + host + " expires 60",
       "% Invalid input detected"},
      {"sip-ua", "registrar 1 dns:example.com auth-realm " + r1,
       "registrar 1 dns:example.com auth-realm " + r, "% Realm too long (128 characters at most)"},
      {"dial-peer voice 1 pots", "authentication username " + u1 + " password P realm R",
       "authentication username " + u + " password P realm R",
       "% Username too long (128 characters at most)"},
      {"dial-peer voice 1 pots", "authentication username U password P realm " + r1,
       "authentication username U password P realm " + r, "% Realm too long (128 characters at most)"},
      {"dial-peer voice 2 voip", "description " + std::string(kMaxDialPeerDescription + 1, 'd'),
       "description " + std::string(kMaxDialPeerDescription, 'd'), "% Description too long"},
      {"voice service voip", "hostname " + name1, "hostname " + name, "% Invalid input detected"},
  };
}

TEST(Limits, TypedValueOverItsMaximumRefusedAndChangesNothing) {
  for (const Case& c : cases()) {
    Harness h;
    h.setup({c.mode});
    const Config before = h.cfg;
    const Mode mode = h.s.mode;
    const Result r = h.run(c.line);
    const std::string shown = format_error(c.line, r);
    EXPECT_FALSE(r.ok()) << c.line.substr(0, 60) << "… was accepted";
    EXPECT_NE(shown.find(c.message), std::string::npos) << shown;
    EXPECT_EQ(h.cfg, before) << c.line.substr(0, 60);
    EXPECT_EQ(h.s.mode, mode);
    // The message itself never quotes the value (a password, or a megabyte of it).
    EXPECT_LT(r.status.message().size(), 80u) << r.status.message();
    const Result ok = h.run(c.ok_line);
    EXPECT_TRUE(ok.ok()) << c.ok_line.substr(0, 60) << "…\n" << format_error(c.ok_line, ok);
  }
}

TEST(Limits, LoadedValueOverItsMaximumRefusedWithLine) {
  for (const Case& c : cases()) {
    Config cfg;
    const std::string text = "hostname Router\n" + std::string(c.mode) + "\n " + c.line + "\n";
    const LoadResult r = load_startup_config(text, cfg);
    ASSERT_EQ(r.errors.size(), 1u) << c.line.substr(0, 60);
    EXPECT_EQ(r.errors[0].line, 3);
    const std::string shown = r.errors[0].format("startup-config");
    EXPECT_TRUE(shown.starts_with("startup-config:3: % ")) << shown;
    EXPECT_EQ(cfg, Config{}) << "a refused load changes nothing";
  }
}

TEST(Limits, PasswordOverItsMaximumNeverShown) {
  const std::string p1 = "secret" + std::string(kMaxPasswordLength, 's');
  Config cfg;
  const LoadResult r =
      load_startup_config("sip-ua\n authentication username U password 0 " + p1 + " realm R\n", cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].format("f").find("secret"), std::string::npos) << r.errors[0].format("f");
}

TEST(Limits, LoadedLineOverItsMaximumRefusedWithoutQuotingIt) {
  // 1 MB of username: refused as a line, its text cut in the error (which goes to logs).
  const std::string huge = " credentials number 1 username " + std::string(1 << 20, 'u') +
                           " password 0 hunter2 realm R\n";
  Config cfg;
  const LoadResult r = load_startup_config("sip-ua\n" + huge, cfg);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].line, 2);
  const std::string shown = r.errors[0].format("startup-config");
  EXPECT_NE(shown.find("startup-config:2: % Line too long (4096 characters at most)"), std::string::npos)
      << shown.substr(0, 200);
  EXPECT_LT(shown.size(), 200u);
  EXPECT_EQ(cfg, Config{});
}

}  // namespace
}  // namespace regfront::config
