// CnonceSource: lowercase hex, unique over many draws, no allocation after construction.
#include <gtest/gtest.h>

#include <string>
#include <unordered_set>

#include "alloc_hooks.h"
#include "regfront/auth/digest.h"

namespace regfront::auth {
namespace {

TEST(Cnonce, LowercaseHexOfRequestedLength) {
  CnonceSource src;
  for (std::size_t len : {1u, 7u, 8u, 16u, 31u, 32u, 64u}) {
    char buf[kMaxHexLength + 1];
    buf[len] = '#';
    src.next(buf, len);
    EXPECT_EQ(buf[len], '#') << "wrote past " << len;
    const std::string s(buf, len);
    EXPECT_EQ(s.find_first_not_of("0123456789abcdef"), std::string::npos) << s;
  }
}

TEST(Cnonce, UniqueOverManyDrawsAndAcrossSources) {
  CnonceSource a, b;
  std::unordered_set<std::string> seen;
  constexpr int kDraws = 200000;  // crosses many keystream refills
  char buf[16];
  for (int i = 0; i < kDraws; ++i) {
    a.next(buf, sizeof buf);
    seen.emplace(buf, sizeof buf);
    b.next(buf, sizeof buf);
    seen.emplace(buf, sizeof buf);
  }
  EXPECT_EQ(seen.size(), 2u * kDraws);
}

TEST(Cnonce, DigitsAreRoughlyUniform) {
  CnonceSource src;
  std::size_t count[16] = {};
  char buf[64];
  for (int i = 0; i < 10000; ++i) {
    src.next(buf, sizeof buf);
    for (char c : buf) ++count[c <= '9' ? c - '0' : c - 'a' + 10];
  }
  // 640 000 digits, 40 000 expected per value; 5 % is > 30 sigma.
  for (std::size_t n : count) {
    EXPECT_GT(n, 38000u);
    EXPECT_LT(n, 42000u);
  }
}

TEST(Cnonce, NoAllocationAfterConstruction) {
  ASSERT_TRUE(test::openssl_hooks_installed());
  CnonceSource src;
  char buf[kMaxHexLength];
  test::CountAllocations scope;
  for (int i = 0; i < 100000; ++i) src.next(buf, (i % 64) + 1);
  EXPECT_EQ(scope.counts().openssl, 0u);
  EXPECT_EQ(scope.counts().cxx, 0u);
}

}  // namespace
}  // namespace regfront::auth
