// regfront/worker/worker.h — what every worker has, whatever its I/O: the engine and its
// TxQueue, the snapshot reader, the status-dump hand-over, the shutdown request and the proof
// that the loop never allocates. SocketWorker (socket_worker.h) and DpdkWorker (dpdk_worker.h)
// add their I/O and their poll loop.
//
// Threads: a worker's loop runs on its own thread (socket) or lcore (DPDK). The control thread
// calls only the methods marked "control thread"; they read counters and atomics, never the
// engine's state, except through dump(), which the worker answers between bursts.
//
//   auto w = std::make_unique<SocketWorker>(opts, publisher.qsbr(), publisher.current_ptr());
//   w->open(local_address);                  // set-up, control thread
//   w->start();                              // the loop runs
//   w->dump(rows, version, slots);           // control thread: `show` data
//   w->request_shutdown(); w->join();        // unregisters, then the loop ends
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "regfront/call/relay.h"
#include "regfront/common/counter.h"
#include "regfront/reg/engine.h"
#include "regfront/reg/trace.h"
#include "regfront/worker/snapshot_reader.h"

struct rte_rcu_qsbr;

namespace regfront::worker {

struct WorkerOptions {
  std::uint32_t id = 0;                  // worker index: QSBR thread id, endpoint owner id
  reg::EngineOptions engine;             // engine.worker must equal id
  call::RelayOptions relay;              // relay.worker must equal id
  std::uint32_t shutdown_timeout_s = 10; // unregistration time on shutdown
  std::uint32_t socket_coalesce_us = 0;  // socket backend: wake-up coalescing interval (0 = off)
};

class Worker {
 public:
  virtual ~Worker() = default;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Control thread: runs the loop (a thread, or the worker's lcore) / waits for its end.
  virtual void start() = 0;
  virtual void join() = 0;
  // Datagrams lost below the engine (kernel or NIC refused them), for `show dataplane`.
  virtual std::uint64_t io_errors() const = 0;
  // Backend counters (name, value) for `show dataplane`; the socket backend has none.
  virtual void io_counters(std::vector<std::pair<std::string, std::uint64_t>>& out) const {}

  // Control thread: unregister every binding, then end the loop (within shutdown_timeout_s).
  void request_shutdown() { shutdown_.store(true, std::memory_order_release); }
  bool exited() const { return exited_.load(std::memory_order_acquire); }

  // Control thread: the worker's binding rows, copied by the worker between bursts (chunked, so
  // a large dump never stalls its loop) while this waits (bounded: false on time-out).
  // `slots` is the size of this worker's plan in the current snapshot (sizes the buffer, so the
  // worker never allocates); `snapshot_version` is the snapshot the rows' indices refer to.
  bool dump(std::vector<reg::BindingStatus>& out, std::uint64_t& snapshot_version, std::size_t slots);
  // What the rows' ids mean (addresses, unknown realms), as of the last dump() that succeeded.
  const reg::StatusTables& dumped_tables() const { return dump_tables_; }
  // Control thread: clear sip-ua registration. Hands the worker the registrars (bit i = index
  // i + 1) and the number ("" = all) whose bindings it queues for a REGISTER now (paced), and
  // waits until it took them (bounded: false on time-out, the request withdrawn, or a number
  // too long to be configured). One request at a time: nothing queues up.
  bool reregister(std::uint8_t registrars, std::string_view number);
  // The same for the worker's calls (`show sip-ua calls`), at most `max` rows.
  bool dump_calls(std::vector<call::CallStatus>& out, std::size_t max);

  const reg::WorkerCounters& counters() const { return engine_.counters(); }
  const call::CallCounters& call_counters() const { return relay_.counters(); }
  std::uint32_t id() const { return id_; }
  // The version of the snapshot the worker runs on.
  std::uint64_t adopted_version() const { return adopted_.load(std::memory_order_acquire); }
  // Control thread: realms the worker needs HA1s for (see reg::Engine::pop_unknown_realm).
  bool pop_unknown_realm(std::string& realm, std::uint8_t& registrar) {
    return engine_.pop_unknown_realm(realm, registrar);
  }
  bool pop_used_realm(std::string& realm, std::uint8_t& registrar) { return engine_.pop_used_realm(realm, registrar); }
  bool pop_sha_realm(std::string& realm) { return engine_.pop_sha_realm(realm); }
  // Control thread: debug ccsip — set the filter, drain the records (reg::Tracer).
  reg::Tracer& tracer() { return tracer_; }
  // Bytes this worker's thread allocated on the heap since it adopted its first snapshot, as
  // jemalloc counts them (thread.allocatedp). The poll loop must never allocate: the e2e tests
  // assert this stays 0 through registration storms, refreshes and shutdown.
  std::uint64_t heap_allocated() const { return heap_allocated_.get(); }
  // False when jemalloc's per-thread counter is not available (then heap_allocated() says
  // nothing, and show dataplane reports null).
  bool heap_tracked() const { return heap_tracked_.load(std::memory_order_acquire); }
  // Quiescent states this worker has reported (one per loop iteration).
  std::uint64_t quiescent_reports() const { return reports_.get(); }

 protected:
  Worker(const WorkerOptions& o, rte_rcu_qsbr* qs, const std::atomic<const reg::Snapshot*>& current,
         reg::TxQueue::FlushFn flush, void* flush_ctx);

  // Loop helpers, worker thread only.
  // Start of the thread: QSBR registration, the heap counter.
  void begin_thread();
  // End of the thread: the last dump answered, QSBR unregistration, exited().
  void end_thread(std::uint64_t now_ms);
  // Top of an iteration, inside its read section: adopt the pinned snapshot when it is new,
  // begin unregistering once shutdown was requested.
  void pick_up(const ReadSection& pin, std::uint64_t now_ms);
  // One received datagram, inside the read section: parsed once; a request goes to the relay
  // (or, when another worker owns its call, to that worker), a response to the engine or the
  // relay by its branch.
  void on_datagram(const ReadSection& pin, std::string_view datagram, const sockaddr_storage& src,
                   socklen_t src_len, std::uint64_t now_ms);
  // The engine's and the relay's timers and paced starts.
  void advance(const ReadSection& pin, std::uint64_t now_ms) {
    engine_.advance(pin, now_ms);
    relay_.advance(pin, now_ms);
  }
  // The earliest time advance() has work.
  std::uint64_t next_deadline_ms(const ReadSection& pin) const {
    return std::min(engine_.next_deadline_ms(pin), relay_.next_deadline_ms(pin));
  }
  // Hands a request to the worker that owns its call; false when that is not possible (the
  // request is then handled here). The socket and DPDK workers each have their rings.
  virtual bool hand_off_request(std::uint32_t to, std::string_view datagram, const sockaddr_storage& src) {
    return false;
  }
  // A pending status dump, a chunk per iteration, inside the read section.
  void serve_dump(const ReadSection& pin, std::uint64_t now_ms);
  bool dump_pending() const { return dump_state_.load(std::memory_order_acquire) == 1; }
  // After the read section (the quiescent report): the heap use since the first snapshot.
  void after_section();
  // True when shutdown is done or timed out (the loop ends). Reads no snapshot.
  bool finished(std::uint64_t now_ms) const {
    return shutdown_deadline_ != 0 && (engine_.shutdown_done() || past_deadline(now_ms));
  }
  bool past_deadline(std::uint64_t now_ms) const { return shutdown_deadline_ != 0 && now_ms >= shutdown_deadline_; }

  std::uint32_t id_;
  SnapshotReader reader_;
  reg::TxQueue tx_;
  reg::Tracer tracer_;  // before engine_, which is given its address
  reg::Engine engine_;
  call::Relay relay_;

 private:
  // Raises a dump request set up by dump()/dump_calls() and takes the buffer back (see worker.cc).
  bool wait_for_dump(std::uint64_t& snapshot_version);

  std::uint32_t shutdown_timeout_s_;
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> exited_{false};
  std::atomic<std::uint64_t> adopted_{0};
  std::uint64_t shutdown_deadline_ = 0;
  const std::uint64_t* thread_allocated_ = nullptr;  // jemalloc's counter for this thread
  std::uint64_t heap_baseline_ = 0;
  bool heap_baseline_set_ = false;
  Counter heap_allocated_;
  Counter reports_;
  std::atomic<bool> heap_tracked_{false};
  // Dump hand-over: control sets the buffer and raises `dump_state_` to 1 (release: the buffer
  // pointer is visible to the worker's acquire load); the worker fills it in chunks and sets 2
  // (release: the rows are visible to the control thread's acquire load).
  std::atomic<int> dump_state_{0};
  std::vector<reg::BindingStatus>* dump_out_ = nullptr;     // a binding dump, or
  std::vector<call::CallStatus>* dump_calls_ = nullptr;     // a call dump
  std::uint32_t dump_next_ = 0;
  std::uint64_t dump_version_ = 0;
  reg::StatusTables dump_tables_{};
  // clear sip-ua registration hand-over: 0 idle, 1 asked (fields written, release), 2 taken.
  std::atomic<int> rereg_state_{0};
  std::uint8_t rereg_registrars_ = 0;
  std::uint8_t rereg_number_len_ = 0;
  char rereg_number_[64] = {};
  void serve_reregister(const ReadSection& pin, std::uint64_t now_ms);
};

}  // namespace regfront::worker
