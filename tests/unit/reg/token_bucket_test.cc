// TokenBucket under a manual clock: accrual by elapsed milliseconds, the depth cap, taking,
// time until the next token, skipped (idle) time, and rate changes. The rates and times are
// chosen so that the expected token counts are exact in binary floating point.
#include "regfront/reg/token_bucket.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace regfront::reg {
namespace {

TEST(TokenBucket, StartsEmptyAtTimeZero) {
  const TokenBucket b;
  EXPECT_EQ(b.tokens(), 0.0);
  EXPECT_EQ(b.last_ms(), 0u);
  EXPECT_FALSE(b.has_token());
}

TEST(TokenBucket, AccruesByElapsedMillisecondsAtTheRate) {
  TokenBucket b;
  std::uint64_t now = 1000;
  b.skip(now);
  b.refill(now, 500, 100);  // no time passed
  EXPECT_EQ(b.tokens(), 0.0);
  now += 1;
  b.refill(now, 500, 100);  // 500/s: half a token per millisecond
  EXPECT_EQ(b.tokens(), 0.5);
  EXPECT_FALSE(b.has_token());
  now += 3;
  b.refill(now, 500, 100);
  EXPECT_EQ(b.tokens(), 2.0);
  EXPECT_TRUE(b.has_token());
  EXPECT_EQ(b.last_ms(), now);
}

TEST(TokenBucket, SlowRatesKeepTheirFractions) {
  TokenBucket b;
  b.skip(0);
  for (std::uint64_t now = 250; now <= 2000; now += 250) b.refill(now, 0.5, 1);  // 0.5 / s
  EXPECT_EQ(b.tokens(), 1.0);
  EXPECT_TRUE(b.has_token());
}

TEST(TokenBucket, TheFirstRefillCountsFromTimeZero) {
  TokenBucket b;
  b.refill(8, 250, 100);  // 8 ms since the bucket's clock (0) at 0.25 per ms
  EXPECT_EQ(b.tokens(), 2.0);
}

TEST(TokenBucket, CapsAtTheDepth) {
  TokenBucket b;
  b.refill(1000000, 500, 10);
  EXPECT_EQ(b.tokens(), 10.0);
  b.refill(1000001, 500, 10);  // full: what it earns is lost
  EXPECT_EQ(b.tokens(), 10.0);
  b.refill(1000002, 500, 4);  // a smaller depth trims what it holds
  EXPECT_EQ(b.tokens(), 4.0);
}

TEST(TokenBucket, DepthBelowOneNeverLetsATokenOut) {
  TokenBucket b;
  b.refill(1000000, 10, 0.5);
  EXPECT_EQ(b.tokens(), 0.5);
  EXPECT_FALSE(b.has_token());
}

TEST(TokenBucket, TakeRemovesOneWholeToken) {
  TokenBucket b;
  b.refill(5, 500, 100);  // 2.5 tokens
  int taken = 0;
  while (b.has_token()) {
    b.take();
    ++taken;
  }
  EXPECT_EQ(taken, 2);
  EXPECT_EQ(b.tokens(), 0.5) << "the fraction stays for the next refill";
  b.refill(6, 500, 100);
  EXPECT_TRUE(b.has_token());
}

TEST(TokenBucket, SkippedTimeEarnsNothingButKeepsWhatIsThere) {
  TokenBucket b;
  b.refill(3, 500, 100);  // 1.5
  b.skip(1000);           // nothing waited for 997 ms
  EXPECT_EQ(b.last_ms(), 1000u);
  b.refill(1000, 500, 100);
  EXPECT_EQ(b.tokens(), 1.5);
  b.refill(1001, 500, 100);
  EXPECT_EQ(b.tokens(), 2.0);
}

TEST(TokenBucket, MillisecondsUntilTheNextToken) {
  TokenBucket b;
  EXPECT_EQ(b.ms_until_token(500), 2.0);    // empty, 2 ms per token
  EXPECT_EQ(b.ms_until_token(0.5), 2000.0);
  b.refill(1, 500, 100);  // 0.5
  EXPECT_EQ(b.ms_until_token(500), 1.0);
  EXPECT_EQ(b.ms_until_token(250), 2.0);    // at the rate asked about, not the refill's
  b.refill(2, 500, 100);  // 1.0
  EXPECT_EQ(b.ms_until_token(500), 0.0);
  b.refill(5, 500, 100);  // 2.5: more than one is still "now"
  EXPECT_EQ(b.ms_until_token(500), 0.0);
  b.take();
  b.take();  // 0.5
  EXPECT_EQ(b.ms_until_token(500), 1.0);
}

// Waiting ms_until_token() and refilling then gives a token, at rates whose token is a whole
// number of milliseconds.
TEST(TokenBucket, WaitingTheAnnouncedTimeGivesAToken) {
  for (double rate : {1000.0, 500.0, 250.0, 125.0, 8.0, 1.0}) {
    SCOPED_TRACE(rate);
    TokenBucket b;
    std::uint64_t now = 77;
    b.skip(now);
    for (int i = 0; i < 5; ++i) {
      const double wait = b.ms_until_token(rate);
      ASSERT_GT(wait, 0.0);
      now += static_cast<std::uint64_t>(wait);
      b.refill(now, rate, 1000);
      ASSERT_TRUE(b.has_token());
      b.take();
    }
  }
}

// The rate is the caller's at each refill: a change applies to all the time since the last
// one, and the next wait is announced at the new rate.
TEST(TokenBucket, ARateChangeAppliesFromTheLastRefill) {
  TokenBucket b;
  b.refill(10, 100, 100);  // 0.1 per ms: 1 token
  EXPECT_EQ(b.tokens(), 1.0);
  b.take();
  b.refill(20, 1000, 100);  // raised to 1 per ms: the 10 ms since earn 10
  EXPECT_EQ(b.tokens(), 10.0);
  for (int i = 0; i < 10; ++i) b.take();
  b.refill(30, 50, 100);  // lowered to 0.05 per ms: the 10 ms since earn 0.5
  EXPECT_EQ(b.tokens(), 0.5);
  EXPECT_EQ(b.ms_until_token(50), 10.0);
  EXPECT_EQ(b.ms_until_token(1000), 0.5);
}

// A borrowed token goes below zero, up to the limit; the refills pay it back before a whole
// token is there again, so what was borrowed is still counted against the rate.
TEST(TokenBucket, BorrowingGoesBelowZeroUpToTheLimitAndIsPaidBack) {
  TokenBucket b;
  b.refill(10, 100, 1);  // 0.1 per ms, depth 1: 1 token
  EXPECT_TRUE(b.take_borrowing(2));  // 0
  EXPECT_TRUE(b.take_borrowing(2));  // -1
  EXPECT_TRUE(b.take_borrowing(2));  // -2
  EXPECT_FALSE(b.take_borrowing(2));
  EXPECT_EQ(b.tokens(), -2.0);
  EXPECT_FALSE(b.has_token());
  EXPECT_EQ(b.ms_until_token(100), 30.0);  // 3 tokens at 0.1 per ms
  b.refill(20, 100, 1);
  EXPECT_EQ(b.tokens(), -1.0);
  EXPECT_TRUE(b.take_borrowing(2));  // back to -2
  b.refill(50, 100, 1);
  EXPECT_TRUE(b.has_token());
}

}  // namespace
}  // namespace regfront::reg
