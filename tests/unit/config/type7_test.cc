// Cisco type 7: known pairs computed by hand from the public key, and round trips.
#include <gtest/gtest.h>

#include "harness.h"
#include "regfront/config/commands.h"

namespace regfront::config {
namespace {

TEST(Type7, KnownPairs) {
  // 'c'^'f'=05 'i'^'d'=0D 's'^';'=48 'c'^'k'=08 'o'^'f'=09 (key from offset 2).
  EXPECT_EQ(type7_encode("cisco", 2), "02050D480809");
  // Seed 0: 'a'^'d'=05, 'b'^'s'=11.
  EXPECT_EQ(type7_encode("ab", 0), "000511");
  std::string clear;
  ASSERT_TRUE(type7_decode("02050D480809", clear));
  EXPECT_EQ(clear, "cisco");
  ASSERT_TRUE(type7_decode("02050d480809", clear));  // lower-case hex accepted
  EXPECT_EQ(clear, "cisco");
}

TEST(Type7, RoundTrips) {
  const char* words[] = {"cisco", "MyPassword", "p@ss-w0rd!", "x",
                         "a-much-longer-password-than-the-fifty-three-byte-key-itself-wraps"};
  for (unsigned seed = 0; seed < 16; ++seed) {
    for (const char* w : words) {
      std::string clear;
      std::string enc = type7_encode(w, seed);
      ASSERT_TRUE(type7_decode(enc, clear)) << enc;
      EXPECT_EQ(clear, w);
    }
  }
}

TEST(Type7, InvalidText) {
  std::string clear = "unchanged";
  for (const char* bad : {"", "0", "02", "020", "02050D48080", "A2050D", "02GG", "5305"}) {
    EXPECT_FALSE(type7_decode(bad, clear)) << bad;
  }
  EXPECT_FALSE(type7_decode("0264", clear));  // decodes to a control character
  EXPECT_EQ(clear, "unchanged");
}

}  // namespace
}  // namespace regfront::config

// `no service password-encryption` as IOS: what is encrypted stays encrypted in the
// running-config; only passwords entered from then on are kept in clear.
namespace regfront::config {
namespace {

TEST(PasswordEncryption, TurningTheServiceOffDecryptsNothing) {
  test::Harness h;
  h.setup({"sip-ua", "credentials number 1001 username u1 password 0 clear-one realm r1",
           "authentication username a1 password 0 auth-one realm r1", "exit",
           "dial-peer voice 1 pots", "destination-pattern 1002",
           "authentication username d1 password 0 peer-one realm r1", "exit",
           "service password-encryption", "no service password-encryption"});
  std::string run = render_running_config(h.cfg);
  EXPECT_EQ(run.find("service password-encryption"), std::string::npos);
  for (const char* clear : {"clear-one", "auth-one", "peer-one"}) {
    EXPECT_EQ(run.find(clear), std::string::npos) << clear << "\n" << run;
    EXPECT_NE(run.find("password 7 " + type7_encode(clear)), std::string::npos) << clear << "\n" << run;
  }
  // New passwords, and a password entered again, are in clear from now on.
  h.setup({"sip-ua", "credentials number 1003 username u3 password new-one realm r1",
           "credentials number 1001 username u1 password 0 clear-one realm r1"});
  run = render_running_config(h.cfg);
  EXPECT_NE(run.find("credentials number 1003 username u3 password 0 new-one realm r1"), std::string::npos) << run;
  EXPECT_NE(run.find("credentials number 1001 username u1 password 0 clear-one realm r1"), std::string::npos) << run;
  EXPECT_NE(run.find("password 7 " + type7_encode("auth-one")), std::string::npos) << run;
  // What was saved loads back the same.
  Config back;
  ASSERT_TRUE(load_startup_config(run, back).ok());
  EXPECT_EQ(back, h.cfg);
  EXPECT_EQ(render_running_config(back), run);
}

TEST(PasswordEncryption, AType7PasswordStaysType7WithoutTheService) {
  test::Harness h;
  const std::string enc = type7_encode("hidden");
  h.setup({"sip-ua", "credentials number 1001 username u1 password 7 " + enc + " realm r1",
           "credentials dhcp password 7 " + enc + " realm r2"});
  std::string run = render_running_config(h.cfg);
  EXPECT_EQ(run.find("hidden"), std::string::npos) << run;
  EXPECT_NE(run.find("credentials number 1001 username u1 password 7 " + enc + " realm r1"), std::string::npos) << run;
  EXPECT_EQ(h.cfg.sip_ua.credentials.at(0).password, "hidden");  // the model keeps it in clear
  // Entering the same password in clear is a change (the running-config shows it differently).
  const Result r = h.run("credentials number 1001 username u1 password 0 hidden realm r1");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.changed);
  EXPECT_NE(render_running_config(h.cfg).find("username u1 password 0 hidden realm r1"), std::string::npos);
}

}  // namespace
}  // namespace regfront::config
