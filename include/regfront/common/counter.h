// regfront/common/counter.h — a per-worker counter: written by one thread, read by the control
// plane. Relaxed load+store (no lock prefix: one writer), so the increment costs what a plain
// `++` costs, and a concurrent reader never sees a torn value.
//
//   struct Stats { Counter sent; };   // one instance per worker, cache-line aligned by the owner
//   stats.sent.inc();
//   std::uint64_t total = a.sent.get() + b.sent.get();   // control plane sums
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace regfront {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  // A gauge-style write (a last value rather than a count), same single-writer rule.
  void set(std::uint64_t v) { v_.store(v, std::memory_order_relaxed); }
  // For a gauge kept by increments (a count of things in some state), same single-writer rule.
  void dec(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) - n, std::memory_order_relaxed); }
  std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

// Name and help of one counter of a set declared once as an X-macro list
// (X(name, "help") …): the list gives the struct's fields, the names `show` prints and the
// metrics' names, so they always agree.
struct CounterInfo {
  const char* name;
  const char* help;
};

}  // namespace regfront

// In a struct body: one Counter per entry of the list.   REGFRONT_NET_COUNTERS(REGFRONT_COUNTER_FIELD)
#define REGFRONT_COUNTER_FIELD(name, help) ::regfront::Counter name;
#define REGFRONT_COUNTER_INFO_(name, help) {#name, help},
#define REGFRONT_COUNTER_ADDR_(name, help) &c.name,
// In one .cc: the set's name table, its size, and a reader of counter i in list order:
//   REGFRONT_DEFINE_COUNTER_SET(REGFRONT_NET_COUNTERS, NetCounters, kNetCounterInfo,
//                               kNetCounterCount, net_counter)
#define REGFRONT_DEFINE_COUNTER_SET(LIST, Struct, info, count, reader) \
  const ::regfront::CounterInfo info[] = {LIST(REGFRONT_COUNTER_INFO_)}; \
  const std::size_t count = sizeof(info) / sizeof(info[0]);             \
  std::uint64_t reader(const Struct& c, std::size_t i) {                 \
    const ::regfront::Counter* all[] = {LIST(REGFRONT_COUNTER_ADDR_)};   \
    return i < count ? all[i]->get() : 0;                                \
  }
