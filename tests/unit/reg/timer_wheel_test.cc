// TimerWheel: schedule/cancel/re-arm, expiry order, cascades through every level and the
// overflow list, callbacks that re-arm or cancel, a randomised comparison with a std::multimap
// reference, and large jumps of the injected clock.
#include "regfront/reg/timer_wheel.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <utility>
#include <vector>

namespace regfront::reg {
namespace {

using Fired = std::vector<std::pair<std::uint64_t, std::uint32_t>>;  // (time, id)

// Advances one millisecond at a time so that the firing time of every timer is observed.
void step_to(TimerWheel& w, std::uint64_t to, Fired& fired) {
  while (w.now() < to) {
    const std::uint64_t t = w.now() + 1;
    w.advance(t, [&](std::uint32_t id) { fired.emplace_back(t, id); });
  }
}

TEST(TimerWheel, ScheduleCancelRearm) {
  TimerWheel w(8, 1000);
  EXPECT_EQ(w.size(), 0u);
  w.schedule(1, 1010);
  w.schedule(2, 1020);
  EXPECT_TRUE(w.armed(1));
  EXPECT_EQ(w.due(1), 1010u);
  EXPECT_EQ(w.size(), 2u);
  w.cancel(2);
  EXPECT_FALSE(w.armed(2));
  EXPECT_EQ(w.size(), 1u);
  w.cancel(2);  // cancelling twice is harmless
  EXPECT_EQ(w.size(), 1u);
  w.schedule(1, 1030);  // re-arm moves it
  EXPECT_EQ(w.size(), 1u);
  Fired fired;
  step_to(w, 1100, fired);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], std::make_pair(std::uint64_t{1030}, 1u));
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(w.armed(1));
}

TEST(TimerWheel, SizeStaysRightWhenRearmedRepeatedly) {
  TimerWheel w(4, 0);
  for (int i = 0; i < 10; ++i) w.schedule(3, 100 + i);
  EXPECT_EQ(w.size(), 1u);
  Fired fired;
  w.advance(1000, [&](std::uint32_t id) { fired.emplace_back(0, id); });
  EXPECT_EQ(fired.size(), 1u);
  EXPECT_EQ(w.size(), 0u);
  EXPECT_EQ(w.next_hint(), ~std::uint64_t{0});  // empty: nothing to wake up for
}

TEST(TimerWheel, PastDueFiresOnNextTick) {
  TimerWheel w(2, 500);
  w.schedule(0, 100);
  EXPECT_EQ(w.due(0), 501u);
  Fired fired;
  step_to(w, 501, fired);
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0].first, 501u);
}

TEST(TimerWheel, ExpiryOrderAcrossTicks) {
  TimerWheel w(16, 0);
  const std::uint64_t due[] = {300, 5, 70000, 256, 255, 1, 65536, 65535, 257};
  for (std::uint32_t i = 0; i < std::size(due); ++i) w.schedule(i, due[i]);
  std::vector<std::uint64_t> seen;
  w.advance(100000, [&](std::uint32_t id) { seen.push_back(due[id]); });
  ASSERT_EQ(seen.size(), std::size(due));
  for (std::size_t i = 1; i < seen.size(); ++i) EXPECT_LE(seen[i - 1], seen[i]);
}

// Every level boundary, from several starting points (so that the highest differing byte is
// exercised, not just the distance).
TEST(TimerWheel, CascadesFireAtExactTick) {
  const std::uint64_t deltas[] = {1,        255,        256,        257,          65535,
                                  65536,    65537,      3600000,    5 * 3600000,  16777215,
                                  16777216, 16777217,   4294967295ull, 4294967296ull,
                                  4294967297ull, 50ull * 86400000, 100ull * 86400000};
  const std::uint64_t starts[] = {0, 1, 255, 65535, 123456789, 4294967290ull};
  for (std::uint64_t start : starts) {
    for (std::uint64_t d : deltas) {
      TimerWheel w(1, start);
      w.schedule(0, start + d);
      std::uint64_t fired_at = 0;
      int count = 0;
      // One jump to just before, then the due tick: nothing early, exactly once on time.
      w.advance(start + d - 1, [&](std::uint32_t) { ++count; });
      EXPECT_EQ(count, 0) << "start " << start << " delta " << d;
      w.advance(start + d, [&](std::uint32_t) {
        ++count;
        fired_at = w.now();
      });
      EXPECT_EQ(count, 1) << "start " << start << " delta " << d;
      EXPECT_EQ(fired_at, start + d) << "start " << start << " delta " << d;
    }
  }
}

TEST(TimerWheel, RearmFromInsideCallback) {
  TimerWheel w(2, 0);
  w.schedule(0, 10);
  std::vector<std::uint64_t> at;
  w.advance(1000, [&](std::uint32_t id) {
    at.push_back(w.now());
    if (at.size() < 5) w.schedule(id, w.now() + 100);
  });
  EXPECT_EQ(at, (std::vector<std::uint64_t>{10, 110, 210, 310, 410}));
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, RearmToSameTickFromCallbackFiresNextTick) {
  TimerWheel w(2, 0);
  w.schedule(0, 10);
  std::vector<std::uint64_t> at;
  w.advance(20, [&](std::uint32_t id) {
    at.push_back(w.now());
    if (at.size() == 1) w.schedule(id, w.now());  // "now" is the past: next tick
  });
  EXPECT_EQ(at, (std::vector<std::uint64_t>{10, 11}));
}

