// regfront/common/counter.h — a per-worker counter: written by one thread, read by the control
// plane. Relaxed load+store (no lock prefix: one writer), so the increment costs what a plain
// `++` costs, and a concurrent reader never sees a torn value.
//
//   struct Stats { Counter sent; };   // one instance per worker, cache-line aligned by the owner
//   stats.sent.inc();
//   std::uint64_t total = a.sent.get() + b.sent.get();   // control plane sums
#pragma once

#include <atomic>
#include <cstdint>

namespace regfront {

class Counter {
 public:
  void inc(std::uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  // A gauge-style write (a last value rather than a count), same single-writer rule.
  void set(std::uint64_t v) { v_.store(v, std::memory_order_relaxed); }
  std::uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> v_{0};
};

}  // namespace regfront
