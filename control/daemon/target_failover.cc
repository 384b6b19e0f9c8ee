// Target failover of `dns:` registrars (see regfront/daemon/target_failover.h).
#include "regfront/daemon/target_failover.h"

#include <algorithm>

namespace regfront::daemon {

void TargetFailover::reset(std::size_t n, std::size_t in_use) {
  down_until_.assign(n, 0);
  holds_.assign(n, 0);
  current_ = n == 0 ? 0 : std::min(in_use, n - 1);
  primed_ = false;
  streak_ = 0;
}

void TargetFailover::move_to(std::size_t i, std::string why) {
  current_ = i;
  streak_ = 0;
  why_ = std::move(why);
}

bool TargetFailover::observe(std::uint64_t accepted, std::uint64_t failures, std::uint64_t now) {
  if (!primed_) {
    primed_ = true;
    accepted_ = accepted;
    failures_ = failures;
    return false;
  }
  const std::uint64_t da = accepted - accepted_, df = failures - failures_;
  accepted_ = accepted;
  failures_ = failures;
  const std::size_t n = down_until_.size();
  if (n < 2) return false;
  if (da > 0) {
    streak_ = 0;
    holds_[current_] = 0;  // it answers
  } else {
    streak_ += static_cast<std::uint32_t>(std::min<std::uint64_t>(df, policy_.failures));
  }
  if (streak_ >= policy_.failures) {
    const std::uint32_t h = std::min<std::uint32_t>(holds_[current_], 20);
    down_until_[current_] = now + std::min(policy_.max_hold_down_ms, policy_.hold_down_ms << h);
    ++holds_[current_];
    std::size_t next = n;
    for (std::size_t i = 0; i < n; ++i) {
      if (i != current_ && down_until_[i] <= now) {
        next = i;
        break;
      }
    }
    if (next == n) next = (current_ + 1) % n;  // all down: keep trying, in order
    move_to(next, std::to_string(policy_.failures) + " failures (timeout, 503 or ICMP unreachable) without a 2xx");
    return true;
  }
  // A better target whose hold-down is over: back to it.
  for (std::size_t i = 0; i < current_; ++i) {
    if (down_until_[i] != 0 && down_until_[i] <= now) {
      down_until_[i] = 0;
      move_to(i, "hold-down of a better target over");
      return true;
    }
  }
  return false;
}

}  // namespace regfront::daemon
