// regfront/worker/snapshot_reader.h — a worker's side of the snapshot RCU.
//
// The control plane publishes configuration snapshots with one atomic pointer store and frees a
// replaced one only after every online worker has reported a quiescent state since the store
// (DPDK rte_rcu_qsbr; the writer side is regfront/snapshot/publisher.h). A worker may read a
// snapshot only between loading the pointer and its next quiescent report. This header makes
// that the shape of the code instead of a convention:
//
//   - ReadSection is the only way to load the pointer. It is a reg::SnapshotPin — what every
//     Engine operation that reads the snapshot requires — and its destructor is the quiescent
//     report. Pins are neither copyable nor movable: after the section's closing brace nothing
//     can read the snapshot, because nothing can name a pin.
//   - Offline brackets a sleep: a worker that sleeps does not hold up grace periods. A section
//     may not be open across it (checked in debug builds).
//
//   SnapshotReader reader(qsbr, worker_id, publisher_current);
//   reader.register_thread();                       // on the worker thread, before its loop
//   for (;;) {
//     std::uint64_t wake_at;
//     {
//       ReadSection pin(reader);                    // load-acquire of the current snapshot
//       engine.adopt(pin, now);
//       io.rx_burst([&](auto d) { engine.on_datagram(pin, d, now); });
//       wake_at = engine.next_deadline_ms(pin);     // still inside: it reads the snapshot
//     }                                             // quiescent report
//     { SnapshotReader::Offline off(reader); ppoll(…, wake_at - now); }
//   }
//   reader.unregister_thread();
#pragma once

#include <atomic>
#include <cstdint>

#include "regfront/reg/snapshot.h"
#include "regfront/reg/snapshot_pin.h"

struct rte_rcu_qsbr;

namespace regfront::worker {

class SnapshotReader {
 public:
  // `qs` is the publisher's QSBR variable and `current` its published pointer; `thread_id` is
  // this worker's id in `qs` (0 .. readers-1, unique).
  SnapshotReader(rte_rcu_qsbr* qs, std::uint32_t thread_id, const std::atomic<const reg::Snapshot*>& current);
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // On the worker thread, once, before the first ReadSection: registers the thread with the
  // QSBR variable and goes online.
  void register_thread();
  // On the worker thread, after its last ReadSection: offline and unregistered, so grace
  // periods no longer wait for it.
  void unregister_thread();

  // A sleep: offline for as long as it lives (grace periods complete without this worker),
  // online again at the end. No ReadSection may be open.
  class Offline {
   public:
    explicit Offline(SnapshotReader& r);
    ~Offline();
    Offline(const Offline&) = delete;
    Offline& operator=(const Offline&) = delete;

   private:
    SnapshotReader& r_;
  };

  // Quiescent states reported so far (sections ended); for tests.
  std::uint64_t quiescent_reports() const { return reports_; }

 private:
  friend class ReadSection;

  rte_rcu_qsbr* qs_;
  std::uint32_t id_;
  const std::atomic<const reg::Snapshot*>& current_;
  std::uint64_t reports_ = 0;
  bool online_ = false;      // debug checks only
  bool in_section_ = false;  // debug checks only
};

// A read-side critical section: pins the snapshot published at its start until its end, which
// reports the quiescent state. One at a time per reader.
class ReadSection : public reg::SnapshotPin {
 public:
  explicit ReadSection(SnapshotReader& r);
  ~ReadSection();

 private:
  SnapshotReader& r_;
};

}  // namespace regfront::worker
