// regfront/worker/loop_stats.h — where a poll-mode worker's busy time goes, from the TSC.
//
// A DPDK worker spins whether or not there is work, so CPU time says nothing; what operators and
// the perf scenarios read instead is `busy_tsc` (ticks of the iterations that received, built
// or sent something) and, when asked for, its split by stage (`stage_*_tsc`). The split costs
// an rdtsc per stage boundary (~6 per iteration, ~25 cycles each), so it sits behind one switch
// (regfrontd --stage-timing, set-up time); busy_tsc costs one rdtsc per iteration and is always
// counted.
//
//   LoopStats stats(io.counters(), stage_timing);
//   for (;;) {
//     stats.begin(rte_rdtsc());
//     rx…;       stats.mark(LoopStats::rx);        // ticks since the last mark go to rx
//     flush…;    stats.mark(LoopStats::build);
//     stats.end(moved_anything);                  // idle iterations are not counted
//   }
#pragma once

#include <rte_cycles.h>

#include <cstdint>

#include "regfront/io/dpdk_io.h"

namespace regfront::worker {

class LoopStats {
 public:
  enum Stage : unsigned { rx, build, advance, tx, other, kStages };

  LoopStats(io::DpdkIoCounters& c, bool stages) : c_(c), stages_(stages) {}

  // Top of an iteration at `tsc`.
  void begin(std::uint64_t tsc) {
    start_ = last_ = tsc;
    if (stages_) {
      for (auto& a : acc_) a = 0;
    }
  }
  // The ticks since the previous mark (or begin) were spent in `s`. No-op without the switch.
  void mark(Stage s) {
    if (stages_) mark(s, rte_rdtsc());
  }
  // The same with a TSC reading the caller already has.
  void mark(Stage s, std::uint64_t tsc) {
    if (!stages_) return;
    acc_[s] += tsc - last_;
    last_ = tsc;
  }
  // End of an iteration: when it moved anything (`busy`), its ticks count in busy_tsc and, with
  // the switch on, its split in stage_*_tsc (what no mark claimed goes to `other`).
  void end(bool busy) {
    if (!busy) return;
    const std::uint64_t t = rte_rdtsc();
    c_.busy_tsc.inc(t - start_);
    if (!stages_) return;
    acc_[other] += t - last_;
    c_.stage_rx_tsc.inc(acc_[rx]);
    c_.stage_build_tsc.inc(acc_[build]);
    c_.stage_advance_tsc.inc(acc_[advance]);
    c_.stage_tx_tsc.inc(acc_[tx]);
    c_.stage_other_tsc.inc(acc_[other]);
  }
  bool stages() const { return stages_; }

 private:
  io::DpdkIoCounters& c_;
  bool stages_;
  std::uint64_t start_ = 0, last_ = 0;
  std::uint64_t acc_[kStages] = {};
};

}  // namespace regfront::worker