TEST(TimerWheel, CancelOtherFromCallback) {
  TimerWheel w(4, 0);
  w.schedule(0, 50);
  w.schedule(1, 50);  // same slot
  w.schedule(2, 60);
  std::vector<std::uint32_t> fired;
  w.advance(100, [&](std::uint32_t id) {
    fired.push_back(id);
    // Whichever of 0/1 fires first cancels the other, and also cancels 2.
    w.cancel(id == 0 ? 1 : 0);
    w.cancel(2);
  });
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(w.size(), 0u);
}

TEST(TimerWheel, BigTimeJumps) {
  TimerWheel w(3, 7);
  const std::uint64_t day = 86400000;
  w.schedule(0, 7 + 60 * day);   // > 49.7 days: overflow list
  w.schedule(1, 7 + 3 * day);
  w.schedule(2, 7 + 500);
  Fired fired;
  w.advance(7 + 2 * day, [&](std::uint32_t id) { fired.emplace_back(w.now(), id); });
  ASSERT_EQ(fired.size(), 1u);
  EXPECT_EQ(fired[0], std::make_pair(std::uint64_t{7 + 500}, 2u));
  w.advance(7 + 100 * day, [&](std::uint32_t id) { fired.emplace_back(w.now(), id); });
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[1], std::make_pair(7 + 3 * day, 1u));
  EXPECT_EQ(fired[2], std::make_pair(7 + 60 * day, 0u));
  EXPECT_EQ(w.now(), 7 + 100 * day);
}

TEST(TimerWheel, NextHintIsALowerBound) {
  TimerWheel w(2, 1000);
  w.schedule(0, 1000 + 70000);
  const std::uint64_t h = w.next_hint();
  EXPECT_GT(h, 1000u);
  EXPECT_LE(h, 1000u + 70000);
}

// Random schedule/cancel/re-arm/advance against a std::multimap of (due, id). Expiry order is
// compared per tick as a set (timers due on one tick fire in any order).
TEST(TimerWheel, RandomAgainstReference) {
  constexpr std::uint32_t kIds = 2000;
  std::mt19937_64 rng(12345);
  const std::uint64_t start = 4294967296ull - 300000;  // crosses a 2^32 boundary on the way
  TimerWheel w(kIds, start);
  std::multimap<std::uint64_t, std::uint32_t> ref;
  std::vector<std::uint64_t> due_of(kIds, 0);  // 0 = not armed
  auto ref_cancel = [&](std::uint32_t id) {
    if (due_of[id] == 0) return;
    auto [lo, hi] = ref.equal_range(due_of[id]);
    for (auto it = lo; it != hi; ++it) {
      if (it->second == id) {
        ref.erase(it);
        break;
      }
    }
    due_of[id] = 0;
  };
  auto random_delta = [&]() -> std::uint64_t {
    switch (rng() % 5) {
      case 0: return rng() % 300;
      case 1: return rng() % 70000;
      case 2: return rng() % 20000000;
      case 3: return rng() % 6000000000ull;
      default: return 255 + rng() % 3;
    }
  };
  for (int round = 0; round < 4000; ++round) {
    const int ops = static_cast<int>(rng() % 20);
    for (int i = 0; i < ops; ++i) {
      const auto id = static_cast<std::uint32_t>(rng() % kIds);
      if (rng() % 4 == 0) {
        w.cancel(id);
        ref_cancel(id);
      } else {
        std::uint64_t due = w.now() + random_delta();
        w.schedule(id, due);
        ref_cancel(id);
        if (due <= w.now()) due = w.now() + 1;
        ref.emplace(due, id);
        due_of[id] = due;
      }
    }
    ASSERT_EQ(w.size(), ref.size());
    const std::uint64_t to = w.now() + ((round % 100 == 99) ? rng() % 3000000000ull : rng() % 400);
    std::multimap<std::uint64_t, std::uint32_t> got;
    w.advance(to, [&](std::uint32_t id) { got.emplace(w.now(), id); });
    std::multimap<std::uint64_t, std::uint32_t> want;
    while (!ref.empty() && ref.begin()->first <= to) {
      want.insert(*ref.begin());
      due_of[ref.begin()->second] = 0;
      ref.erase(ref.begin());
    }
    // Same (tick, id) pairs; compare as sorted vectors (ties in any order).
    std::vector<std::pair<std::uint64_t, std::uint32_t>> g(got.begin(), got.end()), e(want.begin(), want.end());
    std::sort(g.begin(), g.end());
    std::sort(e.begin(), e.end());
    ASSERT_EQ(g, e) << "round " << round;
  }
}

}  // namespace
}  // namespace regfront::reg
