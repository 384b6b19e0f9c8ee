// regfront/reg/token_bucket.h — the token bucket that paces a registrar's REGISTER starts.
//
// Tokens accrue by the elapsed milliseconds at a rate (tokens per second), up to a depth; one
// token is taken per request sent. A request that must not wait may borrow (take_borrowing): the
// bucket then goes below zero, up to a limit, and later takes wait until it is paid back. The bucket is a value of 16 bytes with no clock of its
// own: every call is given the time, so tests own time. Nor does it keep the rate and depth: the
// caller passes its current configuration at each refill, so a new rate applies to all the time
// since the last refill (the engine reads both from the snapshot it runs on).
//
// Fractional tokens are kept as a double, so that rates that are not a whole number of tokens
// per millisecond (500/s, 0.5/s) lose nothing between refills.
//
//   TokenBucket b;
//   b.refill(now_ms, rate, depth);        // before starting anything at now_ms
//   while (b.has_token() && queue_not_empty()) { b.take(); start_one(); }
//   wake_at = now_ms + std::ceil(b.ms_until_token(rate));
#pragma once

#include <algorithm>
#include <cassert>
#include <cstdint>

namespace regfront::reg {

class TokenBucket {
 public:
  // An empty bucket whose clock is at 0 ms: the first refill at T earns T ms worth (capped).
  TokenBucket() = default;

  // Adds the tokens earned from the last refill (or skip) to `now_ms` at `rate_per_s`, keeping
  // at most `depth` of them, and moves the bucket's clock to `now_ms`. `now_ms` is not before
  // the bucket's clock; a depth below 1 never lets a token out.
  void refill(std::uint64_t now_ms, double rate_per_s, double depth) {
    tokens_ = std::min(depth, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_per_s / 1000.0);
    last_ms_ = now_ms;
  }

  // Moves the bucket's clock to `now_ms` without adding tokens: time during which nothing was
  // waiting earns nothing (the tokens already there stay).
  void skip(std::uint64_t now_ms) { last_ms_ = now_ms; }

  // True when a whole token is there to take.
  bool has_token() const { return tokens_ >= 1.0; }

  // Takes one token. Only after has_token() said yes.
  void take() {
    assert(has_token());
    tokens_ -= 1.0;
  }

  // Takes one token when that leaves at least `-limit` (limit >= 0): the bucket may go below
  // zero by up to `limit` tokens, which the refills pay back before has_token() says yes again.
  // For requests that must not wait for the rate (a borrowed token is still counted against it).
  // False, taking nothing, when the overdraft would exceed `limit`.
  bool take_borrowing(double limit) {
    if (tokens_ - 1.0 < -limit) return false;
    tokens_ -= 1.0;
    return true;
  }

  // Milliseconds, from the last refill, until a whole token is there at `rate_per_s` (> 0);
  // 0 when one already is. Fractional: the caller rounds as its clock needs.
  double ms_until_token(double rate_per_s) const {
    const double ms_per_token = 1000.0 / rate_per_s;
    return std::max(1.0 - tokens_, 0.0) * ms_per_token;
  }

  // The tokens held (a fraction included) as of the last refill.
  double tokens() const { return tokens_; }

  // The bucket's clock: the time of the last refill or skip.
  std::uint64_t last_ms() const { return last_ms_; }

 private:
  double tokens_ = 0;
  std::uint64_t last_ms_ = 0;
};

}  // namespace regfront::reg
