// Cisco type 7: known pairs computed by hand from the public key, and round trips.
#include <gtest/gtest.h>

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
