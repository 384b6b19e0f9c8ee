// A worker thread over the socket backend.
//
// Loop order, and why:
//   1. pick up the current snapshot (one acquire load) — a new one is adopted before any packet
//      is looked at, so responses are matched against the plan the control plane published;
//   2. RX burst → engine, then flush TX — answers to challenges leave within the same iteration;
//   3. timers and paced starts → flush TX;
//   4. serve a pending status dump (chunked, so a large dump never stalls the loop);
//   5. report a quiescent state (rte_rcu_qsbr) — after this the previous snapshot may be freed;
//   6. idle: when the burst was not full, go offline for QSBR and sleep in ppoll until the
//      socket is readable or the next timer is due (bounded to 5 ms), so an idle box does not
//      spin. A partial burst means the socket was drained: asking it again with recvmmsg would
//      only cost a system call that returns nothing (ppoll returns at once if more arrived).
// System calls per wake-up are what a socket worker pays per registration when the registrar
// answers one datagram at a time (perf/scenarios/compare_uac.py): ppoll, recvmmsg, sendmmsg.
// The ICMP error queue is read only when ppoll reports POLLERR, or once per millisecond while
// busy (ppoll is then skipped), instead of with one failing recvmsg per iteration.
#include <poll.h>
#include <jemalloc/jemalloc.h>
#include <rte_rcu_qsbr.h>
#include <time.h>

#include "daemon.h"
#include "regfront/common/clock.h"

