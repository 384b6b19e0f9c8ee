// regfront/snapshot/publisher.h — the write side of the snapshot RCU: publishes a new worker
// snapshot with one atomic pointer store and frees the replaced one once every worker has
// reported a quiescent state since (DPDK rte_rcu_qsbr). The control thread never waits for a
// grace period: replaced snapshots wait in a deferred-free queue, reclaimed without blocking on
// every later publish() and on reclaim(), which the control loop calls on each wake-up.
//
// Why not rte_rcu_qsbr_dq_*: DPDK's deferred-free queue allocates its ring with rte_zmalloc
// and rte_ring_create_elem, i.e. from the EAL's heap, and the socket backend (the embedded
// default) does not initialise an EAL (rte_rcu_qsbr_dq_create returns NULL there; an EAL only
// for that costs ~200 ms of start-up and its own threads). The queue here is the same protocol
// on the control thread's heap: each entry keeps the token rte_rcu_qsbr_start gave when it was
// replaced, and is freed once rte_rcu_qsbr_check(token, wait = false) says every reader has
// passed it.
//
// Bound: at most kMaxRetired replaced snapshots wait; one more publish() waits for the oldest
// grace period (a worker stuck for the time of several builds) rather than hold a fifth copy of
// the configuration.
//
// Threads: construction, publish(), reclaim(), drain(), current() belong to the control thread
// (checked in debug builds). Workers use qsbr() and current_ptr() through
// worker::SnapshotReader only.
//
//   Publisher pub(workers);
//   SnapshotReader reader(pub.qsbr(), id, pub.current_ptr());   // one per worker
//   pub.publish(builder.build(…));            // control thread, on every configuration change
//   pub.reclaim();                            // control thread, on every loop wake-up
//   … workers joined …
//   pub.drain();                              // everything freed; no reader left
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <thread>

#include "regfront/reg/snapshot.h"

struct rte_rcu_qsbr;

namespace regfront::snapshot {

class Publisher {
 public:
  static constexpr std::size_t kMaxRetired = 4;

  // A QSBR variable for `readers` worker threads (ids 0 .. readers-1).
  explicit Publisher(std::uint32_t readers);
  // Frees the current snapshot and whatever is still queued: call only once no worker reads
  // (they have unregistered or were never started).
  ~Publisher();
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  // Makes `s` the snapshot workers pick up next; the one it replaces is queued and freed once
  // every online worker has passed a quiescent state (by a later publish() or reclaim()).
  // Blocks only when kMaxRetired snapshots are already waiting. Control thread.
  void publish(std::unique_ptr<reg::Snapshot> s);

  // Frees the queued snapshots whose grace period is over; never blocks. Returns how many.
  // Control thread.
  std::size_t reclaim();

  // Waits until every queued snapshot can be freed and frees them (shutdown, tests).
  // Control thread.
  void drain();

  // The snapshot last published (nullptr before the first). Control thread: it is the only
  // writer, so what it reads here cannot be freed under it.
  const reg::Snapshot* current() const;

  // Replaced snapshots not freed yet (a worker has not passed a quiescent state since).
  std::size_t pending() const { return retired_.size(); }
  // Snapshots freed after their grace period, since start.
  std::uint64_t reclaimed() const { return reclaimed_; }
  // publish() calls that had to wait for a grace period (the queue was full).
  std::uint64_t waited() const { return waited_; }

  // For the readers (worker::SnapshotReader): the QSBR variable and the published pointer.
  rte_rcu_qsbr* qsbr() const { return qs_; }
  const std::atomic<const reg::Snapshot*>& current_ptr() const { return current_; }

 private:
  void check_thread() const;

  struct Retired {
    std::uint64_t token;        // rte_rcu_qsbr_start() after it was replaced
    const reg::Snapshot* snap;  // freed once rte_rcu_qsbr_check(token) passes
  };
  rte_rcu_qsbr* qs_ = nullptr;
  std::atomic<const reg::Snapshot*> current_{nullptr};
  std::deque<Retired> retired_;  // oldest first: tokens increase
  std::uint64_t reclaimed_ = 0;
  std::uint64_t waited_ = 0;
  std::thread::id owner_;
};

}  // namespace regfront::snapshot
