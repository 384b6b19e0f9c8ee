// regfront/common/clock.h — the control plane's and the socket workers' clock.
//
// Milliseconds of CLOCK_MONOTONIC: what the engine's timers, DNS TTLs and shutdown deadlines
// count in. (DPDK workers read the TSC instead and anchor it to this once.)
#pragma once

#include <time.h>

#include <cstdint>

namespace regfront {

inline std::uint64_t monotonic_ms() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000000;
}

// Nanoseconds of the same clock (a socket worker's fine clock for latencies; vDSO, no system call).
inline std::uint64_t monotonic_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000 + static_cast<std::uint64_t>(ts.tv_nsec);
}

// Microseconds of the same clock (durations the control plane reports).
inline std::uint64_t monotonic_us() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000 + static_cast<std::uint64_t>(ts.tv_nsec) / 1000;
}

}  // namespace regfront
