// SpscRing: fill, empty, refusal when full, the free-running 32-bit indices across their wrap,
// and one producer thread against one consumer thread (the test to run under ThreadSanitizer).
#include "regfront/common/spsc_ring.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string_view>
#include <thread>

namespace regfront {
namespace {

struct Item {
  std::uint64_t seq;
  std::uint64_t check;  // derived from seq: a torn or stale copy shows as a mismatch
  char pad[8];
};

Item make(std::uint64_t seq) { return Item{seq, seq * 0x9e3779b97f4a7c15ull ^ 0x5555, {}}; }

TEST(SpscRing, StartsEmpty) {
  SpscRing<Item, 4> r;
  Item out = make(99);
  EXPECT_FALSE(r.pop(out));
  EXPECT_EQ(out.seq, 99u) << "a refused pop leaves `out` alone";
  static_assert(SpscRing<Item, 4>::capacity() == 4);
}

TEST(SpscRing, FillsToCapacityThenRefusesAndKeepsWhatItHas) {
  SpscRing<Item, 8> r;
  for (std::uint64_t i = 0; i < 8; ++i) ASSERT_TRUE(r.push(make(i))) << i;
  EXPECT_FALSE(r.push(make(100)));
  EXPECT_FALSE(r.push(make(101)));
  Item out;
  for (std::uint64_t i = 0; i < 8; ++i) {
    ASSERT_TRUE(r.pop(out)) << i;
    EXPECT_EQ(out.seq, i);
    EXPECT_EQ(out.check, make(i).check);
  }
  EXPECT_FALSE(r.pop(out)) << "the refused items were not stored";
}

TEST(SpscRing, OneFreeSlotAfterOnePopFromFull) {
  SpscRing<Item, 2> r;
  ASSERT_TRUE(r.push(make(1)));
  ASSERT_TRUE(r.push(make(2)));
  ASSERT_FALSE(r.push(make(3)));
  Item out;
  ASSERT_TRUE(r.pop(out));
  EXPECT_EQ(out.seq, 1u);
  EXPECT_TRUE(r.push(make(3)));
  EXPECT_FALSE(r.push(make(4)));
  ASSERT_TRUE(r.pop(out));
  EXPECT_EQ(out.seq, 2u);
  ASSERT_TRUE(r.pop(out));
  EXPECT_EQ(out.seq, 3u);
  EXPECT_FALSE(r.pop(out));
}

TEST(SpscRing, CapacityOfOne) {
  SpscRing<Item, 1> r;
  Item out;
  for (std::uint64_t i = 0; i < 5; ++i) {
    ASSERT_TRUE(r.push(make(i)));
    ASSERT_FALSE(r.push(make(i + 100)));
    ASSERT_TRUE(r.pop(out));
    EXPECT_EQ(out.seq, i);
    ASSERT_FALSE(r.pop(out));
  }
}

// The indices start a few items below 2^32 and run past it, with the ring full, half full and
// empty on both sides of the wrap: full and empty must still be told apart, in order.
TEST(SpscRing, IndicesWrapAround32Bits) {
  for (std::uint32_t below : {1u, 3u, 8u, 13u}) {
    SCOPED_TRACE(below);
    SpscRing<Item, 8> r(0u - below);
    std::uint64_t pushed = 0, popped = 0;
    Item out;
    for (int round = 0; round < 6; ++round) {
      while (r.push(make(pushed))) ++pushed;  // full
      ASSERT_EQ(pushed - popped, 8u);
      for (int k = 0; k < 5; ++k) {  // part-empty
        ASSERT_TRUE(r.pop(out));
        ASSERT_EQ(out.seq, popped++);
      }
      ASSERT_TRUE(r.push(make(pushed++)));
      while (r.pop(out)) ASSERT_EQ(out.seq, popped++);  // empty
      ASSERT_EQ(popped, pushed);
      ASSERT_FALSE(r.pop(out));
    }
    EXPECT_GT(pushed, below + 8) << "the run crossed the wrap";
  }
}

TEST(SpscRing, TrivialPayloadOfBytes) {
  struct Name {
    std::uint8_t len;
    char text[5];
  };
  SpscRing<Name, 2> r;
  ASSERT_TRUE(r.push(Name{3, {'a', 'b', 'c'}}));
  Name out{};
  ASSERT_TRUE(r.pop(out));
  EXPECT_EQ(std::string_view(out.text, out.len), "abc");
}

// One producer pushes N sequenced items (spinning while full), one consumer pops until it has
// them all: every item arrives once, in order, with the bytes it was pushed with. A small ring
// makes both sides meet full and empty often. Run under ThreadSanitizer, this also checks that
// the memory orders publish the slots.
TEST(SpscRing, OneProducerOneConsumerThread) {
  constexpr std::uint64_t kItems = 200000;
  SpscRing<Item, 16> r(0u - 1000);  // and cross the index wrap on the way
  std::thread producer([&] {
    for (std::uint64_t i = 0; i < kItems; ++i) {
      while (!r.push(make(i))) std::this_thread::yield();
    }
  });
  std::uint64_t next = 0, bad = 0;
  Item out;
  while (next < kItems) {
    if (!r.pop(out)) {
      std::this_thread::yield();
      continue;
    }
    if (out.seq != next || out.check != make(next).check) ++bad;
    next = out.seq + 1;
  }
  producer.join();
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(next, kItems);
  EXPECT_FALSE(r.pop(out));
}

}  // namespace
}  // namespace regfront
