// The poll-mode worker loop over DPDK (see regfront/worker/dpdk_worker.h).
//
// Loop order, and why (one iteration is a few µs when idle; nothing sleeps — a poll-mode worker
// owns its core):
//   1. open the read section: pick up the current snapshot and a shutdown request — before any
//      packet, so responses match the plan the control plane published;
//   2. RX: one burst per port from this worker's queue; ARP replies/NAs copied to the other
//      workers; NetStack::classify; datagrams for our UDP port → engine, datagrams for another
//      worker's port → its hand-off ring; ICMP unreachables → engine.on_unreachable; then what
//      the other workers handed us; the burst's mbufs are released;
//   3. answers: every kAnswerEvery datagrams of a burst, and after it, the engine's TxQueue goes
//      through NetStack::send_udp and the TX batch to rte_eth_tx_burst (an answer to a challenge
//      does not wait for the rest of its burst, nor for the timers); the answer_* counters time
//      them;
//   4. engine.advance (timers, paced starts), its output to the TX batch, which goes to
//      rte_eth_tx_burst when a burst is full or every 50 µs (TSC deadline), so a lone
//      timer-driven REGISTER waits at most that long;
//   5. NetStack::poll (ARP/NDP retries, fragment timeouts; every 100 µs);
//   6. a pending status dump, chunked;
//   7. close the section: rte_rcu_qsbr_quiescent — after it the previous snapshot may be freed;
//   8. busy time (LoopStats), counted only for iterations that moved anything.
// Shutdown: the engine sends the unregistrations through the same loop; the loop ends once
// they are answered or the timeout passes; the TX batches are drained before the lcore returns,
// and only then does the control thread stop the ports.
#include "regfront/worker/dpdk_worker.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <time.h>

#include <algorithm>

#include "regfront/worker/loop_stats.h"

