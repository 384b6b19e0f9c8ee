// regfront/common/prng.h — a small, fast pseudo-random generator for jitter.
//
// xoshiro256** (Blackman & Vigna, 2018) with its state seeded by splitmix64, exactly as the
// reference implementations at prng.di.unimi.it, so a seed gives the same sequence everywhere.
// It spreads timers (refresh points, backoff delays, Retry-After slack) so that bindings that
// started together do not come back together. It is NOT for anything an attacker must not
// guess: branches, Call-IDs and cnonces use keyed or cryptographic sources instead.
//
// One generator per worker, owned by that worker: no locking, no allocation, 32 bytes of state.
//
//   Prng prng(opts.seed);
//   std::uint64_t delay_ms = prng.between(cap / 2, cap);   // uniform in [cap/2, cap]
#pragma once

#include <cstdint>

namespace regfront {

class Prng {
 public:
  // Seeds the four state words with successive outputs of splitmix64 started at `seed`, as the
  // xoshiro authors recommend (it never yields the all-zero state).
  explicit Prng(std::uint64_t seed) {
    for (std::uint64_t& v : s_) {
      seed += 0x9e3779b97f4a7c15ull;  // splitmix64: the state advances by the golden gamma
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
      v = z ^ (z >> 31);
    }
  }

  // Returns the next 64 bits of the sequence (xoshiro256**'s `next`).
  std::uint64_t next() {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }

  // Returns a value in [lo, hi], both included, from one output: `lo + next() % span`, whose
  // modulo bias (at most span / 2^64) does not matter for jitter. Returns `lo` without advancing
  // the sequence when hi <= lo; the full range [0, 2^64-1] returns next() itself.
  std::uint64_t between(std::uint64_t lo, std::uint64_t hi) {
    if (hi <= lo) return lo;
    const std::uint64_t span = hi - lo + 1;  // 0 only for the full 64-bit range
    return span == 0 ? next() : lo + next() % span;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

  std::uint64_t s_[4];
};

}  // namespace regfront
