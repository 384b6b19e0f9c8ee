// daemon::TargetFailover: when a `dns:` registrar leaves its target in use (N failures without a
// 2xx), where it goes (the best target not held down), how long a failed target is held down
// (doubling while it keeps failing), and the return to a better target.
#include "regfront/daemon/target_failover.h"

#include <gtest/gtest.h>

namespace regfront::daemon {
namespace {

// Counter totals as the daemon feeds them (cumulative, summed over workers).
struct Feed {
  TargetFailover& f;
  std::uint64_t accepted = 0, failures = 0, now = 1000;
  bool tick(std::uint64_t ok, std::uint64_t failed, std::uint64_t ms = 100) {
    accepted += ok;
    failures += failed;
    now += ms;
    return f.observe(accepted, failures, now);
  }
};

FailoverPolicy policy() {
  FailoverPolicy p;
  p.failures = 3;
  p.hold_down_ms = 10000;
  p.max_hold_down_ms = 35000;
  return p;
}

TEST(TargetFailover, ThreeFailuresWithoutA2xxMoveToTheNextTarget) {
  TargetFailover f(policy());
  f.reset(3);
  Feed in{f, 500, 7};  // counts from before are the baseline, not failures
  EXPECT_FALSE(in.tick(0, 0));
  EXPECT_FALSE(in.tick(0, 1));
  EXPECT_FALSE(in.tick(0, 1));
  EXPECT_EQ(f.streak(), 2u);
  EXPECT_FALSE(in.tick(1, 0)) << "a 2xx in between: the target answers";
  EXPECT_EQ(f.streak(), 0u);
  EXPECT_FALSE(in.tick(2, 5)) << "2xx and failures in one tick count as answered";
  EXPECT_FALSE(in.tick(0, 2));
  EXPECT_TRUE(in.tick(0, 1));
  EXPECT_EQ(f.current(), 1u);
  EXPECT_GT(f.down_for_ms(0, in.now), 9000u);
  EXPECT_EQ(f.down_for_ms(1, in.now), 0u);
  EXPECT_FALSE(f.why().empty());
  // A burst of failures at once (many bindings) moves at once; the next target is the best one
  // not held down.
  EXPECT_TRUE(in.tick(0, 40));
  EXPECT_EQ(f.current(), 2u);
}

TEST(TargetFailover, ReturnsToABetterTargetWhenItsHoldDownIsOverAndHoldsLongerIfItStillFails) {
  TargetFailover f(policy());
  f.reset(2);
  Feed in{f};
  in.tick(0, 0);
  ASSERT_TRUE(in.tick(0, 3));
  EXPECT_EQ(f.current(), 1u);
  for (int i = 0; i < 98; ++i) ASSERT_FALSE(in.tick(1, 0)) << i;  // 9.8 s on the second, answering
  EXPECT_TRUE(in.tick(0, 0, 300)) << "the first's 10 s hold-down is over: back to it";
  EXPECT_EQ(f.current(), 0u);
  // Still dead: away again, and held down twice as long.
  ASSERT_TRUE(in.tick(0, 3));
  EXPECT_EQ(f.current(), 1u);
  EXPECT_GT(f.down_for_ms(0, in.now), 19000u);
  EXPECT_LE(f.down_for_ms(0, in.now), 20000u);
  in.tick(0, 0, 20000);
  ASSERT_EQ(f.current(), 0u);
  ASSERT_TRUE(in.tick(0, 3));
  EXPECT_LE(f.down_for_ms(0, in.now), 35000u) << "capped at max_hold_down_ms";
  EXPECT_GT(f.down_for_ms(0, in.now), 34000u);
  // Back once more, and this time it answers: the next failure holds it down 10 s again.
  in.tick(0, 0, 35000);
  ASSERT_EQ(f.current(), 0u);
  EXPECT_FALSE(in.tick(5, 0));
  ASSERT_TRUE(in.tick(0, 3));
  EXPECT_LE(f.down_for_ms(0, in.now), 10000u);
}

TEST(TargetFailover, AllDownKeepsTryingInOrder) {
  TargetFailover f(policy());
  f.reset(2);
  Feed in{f};
  in.tick(0, 0);
  ASSERT_TRUE(in.tick(0, 3));
  EXPECT_EQ(f.current(), 1u);
  ASSERT_TRUE(in.tick(0, 3)) << "the second fails too: the next in order, though held down";
  EXPECT_EQ(f.current(), 0u);
}

TEST(TargetFailover, OneTargetNeverMoves) {
  TargetFailover f(policy());
  f.reset(1);
  Feed in{f};
  for (int i = 0; i < 10; ++i) EXPECT_FALSE(in.tick(0, 100));
  EXPECT_EQ(f.current(), 0u);
}

TEST(TargetFailover, ResetStartsAtTheBestTargetWithAFreshBaseline) {
  TargetFailover f(policy());
  f.reset(2);
  Feed in{f};
  in.tick(0, 0);
  ASSERT_TRUE(in.tick(0, 3));
  f.reset(3);  // a new DNS answer
  EXPECT_EQ(f.current(), 0u);
  EXPECT_EQ(f.down_for_ms(0, in.now), 0u);
  EXPECT_FALSE(in.tick(0, 2)) << "the first observation after a reset is the baseline";
  EXPECT_FALSE(in.tick(0, 2));
  EXPECT_TRUE(in.tick(0, 1));
}

}  // namespace
}  // namespace regfront::daemon
