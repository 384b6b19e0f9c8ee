// The workers' trace for debug ccsip: the filter (numbers, registrar, kinds), the byte ring
// (records of any size across the wrap, a full ring dropping and counting), the rate limit,
// and a producer thread against a consumer thread.
#include "regfront/reg/trace.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

namespace regfront::reg {
namespace {

TEST(TraceFilterTest, NumbersRegistrarAndKinds) {
  TraceFilter f;
  EXPECT_FALSE(f.matches(kTraceMessages, "100", 0)) << "no kinds: off";
  f.kinds = kTraceMessages;
  EXPECT_TRUE(f.matches(kTraceMessages, "100", 0)) << "no number: every number";
  EXPECT_FALSE(f.matches(kTraceEvents, "100", 0));
  ASSERT_TRUE(f.add_number("4155550100"));
  ASSERT_TRUE(f.add_number("4155550100"));
  EXPECT_EQ(f.count, 1);
  EXPECT_TRUE(f.matches(kTraceMessages, "4155550100", 3));
  EXPECT_FALSE(f.matches(kTraceMessages, "4155550101", 3));
  EXPECT_FALSE(f.matches(kTraceMessages, "415555010", 3)) << "a prefix is another number";
  f.registrar = 2;
  EXPECT_TRUE(f.matches(kTraceMessages, "4155550100", 1));
  EXPECT_FALSE(f.matches(kTraceMessages, "4155550100", 0));
  EXPECT_FALSE(f.add_number(std::string(TraceFilter::kNumberLength + 1, '1')));
  for (std::size_t i = 1; i < TraceFilter::kNumbers; ++i) EXPECT_TRUE(f.add_number(std::to_string(i)));
  EXPECT_FALSE(f.add_number("full")) << "bounded";
}

TEST(TracerTest, RecordsAcrossTheWrapAndAFullRingCounted) {
  auto t = std::make_unique<Tracer>();
  EXPECT_FALSE(t->wants(kTraceMessages));
  TraceFilter f;
  f.kinds = kTraceMessages;
  f.add_number("7");
  t->set_filter(f);
  EXPECT_TRUE(t->wants(kTraceMessages));
  EXPECT_FALSE(t->wants(kTraceEvents));
  EXPECT_TRUE(t->matches(kTraceMessages, "7", 0));
  EXPECT_FALSE(t->matches(kTraceMessages, "8", 0));
  std::uint64_t now = 1000;
  TraceRecord r;
  std::string text;
  // 3 000 records of 1 000 to 1 500 bytes through a 64 KiB ring, drained every few: the ring
  // wraps dozens of times; every text comes out whole, in order.
  int popped = 0;
  for (int i = 0; i < 3000; ++i) {
    now += 10;  // within the rate
    const std::string msg = "REGISTER " + std::to_string(i) + " " + std::string(1000 + i % 500, 'a' + i % 26);
    ASSERT_TRUE(t->record(kTraceMessages, kTraceSent, 0, "7", now, msg.substr(0, 9), msg.substr(9))) << i;
    if (i % 7 == 6) {
      while (t->pop(r, text)) {
        const std::string want =
            "REGISTER " + std::to_string(popped) + " " + std::string(1000 + popped % 500, 'a' + popped % 26);
        ASSERT_EQ(text, want) << popped;
        EXPECT_EQ(std::string(r.number), "7");
        ++popped;
      }
    }
  }
  while (t->pop(r, text)) ++popped;
  EXPECT_EQ(popped, 3000);
  EXPECT_EQ(t->lost_total(), 0u);
  // Not drained: the ring fills (64 KiB / ~1 KiB) and the rest is dropped, counted.
  int kept = 0;
  for (int i = 0; i < 100; ++i)
    kept += t->record(kTraceMessages, kTraceSent, 0, "7", now += 10, std::string(1000, 'x'));
  EXPECT_GT(kept, 50);
  EXPECT_LT(kept, 66);
  EXPECT_EQ(t->take_lost(), static_cast<std::uint64_t>(100 - kept));
  EXPECT_EQ(t->take_lost(), 0u) << "told once";
  for (int i = 0; i < kept; ++i) ASSERT_TRUE(t->pop(r, text));
  EXPECT_FALSE(t->pop(r, text));
  // A text beyond kMaxText is cut.
  ASSERT_TRUE(t->record(kTraceEvents, kTraceEvent, 0, "7", now += 10, std::string(10000, 'y')));
  ASSERT_TRUE(t->pop(r, text));
  EXPECT_EQ(text.size(), Tracer::kMaxText);
}

TEST(TracerTest, TheRateIsBoundedPerWorker) {
  auto t = std::make_unique<Tracer>();
  TraceRecord r;
  std::string text;
  std::uint64_t now = 1000;
  int kept = 0;
  // 10 000 records within one second, drained as they come: the burst, then the rate.
  for (int i = 0; i < 10000; ++i) {
    if (i % 10 == 0) ++now;
    kept += t->record(kTraceEvents, kTraceEvent, 0, "7", now, "QUEUED -> REGISTERING");
    while (t->pop(r, text)) {
    }
  }
  const double bound = Tracer::kRecordsBurst + Tracer::kRecordsPerSecond * 1.0 + 1;
  EXPECT_LE(kept, bound);
  EXPECT_GE(kept, Tracer::kRecordsBurst);
  EXPECT_EQ(t->lost_total(), static_cast<std::uint64_t>(10000 - kept));
}

TEST(TracerTest, ProducerAndConsumerThreads) {
  auto t = std::make_unique<Tracer>();
  TraceFilter f;
  f.kinds = kTraceMessages;
  t->set_filter(f);
  constexpr int kRecords = 20000;
  std::thread producer([&] {
    std::uint64_t now = 0;
    for (int i = 0; i < kRecords; ++i) {
      const std::string s = std::to_string(i);
      now += 4;  // 250/s: under the rate
      while (!t->record(kTraceMessages, kTraceReceived, 1, s, now, s, std::string(i % 300, '.'))) {
        now += 4;  // dropped (ring full): the next one, later
        t->take_lost();
      }
    }
  });
  int next = 0;
  TraceRecord r;
  std::string text;
  while (next < kRecords) {
    if (!t->pop(r, text)) continue;
    ASSERT_EQ(text, std::to_string(next) + std::string(next % 300, '.'));
    ASSERT_EQ(std::string(r.number), std::to_string(next));
    ++next;
  }
  producer.join();
}

}  // namespace
}  // namespace regfront::reg
