// What every worker has (see regfront/worker/worker.h).
#include "regfront/worker/worker.h"

#include <jemalloc/jemalloc.h>
#include <time.h>

#include <algorithm>
#include <cstring>

#include "regfront/common/clock.h"

namespace regfront::worker {
namespace {

constexpr std::size_t kDumpChunk = 8192;  // rows copied per loop iteration

// Dump hand-over states (Worker::dump_state_).
constexpr int kDumpIdle = 0;       // nothing asked
constexpr int kDumpAsked = 1;      // the control thread waits; the buffer is the worker's to fill
constexpr int kDumpDone = 2;       // filled; the control thread takes it back
constexpr int kDumpWriting = 3;    // the worker is copying a chunk: the buffer may not go away

reg::EngineOptions traced(reg::EngineOptions o, reg::Tracer* t) {
  o.tracer = t;
  return o;
}

}  // namespace

Worker::Worker(const WorkerOptions& o, rte_rcu_qsbr* qs, const std::atomic<const reg::Snapshot*>& current,
               reg::TxQueue::FlushFn flush, void* flush_ctx)
    : id_(o.id),
      reader_(qs, o.id, current),
      tx_(256, flush, flush_ctx),
      engine_(traced(o.engine, &tracer_), tx_),
      relay_(o.relay, tx_, call::Liveness::of(engine_)),
      shutdown_timeout_s_(o.shutdown_timeout_s) {}

void Worker::begin_thread() {
  reader_.register_thread();
  // jemalloc keeps a per-thread count of bytes allocated; its address is stable for the
  // thread's life, so the loop reads it with one load.
  std::uint64_t* p = nullptr;
  std::size_t len = sizeof p;
  if (mallctl("thread.allocatedp", &p, &len, nullptr, 0) == 0 && p != nullptr) {
    thread_allocated_ = p;
    heap_tracked_.store(true, std::memory_order_release);
  }
}

void Worker::end_thread(std::uint64_t now_ms) {
  {
    ReadSection pin(reader_);
    serve_dump(pin, now_ms);  // a dump asked for during the last iteration
  }
  reader_.unregister_thread();
  exited_.store(true, std::memory_order_release);
}

void Worker::pick_up(const ReadSection& pin, std::uint64_t now) {
  engine_.adopt(pin, now);
  relay_.adopt(pin, now);
  adopted_.store(engine_.adopted_version(), std::memory_order_release);
  if (shutdown_deadline_ == 0 && shutdown_.load(std::memory_order_acquire)) {
    engine_.begin_shutdown(pin, now);
    shutdown_deadline_ = now + std::uint64_t{shutdown_timeout_s_} * 1000;
  }
}

void Worker::after_section() {
  reports_.set(reader_.quiescent_reports());
  if (thread_allocated_ == nullptr || engine_.adopted_version() == 0) return;  // set-up lasts until the first snapshot
  if (!heap_baseline_set_) {
    heap_baseline_ = *thread_allocated_;
    heap_baseline_set_ = true;
  }
  heap_allocated_.set(*thread_allocated_ - heap_baseline_);
}

void Worker::on_datagram(const ReadSection& pin, std::string_view d, const sockaddr_storage& src, socklen_t src_len,
                         std::uint64_t now) {
  sip::Header headers[sip::kMaxHeaders];
  sip::Message m;
  const bool parsed = sip::parse(d, m, headers) == sip::ParseStatus::ok;
  engine_.count_datagram(parsed);
  if (!parsed) {
    // A response over the parser's limits (a 401 with an 8 KB header) fails its transaction
    // as what it is, rather than leaving it to time out as a 408.
    if (m.error == sip::ParseError::limit) engine_.on_oversized(pin, d, now);
    return;
  }
  if (m.is_request) {
    const std::uint32_t owner = relay_.owner(pin, m, src);
    if (owner != id_ && hand_off_request(owner, d, src)) return;
    relay_.on_request(pin, m, src, src_len, now);
    return;
  }
  if (call::is_relay_branch(sip::top_via_branch(m))) {
    relay_.on_response(pin, m, now);
  } else {
    engine_.on_response(pin, m, now);
  }
}

void Worker::serve_reregister(const ReadSection& pin, std::uint64_t now) {
  // As serve_dump: a plain load first (nothing asked, the usual case, costs no locked instruction).
  if (rereg_state_.load(std::memory_order_relaxed) != 1) return;
  int asked = 1;
  if (!rereg_state_.compare_exchange_strong(asked, 2, std::memory_order_acquire)) return;
  engine_.reregister(pin, rereg_registrars_, {rereg_number_, rereg_number_len_}, now);
  rereg_state_.store(0, std::memory_order_release);
}

bool Worker::reregister(std::uint8_t registrars, std::string_view number) {
  if (number.size() > sizeof rereg_number_) return false;
  rereg_registrars_ = registrars;
  std::memcpy(rereg_number_, number.data(), number.size());
  rereg_number_len_ = static_cast<std::uint8_t>(number.size());
  rereg_state_.store(1, std::memory_order_release);
  for (int i = 0; i < 10000 && rereg_state_.load(std::memory_order_acquire) != 0 && !exited(); ++i) {
    const timespec ts{0, 500000};
    nanosleep(&ts, nullptr);
  }
  for (;;) {  // withdraw it unless the worker took it; if it is taking it, wait (microseconds)
    int state = rereg_state_.load(std::memory_order_acquire);
    if (state == 0) return true;
    if (state == 1 && rereg_state_.compare_exchange_strong(state, 0, std::memory_order_acq_rel)) return false;
    const timespec ts{0, 100000};
    nanosleep(&ts, nullptr);
  }
}

void Worker::serve_dump(const ReadSection& pin, std::uint64_t now) {
  serve_reregister(pin, now);  // the other control-thread request answered between bursts
  // Called every loop iteration: a plain load first, so that the usual answer (nothing asked)
  // costs no locked instruction and leaves the line shared with the control thread.
  if (dump_state_.load(std::memory_order_relaxed) != kDumpAsked) return;
  int asked = kDumpAsked;
  // Acquire: the control thread's dump_out_ and the buffer's reservation are visible.
  if (!dump_state_.compare_exchange_strong(asked, kDumpWriting, std::memory_order_acquire)) return;
  if (dump_calls_ != nullptr) {
    // Calls: few (the table's size), in one go.
    std::vector<call::CallStatus>& out = *dump_calls_;
    std::uint32_t next = 0;
    out.resize(out.capacity());
    out.resize(relay_.status(pin, 0, out.data(), out.size(), next, now));
    dump_version_ = engine_.adopted_version();
    dump_state_.store(kDumpDone, std::memory_order_release);
    return;
  }
  std::vector<reg::BindingStatus>& out = *dump_out_;
  const std::size_t have = out.size();
  // The buffer was sized by the control thread to the slot count: no allocation here.
  std::uint32_t next = dump_next_;
  const std::size_t room = std::min(kDumpChunk, out.capacity() - have);
  out.resize(have + room);
  const std::size_t n = engine_.status(pin, dump_next_, out.data() + have, room, next, now);
  out.resize(have + n);
  dump_next_ = next;
  const bool done = next >= engine_.slot_count() || out.size() == out.capacity();
  if (done) {
    dump_version_ = engine_.adopted_version();
    dump_tables_ = engine_.status_tables();
  }
  // Release: the rows written above are visible to the control thread's acquire.
  dump_state_.store(done ? kDumpDone : kDumpAsked, std::memory_order_release);
}

bool Worker::dump_calls(std::vector<call::CallStatus>& out, std::size_t max) {
  out.clear();
  out.reserve(max);
  dump_calls_ = &out;
  dump_out_ = nullptr;
  std::uint64_t version = 0;
  const bool ok = wait_for_dump(version);
  dump_calls_ = nullptr;
  return ok;
}

bool Worker::dump(std::vector<reg::BindingStatus>& out, std::uint64_t& snapshot_version, std::size_t slots) {
  out.clear();
  out.reserve(slots + kDumpChunk);
  dump_out_ = &out;
  dump_calls_ = nullptr;
  dump_next_ = 0;
  return wait_for_dump(snapshot_version);
}

bool Worker::wait_for_dump(std::uint64_t& snapshot_version) {
  dump_state_.store(kDumpAsked, std::memory_order_release);
  // The worker answers within a few loop iterations; an exited worker answered at exit.
  for (int i = 0; i < 10000 && dump_state_.load(std::memory_order_acquire) != kDumpDone && !exited(); ++i) {
    const timespec ts{0, 500000};
    nanosleep(&ts, nullptr);
  }
  // Take the buffer back. While the worker is copying a chunk it may not go away: wait for
  // that chunk (microseconds), then withdraw the request so no later iteration touches it.
  for (;;) {
    int state = dump_state_.load(std::memory_order_acquire);
    if (state == kDumpWriting) {
      const timespec ts{0, 100000};
      nanosleep(&ts, nullptr);
      continue;
    }
    if (dump_state_.compare_exchange_strong(state, kDumpIdle, std::memory_order_acq_rel)) {
      snapshot_version = dump_version_;
      return state == kDumpDone;
    }
  }
}

}  // namespace regfront::worker
