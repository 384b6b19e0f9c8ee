// The read side of the snapshot RCU (see regfront/worker/snapshot_reader.h).
//
// Memory orders, and what each pairs with:
//   - ReadSection loads the published pointer with acquire: it pairs with the publisher's
//     release (acq_rel exchange), so the snapshot's contents written before publication are
//     visible to every read through the pointer.
//   - rte_rcu_qsbr_quiescent stores this thread's counter with release: every read of the
//     snapshot made inside the section happens before the store, and the writer's acquire load
//     of the counter (rte_rcu_qsbr_check) happens before it frees the snapshot.
//   - rte_rcu_qsbr_thread_offline is a release store for the same reason (a sleep ends a
//     section's reads just as a report does).
//   - rte_rcu_qsbr_thread_online stores the thread's counter and then issues a full fence, so
//     the next pointer load cannot be reordered before the writer can see us online: a writer
//     that started a grace period after our load must wait for us.
#include "regfront/worker/snapshot_reader.h"

#include <rte_rcu_qsbr.h>

#include "regfront/common/check.h"

namespace regfront::worker {

SnapshotReader::SnapshotReader(rte_rcu_qsbr* qs, std::uint32_t thread_id,
                               const std::atomic<const reg::Snapshot*>& current)
    : qs_(qs), id_(thread_id), current_(current) {}

void SnapshotReader::register_thread() {
  REGFRONT_DCHECK(!online_);
  rte_rcu_qsbr_thread_register(qs_, id_);
  rte_rcu_qsbr_thread_online(qs_, id_);
  online_ = true;
}

void SnapshotReader::unregister_thread() {
  REGFRONT_DCHECK(online_ && !in_section_);
  rte_rcu_qsbr_thread_offline(qs_, id_);
  rte_rcu_qsbr_thread_unregister(qs_, id_);
  online_ = false;
}

SnapshotReader::Offline::Offline(SnapshotReader& r) : r_(r) {
  REGFRONT_DCHECK(r_.online_ && !r_.in_section_);
  rte_rcu_qsbr_thread_offline(r_.qs_, r_.id_);
  r_.online_ = false;
}

SnapshotReader::Offline::~Offline() {
  rte_rcu_qsbr_thread_online(r_.qs_, r_.id_);
  r_.online_ = true;
}

ReadSection::ReadSection(SnapshotReader& r)
    : reg::SnapshotPin(r.current_.load(std::memory_order_acquire)), r_(r) {
  REGFRONT_DCHECK(r_.online_ && !r_.in_section_);
  r_.in_section_ = true;
}

ReadSection::~ReadSection() {
  r_.in_section_ = false;
  rte_rcu_qsbr_quiescent(r_.qs_, r_.id_);
  ++r_.reports_;
}

}  // namespace regfront::worker