namespace regfront::daemon {
namespace {

constexpr std::size_t kDumpChunk = 8192;

reg::EngineOptions engine_options(std::uint32_t id, const Options& o, std::uint64_t seed, const SipKey& key) {
  reg::EngineOptions e;
  e.worker = id;
  e.capacity = o.capacity;
  e.key = key;
  e.seed = seed;
  e.via_port = static_cast<std::uint16_t>(o.listen_port + id);
  e.preemptive_auth = o.preemptive_auth;
  return e;
}

}  // namespace

WorkerBase::WorkerBase(std::uint32_t id, const Options& o, rte_rcu_qsbr* qs,
                       std::atomic<const reg::Snapshot*>& current, std::uint64_t seed, const SipKey& key,
                       reg::TxQueue::FlushFn flush, void* flush_ctx)
    : id_(id), qs_(qs), current_(current), tx_(256, flush, flush_ctx),
      engine_(engine_options(id, o, seed, key), tx_), shutdown_timeout_s_(o.shutdown_timeout_s) {}

void WorkerBase::online() {
  rte_rcu_qsbr_thread_register(qs_, id_);
  rte_rcu_qsbr_thread_online(qs_, id_);
  // jemalloc keeps a per-thread count of bytes allocated; its address is stable for the
  // thread's life, so the loop reads it with one load.
  std::uint64_t* p = nullptr;
  std::size_t len = sizeof p;
  if (mallctl("thread.allocatedp", &p, &len, nullptr, 0) == 0 && p != nullptr) {
    thread_allocated_ = p;
    heap_tracked_.store(true, std::memory_order_release);
  }
}

void WorkerBase::quiescent() {
  rte_rcu_qsbr_quiescent(qs_, id_);
  if (thread_allocated_ == nullptr || mine_ == 0) return;  // set-up is over at the first adopt()
  if (!heap_baseline_set_) {
    heap_baseline_ = *thread_allocated_;
    heap_baseline_set_ = true;
  }
  heap_allocated_.set(*thread_allocated_ - heap_baseline_);
}

void WorkerBase::offline() {
  serve_dump(monotonic_ms());
  rte_rcu_qsbr_thread_offline(qs_, id_);
  rte_rcu_qsbr_thread_unregister(qs_, id_);
  exited_.store(true, std::memory_order_release);
}

void WorkerBase::pick_up(std::uint64_t now) {
  const reg::Snapshot* snap = current_.load(std::memory_order_acquire);
  if (snap != nullptr && snap->version != mine_) {
    engine_.adopt(snap, now);
    mine_ = snap->version;
    adopted_.store(snap->version, std::memory_order_release);
  }
  if (shutdown_deadline_ == 0 && shutdown_.load(std::memory_order_acquire)) {
    engine_.begin_shutdown(now);
    shutdown_deadline_ = now + std::uint64_t{shutdown_timeout_s_} * 1000;
  }
}

Worker::Worker(std::uint32_t id, const Options& o, rte_rcu_qsbr* qs,
               std::atomic<const reg::Snapshot*>& current, std::uint64_t seed, const SipKey& key)
    : WorkerBase(id, o, qs, current, seed, key, &io::SocketIo::flush_hook, &io_) {}

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::run() {
  online();
  pollfd pfd{io_.fd(), POLLIN, 0};
  bool errors_signalled = true;  // look once at start
  bool polled = false;           // the last iteration slept in ppoll: its revents are current
  std::uint64_t errors_checked_ms = 0;
  for (;;) {
    std::uint64_t now = monotonic_ms();
    pick_up(now);
    const std::size_t n = io_.rx_burst([&](std::string_view d) { engine_.on_datagram(d, now); });
    // After a ppoll, POLLERR says whether the queue holds anything; without one (busy), look
    // once per millisecond.
    if (errors_signalled || (!polled && now != errors_checked_ms)) {
      io_.drain_errors([&](const sockaddr_storage& dst) { engine_.on_unreachable(dst, now); });
      errors_signalled = false;
      errors_checked_ms = now;
    }
    polled = false;
    io_.flush(tx_);
    engine_.advance(now);
    io_.flush(tx_);
    serve_dump(now);
    quiescent();
    if (finished(now)) break;
    if (n < io::SocketIo::kBurst) {
      const std::uint64_t next = engine_.next_deadline_ms();
      const std::uint64_t wait = next > now ? std::min<std::uint64_t>(next - now, 5) : 0;
      if (wait > 0 && !dump_pending()) {
        rte_rcu_qsbr_thread_offline(qs_, id_);
        const timespec ts{0, static_cast<long>(wait) * 1000000L};
        pfd.revents = 0;
        ::ppoll(&pfd, 1, &ts, nullptr);
        if (pfd.revents & POLLERR) errors_signalled = true;
        polled = true;
        rte_rcu_qsbr_thread_online(qs_, id_);
      }
    }
  }
  offline();
}

void WorkerBase::serve_dump(std::uint64_t now) {
  if (dump_state_.load(std::memory_order_acquire) != 1) return;
  std::vector<reg::BindingStatus>& out = *dump_out_;
  const std::size_t have = out.size();
  // The buffer was sized by the control thread to the slot count: no allocation here.
  std::uint32_t next = dump_next_;
  const std::size_t room = std::min(kDumpChunk, out.capacity() - have);
  out.resize(have + room);
  const std::size_t n = engine_.status(dump_next_, out.data() + have, room, next, now);
  out.resize(have + n);
  dump_next_ = next;
  if (next >= engine_.slot_count() || out.size() == out.capacity()) {
    dump_version_ = engine_.snapshot() ? engine_.snapshot()->version : 0;
    dump_state_.store(2, std::memory_order_release);
  }
}

bool WorkerBase::dump(std::vector<reg::BindingStatus>& out, std::uint64_t& snapshot_version,
                  std::size_t slots) {
  out.clear();
  out.reserve(slots + kDumpChunk);
  dump_out_ = &out;
  dump_next_ = 0;
  dump_state_.store(1, std::memory_order_release);
  // The worker answers within a few loop iterations; an exited worker answered at exit.
  for (int i = 0; i < 10000 && dump_state_.load(std::memory_order_acquire) != 2; ++i) {
    if (exited()) break;
    const timespec ts{0, 500000};
    nanosleep(&ts, nullptr);
  }
  const bool ok = dump_state_.load(std::memory_order_acquire) == 2;
  dump_state_.store(0, std::memory_order_release);
  snapshot_version = dump_version_;
  return ok;
}

}  // namespace regfront::daemon
