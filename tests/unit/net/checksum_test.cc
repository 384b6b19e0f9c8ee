// wire::raw_sum (32-bit units) must give exactly rte_raw_cksum's folded sum (16-bit units) for
// every length and alignment, odd tails included: RX verification and TX checksums use it.
#include <gtest/gtest.h>
#include <rte_ip.h>

#include <cstdint>
#include <random>
#include <vector>

#include "../../../dataplane/net/internal.h"

namespace regfront::net::test {
namespace {

TEST(RawSum, MatchesRteRawCksumForEveryLengthAndAlignment) {
  std::mt19937 rng(7);
  std::vector<std::uint8_t> buf(1600 + 8);
  for (auto& b : buf) b = std::uint8_t(rng());
  for (std::size_t off = 0; off < 8; ++off)
    for (std::size_t len = 0; len <= 1600; ++len)
      ASSERT_EQ(wire::raw_sum(buf.data() + off, len), rte_raw_cksum(buf.data() + off, len)) << off << " " << len;
}

TEST(RawSum, ExtremeValues) {
  std::vector<std::uint8_t> zeros(1500, 0), ones(1500, 0xff);
  for (std::size_t len : {0u, 1u, 2u, 3u, 4u, 5u, 15u, 16u, 17u, 1499u, 1500u}) {
    EXPECT_EQ(wire::raw_sum(zeros.data(), len), rte_raw_cksum(zeros.data(), len)) << len;
    EXPECT_EQ(wire::raw_sum(ones.data(), len), rte_raw_cksum(ones.data(), len)) << len;
  }
}

}  // namespace
}  // namespace regfront::net::test