namespace regfront::worker {
namespace {

// Datagrams between two TX flushes inside an RX burst: the engine spends ~1 µs on a challenge
// (parse, digest, build), so the answer to the first 401 of a 32-frame burst would otherwise
// wait ~30 µs for the other 31. Three more tx_burst calls per full burst are cheap next to that.
constexpr std::size_t kAnswerEvery = 8;

}  // namespace

// The engine's clock is milliseconds from the TSC, anchored on CLOCK_MONOTONIC once, so the
// loop makes no system call; the NetStack and the TX deadline use TSC ticks directly.
struct DpdkWorker::Clock {
  std::uint64_t base_ms, base_tsc, tsc_per_ms;
  Clock() {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    base_ms = std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
    base_tsc = rte_rdtsc();
    tsc_per_ms = std::max<std::uint64_t>(rte_get_tsc_hz() / 1000, 1);
  }
  std::uint64_t ms(std::uint64_t tsc) const { return base_ms + (tsc - base_tsc) / tsc_per_ms; }
};

DpdkWorker::DpdkWorker(const WorkerOptions& o, rte_rcu_qsbr* qs, const std::atomic<const reg::Snapshot*>& current,
                       const DpdkWorkerOptions& d, const net::NetConfig& net, rte_mempool* pool,
                       io::HandoffFabric* fabric)
    : Worker(o, qs, current, &io::DpdkIo::flush_hook, &io_), io_(d.io, net, pool, fabric), fabric_(fabric), d_(d) {}

DpdkWorker::~DpdkWorker() { join(); }

void DpdkWorker::start() { launched_ = rte_eal_remote_launch(&DpdkWorker::launch, this, d_.lcore) == 0; }

void DpdkWorker::join() {
  if (launched_) rte_eal_wait_lcore(d_.lcore);
  launched_ = false;
}

int DpdkWorker::launch(void* self) {
  static_cast<DpdkWorker*>(self)->run();
  return 0;
}

std::uint64_t DpdkWorker::io_errors() const {
  return io_.counters().tx_not_sent.get() + io_.counters().handoff_drop.get();
}

void DpdkWorker::io_counters(std::vector<std::pair<std::string, std::uint64_t>>& out) const {
  for (std::size_t i = 0; i < io::kDpdkIoCounterCount; ++i)
    out.emplace_back(io::kDpdkIoCounterInfo[i].name, io::dpdk_io_counter(io_.counters(), i));
  for (std::size_t i = 0; i < net::kNetCounterCount; ++i)
    out.emplace_back(net::kNetCounterInfo[i].name, net::net_counter(io_.net_counters(), i));
}

void DpdkWorker::wait_for_network(const Clock& clock) {
  bool announced = false;
  for (;;) {
    const std::uint64_t tsc = rte_rdtsc();
    const std::uint64_t now = clock.ms(tsc);
    const bool up = io_.links_up();
    const bool timed_out = now - clock.base_ms >= d_.start_wait_ms;
    bool ready = false;
    {
      ReadSection pin(reader_);
      pick_up(pin, now);
      io_.rx(tsc,
             [&](std::string_view d, const sockaddr_storage& src, socklen_t len) {
               on_datagram(pin, d, src, len, now);
             },
             [&](const sockaddr_storage& dst, std::string_view quoted) {
               engine_.on_unreachable(pin, dst, quoted, now);
             });
      io_.flush(tx_, tsc);
      if ((up || timed_out) && !announced) {
        announced = true;
        if (id_ == 0) io_.announce(tsc);  // one gratuitous ARP / unsolicited NA per address
      }
      if (up && pin.get() != nullptr) {
        ready = true;
        for (const reg::SnapRegistrar& r : pin.get()->registrars)
          if (r.present && r.addr_len != 0) ready &= io_.stack().resolve(io::to_endpoint(r.addr).addr, tsc);
      }
      io_.drain(tsc);
      io_.poll(tsc);
      serve_dump(pin, now);
    }
    after_section();
    if (ready || timed_out || finished(now)) return;
  }
}

void device_signals(sigset_t& set) {
  sigemptyset(&set);
  sigaddset(&set, SIGIO);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
}

void DpdkWorker::run() {
  sigset_t device;
  device_signals(device);
  pthread_sigmask(SIG_UNBLOCK, &device, nullptr);
  begin_thread();
  const Clock clock;
  wait_for_network(clock);
  LoopStats stats(io_.counters(), d_.io.stage_timing);
  // The previous iteration's rx_burst call: a frame this iteration receives arrived after it.
  std::uint64_t prev_poll = rte_rdtsc();
  bool marked_finished = false;
  for (;;) {
    const std::uint64_t tsc = rte_rdtsc();
    const std::uint64_t now = clock.ms(tsc);
    stats.begin(tsc);
    std::size_t got = 0, built = 0;
    std::uint32_t sent = 0;
    {
      ReadSection pin(reader_);
      pick_up(pin, now);
      const std::uint64_t t_rx = rte_rdtsc();
      stats.mark(LoopStats::other, t_rx);
      // The answers queued so far leave now, and their latency is recorded.
      const auto answer = [&] {
        built += tx_.size();
        io_.flush(tx_, tsc);
        const std::uint64_t b = rte_rdtsc();
        stats.mark(LoopStats::build, b);
        const std::uint32_t k = io_.drain(b, true);  // b, not tsc: the 1 µs retry gate needs now
        const std::uint64_t e = rte_rdtsc();
        stats.mark(LoopStats::tx, e);
        io_.record_answers(e - prev_poll, k);
        sent += k;
      };
      std::size_t pending = 0;
      got = io_.rx(
          tsc,
          [&](std::string_view d, const sockaddr_storage& src, socklen_t len) {
            on_datagram(pin, d, src, len, now);
            if (++pending < kAnswerEvery) return;
            pending = 0;
            stats.mark(LoopStats::rx);
            answer();
          },
          [&](const sockaddr_storage& dst, std::string_view quoted) {
            engine_.on_unreachable(pin, dst, quoted, now);
          });
      stats.mark(LoopStats::rx);
      if (got != 0) {  // the rest of the burst's answers leave now, before the timers run
        answer();
        if (io_.tx_backlog() != 0) io_.counters().answer_deferred.inc();
      }
      prev_poll = t_rx;
      advance(pin, now);
      stats.mark(LoopStats::advance);
      built += tx_.size();
      io_.flush(tx_, tsc);
      stats.mark(LoopStats::build);
      sent += io_.drain(tsc);
      stats.mark(LoopStats::tx);
      io_.poll(tsc);
      serve_dump(pin, now);
    }
    after_section();
    stats.end(got + built + sent != 0);
    if (finished(now)) {
      // Our own bindings are done; keep polling for the others until all are (see
      // HandoffFabric::mark_finished), or until the shutdown deadline.
      if (!marked_finished) {
        marked_finished = true;
        if (fabric_ != nullptr) fabric_->mark_finished();
      }
      if (fabric_ == nullptr || fabric_->all_finished() || past_deadline(now)) break;
    }
  }
  // The last unregistrations may still sit in a TX batch or the NIC's queue: push them out.
  for (int i = 0; i < 1000; ++i) {
    io_.drain(rte_rdtsc(), true);
    bool empty = true;
    for (std::uint16_t p = 0; p < io_.stack().port_count(); ++p) empty &= io_.stack().tx(p).count == 0;
    if (empty) break;
    rte_delay_us_block(10);
  }
  end_thread(clock.ms(rte_rdtsc()));
}

}  // namespace regfront::worker
