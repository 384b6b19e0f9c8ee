// voice class sip-options-keepalive (IOS XE CUBE syntax) and regfront's extension that applies
// a profile to a registrar (`registrar N … options-keepalive profile TAG`): the commands,
// their defaults and no forms, the refusals, the prompt and the running-config round trip.
#include <gtest/gtest.h>

#include "harness.h"
#include "regfront/config/commands.h"

namespace regfront::config {
namespace {

using test::Harness;

const OptionsKeepalive& profile(const Config& c, std::uint32_t tag) { return c.keepalive_profiles.at(tag); }

TEST(Keepalive, ProfileCommandsAndDefaults) {
  Harness h;
  h.setup({"voice class sip-options-keepalive 10"});
  EXPECT_EQ(h.s.mode, Mode::keepalive);
  EXPECT_EQ(prompt(h.cfg, h.s), "Router(config-class)#");
  OptionsKeepalive want;
  want.tag = 10;
  EXPECT_EQ(profile(h.cfg, 10), want);
  EXPECT_EQ(want.up_interval_s, 60);
  EXPECT_EQ(want.down_interval_s, 30);
  EXPECT_EQ(want.retry, 5);
  h.setup({"description carrier A registrar", "up-interval 120", "down-interval 5", "retry 2", "transport udp"});
  want.description = "carrier A registrar";
  want.up_interval_s = 120;
  want.down_interval_s = 5;
  want.retry = 2;
  EXPECT_EQ(profile(h.cfg, 10), want);
  // Abbreviations, as IOS takes them.
  h.setup({"up 30", "down 10", "ret 3"});
  EXPECT_EQ(profile(h.cfg, 10).up_interval_s, 30);
  EXPECT_EQ(profile(h.cfg, 10).down_interval_s, 10);
  EXPECT_EQ(profile(h.cfg, 10).retry, 3);
  // no forms restore the defaults.
  h.setup({"no description", "no up-interval", "no down-interval 10", "no retry"});
  want = OptionsKeepalive{};
  want.tag = 10;
  EXPECT_EQ(profile(h.cfg, 10), want);
  h.setup({"exit"});
  EXPECT_EQ(h.s.mode, Mode::global_config);
}

TEST(Keepalive, RangesAreIos) {
  Harness h;
  h.setup({"voice class sip-options-keepalive 1"});
  for (const char* bad : {"up-interval 4", "up-interval 1201", "down-interval 0", "down-interval 1201", "retry 0",
                          "retry 11", "transport tls"}) {
    EXPECT_FALSE(h.run(bad).ok()) << bad;
  }
  OptionsKeepalive defaults;
  defaults.tag = 1;
  EXPECT_EQ(profile(h.cfg, 1), defaults);
  h.setup({"up-interval 5", "up-interval 1200", "down-interval 5", "retry 1", "retry 10"});
  EXPECT_FALSE(Harness().run("voice class sip-options-keepalive 0").ok());
  EXPECT_FALSE(Harness().run("voice class sip-options-keepalive 10001").ok());
}

TEST(Keepalive, RegistrarExtension) {
  Harness h;
  h.setup({"sip-ua"});
  // A profile must exist before a registrar names it.
  const Result r = h.run("registrar 1 ipv4:192.0.2.1 expires 600 options-keepalive profile 7");
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.status.message().find("not configured"), std::string::npos) << r.status.message();
  EXPECT_TRUE(h.cfg.sip_ua.registrars.empty());
  h.setup({"exit", "voice class sip-options-keepalive 7", "up-interval 10", "exit", "sip-ua",
           "registrar 1 ipv4:192.0.2.1 expires 600 options-keepalive profile 7",
           "registrar 2 ipv4:192.0.2.2 options-keepalive profile 7 expires 300"});
  EXPECT_EQ(h.cfg.sip_ua.registrars.at(1).keepalive_profile, 7u);
  EXPECT_EQ(h.cfg.sip_ua.registrars.at(2).keepalive_profile, 7u);
  EXPECT_EQ(h.cfg.sip_ua.registrars.at(2).expires, 300u);
  // In use: the profile cannot go.
  h.setup({"exit"});
  const Result in_use = h.run("no voice class sip-options-keepalive 7");
  EXPECT_FALSE(in_use.ok());
  EXPECT_NE(in_use.status.message().find("in use by registrar 1"), std::string::npos) << in_use.status.message();
  EXPECT_EQ(h.cfg.keepalive_profiles.count(7), 1u);
  // The registrar given again without it: no keepalive; then the profile may go.
  h.setup({"sip-ua", "registrar 1 ipv4:192.0.2.1 expires 600", "no registrar 2", "exit",
           "no voice class sip-options-keepalive 7"});
  EXPECT_EQ(h.cfg.sip_ua.registrars.at(1).keepalive_profile, 0u);
  EXPECT_TRUE(h.cfg.keepalive_profiles.empty());
}

TEST(Keepalive, RunningConfigRoundTrip) {
  Harness h;
  h.setup({"voice class sip-options-keepalive 7", "description lab", "up-interval 10", "down-interval 5", "retry 2",
           "exit", "voice class sip-options-keepalive 8", "exit", "sip-ua",
           "registrar 1 ipv4:192.0.2.1 expires 600 options-keepalive profile 7",
           "registrar 2 ipv4:192.0.2.2"});
  ASSERT_EQ(h.cfg.keepalive_profiles.size(), 2u);
  ASSERT_EQ(h.cfg.sip_ua.registrars.at(1).keepalive_profile, 7u);
  const std::string text = render_running_config(h.cfg);
  EXPECT_NE(text.find("voice class sip-options-keepalive 7\n description lab\n up-interval 10\n"
                      " down-interval 5\n retry 2\n!\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("voice class sip-options-keepalive 8\n!\n"), std::string::npos) << text;
  EXPECT_NE(text.find(" registrar 1 ipv4:192.0.2.1 expires 600 options-keepalive profile 7\n"), std::string::npos)
      << text;
  // The profiles come before sip-ua, so the text loads back as it was.
  EXPECT_LT(text.find("voice class"), text.find("sip-ua"));
  Config back;
  const LoadResult r = load_startup_config(text, back);
  for (const auto& e : r.errors) ADD_FAILURE() << e.format("running-config");
  EXPECT_EQ(back, h.cfg);
}

}  // namespace
}  // namespace regfront::config
