// SipHash-2-4 against the reference vector: key 00 01 .. 0f, message 00 01 .. 0f (16 bytes).
// The expected output is entry 16 of the reference implementation's vectors (vectors.h of
// github.com/veorq/SipHash, the same table as in the paper's appendix), read as a
// little-endian 64-bit word: bytes db 9b c2 57 7f cc 2a 3f.
#include "regfront/common/siphash.h"

#include <gtest/gtest.h>

namespace regfront {
namespace {

TEST(SipHash, ReferenceVectorSixteenBytes) {
  const SipKey key{0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull};
  EXPECT_EQ(siphash24(key, 0x0706050403020100ull, 0x0f0e0d0c0b0a0908ull), 0x3f2acc7f57c29bdbull);
}

TEST(SipHash, KeyAndMessageMatter) {
  const SipKey a{1, 2}, b{1, 3};
  EXPECT_NE(siphash24(a, 5, 6), siphash24(b, 5, 6));
  EXPECT_NE(siphash24(a, 5, 6), siphash24(a, 6, 5));
  EXPECT_EQ(siphash24(a, 5, 6), siphash24(a, 5, 6));
}

}  // namespace
}  // namespace regfront
