// regfront/daemon/target_failover.h — which of a `dns:` registrar's RFC 3263 targets its
// bindings use, decided on the control thread from the workers' counters of that registrar.
//
// The rule (documented in docs/architecture.md, "DNS targets and failover"):
//   - a failure is a REGISTER transaction that timed out (Timer F / retry limit), was failed by
//     an ICMP unreachable quoting it, or was answered 503; a success is a 2xx;
//   - `failures` failures (default 3) towards the target in use with no 2xx in between (a tick
//     that saw both counts as answered) put that target down and move to the best target that
//     is not down (the next one in RFC 3263 order); with all down, the next one in order;
//   - a target put down stays down for `hold_down_ms` (default 60 s), doubled each time it is
//     put down again without having answered in between, up to `max_hold_down_ms` (15 min);
//   - when a better target's hold-down is over, the registrar returns to it; if it still does
//     not answer, the same rule moves away again (and holds it down twice as long);
//   - a registrar with one target never moves.
// Each move re-creates the registrar's bindings at the new target through its pacer (the
// snapshot builder gives them new generations when the address in use changes).
//
//   TargetFailover f(policy);
//   f.reset(targets.size());
//   if (f.observe(accepted_total, failures_total, now_ms)) republish(f.current());
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace regfront::daemon {

struct FailoverPolicy {
  std::uint32_t failures = 3;
  std::uint64_t hold_down_ms = 60000;
  std::uint64_t max_hold_down_ms = 900000;
};

class TargetFailover {
 public:
  TargetFailover() = default;
  explicit TargetFailover(FailoverPolicy p) : policy_(p) {}

  // A new target list of `n` targets (ordered, best first), using target `in_use` (< n).
  // Hold-downs are forgotten; the counters' baseline is taken at the next observe().
  void reset(std::size_t n, std::size_t in_use = 0);

  // The registrar's counter totals now (summed over workers; they only grow). True when the
  // target in use changed; why() says why.
  bool observe(std::uint64_t accepted, std::uint64_t failures, std::uint64_t now_ms);

  std::size_t current() const { return current_; }
  std::size_t size() const { return down_until_.size(); }
  // Milliseconds until target i may be used again (0: not down).
  std::uint64_t down_for_ms(std::size_t i, std::uint64_t now_ms) const {
    return down_until_[i] > now_ms ? down_until_[i] - now_ms : 0;
  }
  std::uint32_t streak() const { return streak_; }
  const std::string& why() const { return why_; }

 private:
  void move_to(std::size_t i, std::string why);

  FailoverPolicy policy_;
  std::vector<std::uint64_t> down_until_;
  std::vector<std::uint32_t> holds_;  // times put down since it last answered
  std::size_t current_ = 0;
  bool primed_ = false;
  std::uint64_t accepted_ = 0, failures_ = 0;
  std::uint32_t streak_ = 0;
  std::string why_;
};

}  // namespace regfront::daemon
