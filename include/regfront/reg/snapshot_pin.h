// regfront/reg/snapshot_pin.h — proof, at compile time, that the caller may read a snapshot.
//
// Snapshots are freed by the control plane once every worker has reported a quiescent state
// after they were replaced (RCU, regfront/snapshot/publisher.h). A worker may therefore read a
// snapshot only between picking it up and its next quiescent report. The engine keeps a pointer
// to the snapshot it runs on, so every Engine operation that reads it takes a `SnapshotPin`:
// an object that exists only while reading is allowed. Pins can be neither copied nor moved, so
// one cannot outlive the scope that made it — code that calls the engine after the quiescent
// report has no pin to pass, and does not compile.
//
// Who makes pins:
//   - a worker: worker::ReadSection (regfront/worker/snapshot_reader.h), whose scope ends with
//     the quiescent report;
//   - code that owns its snapshots and frees none while the engine uses them (tests,
//     benchmarks, tools): OwnedSnapshotPin.
//
//   {
//     worker::ReadSection section(reader);          // a SnapshotPin
//     engine.adopt(section, now);
//     engine.on_datagram(section, bytes, now);
//     wake_at = engine.next_deadline_ms(section);   // computed while the pin is held
//   }                                               // quiescent: no pin, no engine reads
#pragma once

#include "regfront/reg/snapshot.h"

namespace regfront::reg {

class SnapshotPin {
 public:
  SnapshotPin(const SnapshotPin&) = delete;
  SnapshotPin& operator=(const SnapshotPin&) = delete;
  SnapshotPin(SnapshotPin&&) = delete;
  SnapshotPin& operator=(SnapshotPin&&) = delete;

  // The snapshot that may be read while this pin lives (nullptr before the first publication).
  const Snapshot* get() const { return snap_; }

 protected:
  explicit SnapshotPin(const Snapshot* snap) : snap_(snap) {}
  ~SnapshotPin() = default;

  const Snapshot* snap_;
};

// A pin for code that owns the snapshot and keeps it alive for as long as the engine runs on
// it — no RCU involved. Workers never use this.
class OwnedSnapshotPin : public SnapshotPin {
 public:
  explicit OwnedSnapshotPin(const Snapshot* snap) : SnapshotPin(snap) {}
};

}  // namespace regfront::reg
