// The write side of the snapshot RCU (see regfront/snapshot/publisher.h).
//
// Memory orders, and what each pairs with:
//   - publish() exchanges the pointer with acq_rel: the release half makes the new snapshot's
//     contents (built by this thread) visible to a worker's acquire load of the pointer; the
//     old pointer it returns was stored by this thread too (acquire is free on x86).
//   - rte_rcu_qsbr_start() increments the grace-period token with release after the exchange,
//     so a worker whose quiescent report carries the new token loaded the pointer after the
//     exchange (it can only see the new snapshot or report later).
//   - rte_rcu_qsbr_check() reads every online worker's counter with acquire: a worker's reads
//     of the old snapshot, released by its quiescent report, happen before we free it.
#include "regfront/snapshot/publisher.h"

#include <rte_rcu_qsbr.h>

#include <cstdlib>

#include "regfront/common/check.h"

namespace regfront::snapshot {

Publisher::Publisher(std::uint32_t readers) : owner_(std::this_thread::get_id()) {
  const std::size_t size = rte_rcu_qsbr_get_memsize(readers);
  qs_ = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(64, (size + 63) / 64 * 64));
  REGFRONT_CHECK(qs_ != nullptr);
  REGFRONT_CHECK(rte_rcu_qsbr_init(qs_, readers) == 0);
}

Publisher::~Publisher() {
  for (const Retired& r : retired_) delete r.snap;
  delete current_.exchange(nullptr, std::memory_order_acq_rel);
  std::free(qs_);
}

void Publisher::check_thread() const { REGFRONT_DCHECK(owner_ == std::this_thread::get_id()); }

void Publisher::publish(std::unique_ptr<reg::Snapshot> s) {
  check_thread();
  const reg::Snapshot* old = current_.exchange(s.release(), std::memory_order_acq_rel);
  if (old != nullptr) retired_.push_back({rte_rcu_qsbr_start(qs_), old});
  reclaim();
  if (retired_.size() > kMaxRetired) {
    ++waited_;
    rte_rcu_qsbr_check(qs_, retired_.front().token, true);
    reclaim();
  }
}

std::size_t Publisher::reclaim() {
  check_thread();
  std::size_t freed = 0;
  // Tokens increase along the queue: the first one still in its grace period ends the scan.
  while (!retired_.empty() && rte_rcu_qsbr_check(qs_, retired_.front().token, false) == 1) {
    delete retired_.front().snap;
    retired_.pop_front();
    ++freed;
  }
  reclaimed_ += freed;
  return freed;
}

void Publisher::drain() {
  check_thread();
  for (const Retired& r : retired_) {
    rte_rcu_qsbr_check(qs_, r.token, true);
    delete r.snap;
    ++reclaimed_;
  }
  retired_.clear();
}

const reg::Snapshot* Publisher::current() const {
  check_thread();
  return current_.load(std::memory_order_relaxed);  // this thread is the only writer
}

}  // namespace regfront::snapshot
