// regfrontd --io dpdk: the poll-mode worker loop and the EAL/port set-up around it.
//
// Loop order, and why (one iteration is a few µs when idle; nothing sleeps — a poll-mode worker
// owns its core):
//   1. pick up the current snapshot and a shutdown request (WorkerBase::pick_up) — before any
//      packet, so responses match the plan the control plane published;
//   2. RX: one burst per port from this worker's queue; ARP replies/NAs copied to the other
//      workers; NetStack::classify; datagrams for our UDP port → engine, datagrams for another
//      worker's port → its hand-off ring; ICMP unreachables → engine.on_unreachable; then what
//      the other workers handed us; the burst's mbufs are released;
//   3. answers: every 8 datagrams of a burst, and after it, the engine's TxQueue goes through
//      NetStack::send_udp and the TX batch to rte_eth_tx_burst (an answer to a challenge does not
//      wait for the rest of its burst, nor for the timers); the answer_* counters time them;
//   4. engine.advance (timers, paced starts), its output to the TX batch, which goes to
//      rte_eth_tx_burst when a burst is full or every 50 µs (TSC deadline), so a lone
//      timer-driven REGISTER waits at most that long;
//   5. NetStack::poll (ARP/NDP retries, fragment timeouts; every 100 µs);
//   6. a pending status dump, chunked;
//   7. rte_rcu_qsbr_quiescent — after this the previous snapshot may be freed.
// Shutdown: the engine sends the unregistrations through the same loop; the loop ends once
// they are answered or the timeout passes; the TX batches are drained before the lcore returns,
// and only then does the control thread stop the ports.
#include "dpdk_worker.h"

#include <arpa/inet.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_rcu_qsbr.h>
#include <unistd.h>

#include <algorithm>

namespace regfront::daemon {

// ---- worker ----
DpdkWorker::DpdkWorker(std::uint32_t id, const Options& o, rte_rcu_qsbr* qs,
                       std::atomic<const reg::Snapshot*>& current, std::uint64_t seed, const SipKey& key,
                       unsigned lcore, const io::DpdkIoOptions& io_opts, const net::NetConfig& net,
                       rte_mempool* pool, io::HandoffFabric* fabric)
    : WorkerBase(id, o, qs, current, seed, key, &io::DpdkIo::flush_hook, &io_),
      io_(io_opts, net, pool, fabric),
      fabric_(fabric),
      lcore_(lcore) {}

void DpdkWorker::start() {
  launched_ = rte_eal_remote_launch(&DpdkWorker::launch, this, lcore_) == 0;
}

void DpdkWorker::join() {
  if (launched_) rte_eal_wait_lcore(lcore_);
  launched_ = false;
}

namespace {
constexpr std::size_t kAnswerEvery = 8;  // datagrams between two TX flushes inside an RX burst
}  // namespace

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

void DpdkWorker::run() {
  online();
  // The engine's clock is milliseconds from the TSC, anchored on CLOCK_MONOTONIC once, so the
  // loop makes no system call; the NetStack and the TX deadline use TSC ticks directly.
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::uint64_t base_ms = std::uint64_t(ts.tv_sec) * 1000 + std::uint64_t(ts.tv_nsec) / 1000000;
  const std::uint64_t base_tsc = rte_rdtsc();
  const std::uint64_t tsc_per_ms = std::max<std::uint64_t>(rte_get_tsc_hz() / 1000, 1);
  // The engine starts once the ports' links are up and the registrars' next hops are resolved
  // (or failed), or after kStartWaitMs: a REGISTER sent before waits in the next hop's queue
  // with everything the token bucket starts meanwhile, and all of it reaches the registrar at
  // once when the ARP reply comes (memif's link takes ~40 ms: 1,400 REGISTERs in 20 ms at a
  // rate of 20,000/s). The gratuitous ARP / unsolicited NA goes out once the links are up.
  constexpr std::uint64_t kStartWaitMs = 3000;
  bool started = false, announced = false;
  const auto next_hops_ready = [&](std::uint64_t t) {
    const reg::Snapshot* s = current_.load(std::memory_order_acquire);
    if (s == nullptr) return false;
    bool ready = true;
    for (const reg::SnapRegistrar& r : s->registrars)
      if (r.present && r.addr_len != 0) ready &= io_.stack().resolve(io::to_endpoint(r.addr).addr, t);
    return ready;
  };
  bool marked_finished = false;
  // Busy time and its split by stage: ticks of the iterations that moved anything (idle polls
  // are left out), read from `show dataplane` (busy_tsc, stage_*_tsc; tsc_hz converts).
  io::DpdkIoCounters& ctr = io_.counters();
  // The previous iteration's rx_burst call: a frame this iteration receives arrived after it.
  std::uint64_t prev_poll = rte_rdtsc();
  for (;;) {
    const std::uint64_t tsc = rte_rdtsc();
    const std::uint64_t now = base_ms + (tsc - base_tsc) / tsc_per_ms;
    pick_up(now);
    const std::uint64_t t_rx = rte_rdtsc();
    // Answers leave every kAnswerEvery datagrams rather than once per RX burst: the engine
    // spends ~1 µs on a challenge (parse, digest, build), so the answer to the first 401 of a
    // 32-frame burst would otherwise wait ~30 µs for the other 31 (the p99 <= 50 µs).
    // Three more tx_burst calls per full burst are cheap next to that.
    std::size_t pending = 0, mid_built = 0, mid_sent = 0;
    std::uint64_t mid_build = 0, mid_tx = 0;
    const std::size_t got = io_.rx(
        tsc,
        [&](std::string_view d) {
          engine_.on_datagram(d, now);
          if (++pending < kAnswerEvery) return;
          pending = 0;
          const std::uint64_t a = rte_rdtsc();
          mid_built += tx_.size();
          io_.flush(tx_, tsc);
          const std::uint64_t b = rte_rdtsc();
          const std::uint32_t k = io_.drain(b, true);  // b, not tsc: the 1 µs retry gate needs now
          const std::uint64_t e = rte_rdtsc();
          mid_sent += k;
          mid_tx += e - b;
          io_.record_answers(e - prev_poll, k);
          mid_build += b - a;
        },
        [&](const sockaddr_storage& dst) { engine_.on_unreachable(dst, now); });
    const std::uint64_t t_build = rte_rdtsc();
    std::size_t built = tx_.size() + mid_built;
    io_.flush(tx_, tsc);
    const std::uint64_t t_ans = rte_rdtsc();
    std::uint32_t sent = std::uint32_t(mid_sent);
    std::uint64_t t_adv = t_ans;
    if (got != 0) {  // the rest of the burst's answers leave now, before the timers run
      const std::uint32_t k = io_.drain(t_ans, true);
      t_adv = rte_rdtsc();
      sent += k;
      io_.record_answers(t_adv - prev_poll, k);
      if (io_.tx_backlog() != 0) ctr.answer_deferred.inc();
    }
    if (!started) {
      const bool up = io_.links_up();
      const bool timed_out = now - base_ms >= kStartWaitMs;
      if ((up || timed_out) && !announced) {
        announced = true;
        if (id_ == 0) io_.announce(tsc);  // one gratuitous ARP / unsolicited NA per address
      }
      started = (up && next_hops_ready(tsc)) || timed_out;
    }
    if (started) engine_.advance(now);
    const std::uint64_t t_build2 = rte_rdtsc();
    built += tx_.size();
    io_.flush(tx_, tsc);
    const std::uint64_t t_tx = rte_rdtsc();
    sent += io_.drain(tsc);
    const std::uint64_t t_other = rte_rdtsc();
    prev_poll = t_rx;
    io_.poll(tsc);
    serve_dump(now);
    quiescent();
    if (got + built + sent != 0) {
      const std::uint64_t t_end = rte_rdtsc();
      ctr.busy_tsc.inc(t_end - tsc);
      ctr.stage_rx_tsc.inc(t_build - t_rx - mid_build - mid_tx);
      ctr.stage_build_tsc.inc((t_ans - t_build) + (t_tx - t_build2) + mid_build);
      ctr.stage_advance_tsc.inc(t_build2 - t_adv);
      ctr.stage_tx_tsc.inc((t_adv - t_ans) + (t_other - t_tx) + mid_tx);
      ctr.stage_other_tsc.inc((t_rx - tsc) + (t_end - t_other));
    }
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
  offline();
}

// ---- backend ----
std::unique_ptr<DpdkBackend> DpdkBackend::create(Options& o, const config::Config& cfg, std::string& err) {
  std::unique_ptr<DpdkBackend> b(new DpdkBackend());
  if (!io::eal_init(o.eal_args, o.workers, err)) return nullptr;
  b->eal_ = true;
  b->facts_ = io::probe_ports();
  if (b->facts_.empty()) {
    err = "% No DPDK ports: the EAL found no device (give a NIC, or --vdev net_tap0,iface=rftap0, in --eal)";
    return nullptr;
  }
  const std::vector<std::string> problems = config::validate_interfaces(cfg, int(b->facts_.size()));
  if (!problems.empty()) {
    for (const auto& p : problems) err += p + "\n";
    if (!err.empty()) err.pop_back();
    return nullptr;
  }
  if (!io::plan_dpdk(cfg, b->facts_, o.workers, b->plan_, err)) return nullptr;
  const unsigned worker_lcores = rte_lcore_count() - 1;
  if (worker_lcores < o.workers) {
    err = "% --workers " + std::to_string(o.workers) + " needs as many worker lcores; the EAL has " +
          std::to_string(worker_lcores) + " (give -l/--lcores with the main lcore plus one per worker)";
    return nullptr;
  }
  o.listen_port = b->plan_.listen_port;
  return b;
}

DpdkBackend::~DpdkBackend() {
  io::stop_ports(started_);
  fabric_.reset();
  if (pool_ != nullptr) rte_mempool_free(pool_);
  if (eal_) rte_eal_cleanup();
}

bool DpdkBackend::make_workers(const Options& o, rte_rcu_qsbr* qs, std::atomic<const reg::Snapshot*>& current,
                               std::uint64_t seed, const SipKey& key, std::uint32_t bindings_per_worker,
                               std::vector<std::unique_ptr<WorkerBase>>& out, std::string& err) {
  constexpr std::uint16_t kRxDesc = 1024, kTxDesc = 1024;
  // A port that cannot steer by UDP port (memif, tap) delivers every response to one worker,
  // which hands the others' on: up to a worker's whole window (8192 transactions) can be in
  // such a ring at once in a storm. At 1024 a 600k storm with 2 workers dropped 76k responses
  // (handoff_drop), each a Timer E.
  constexpr std::uint32_t kHandoffRing = 8192;
  io::PoolSizing sz;
  sz.workers = o.workers;
  sz.ports = std::uint32_t(plan_.ports.size());
  sz.rx_desc = kRxDesc;
  sz.tx_desc = kTxDesc;
  sz.bindings_per_worker = bindings_per_worker;
  sz.handoff_ring = kHandoffRing;
  sz.net = plan_.net;
  pool_ = io::create_pool(io::pool_size(sz, &pool_wanted_), err);
  if (pool_ == nullptr) return false;
  fabric_ = std::make_unique<io::HandoffFabric>();
  if (!fabric_->create(o.workers, kHandoffRing, std::to_string(::getpid() % 100000), err)) return false;

  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (std::uint32_t i = 0; i < o.workers; ++i, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    io::DpdkIoOptions io_opts;
    io_opts.worker = std::uint16_t(i);
    io_opts.listen_port = plan_.listen_port;
    io_opts.ports = plan_.ports;
    io_opts.source4 = plan_.source4;
    io_opts.source6 = plan_.source6;
    auto w = std::make_unique<DpdkWorker>(i, o, qs, current, seed + i, key, lcore, io_opts, plan_.net, pool_,
                                          fabric_.get());
    if (!w->init(err)) return false;
    out.push_back(std::move(w));
  }

  for (std::uint16_t port : plan_.ports) {
    std::uint16_t mtu = 1500;
    for (const auto& ic : plan_.net.interfaces)
      if (ic.port == port) mtu = std::max<std::uint16_t>(mtu, ic.mtu);
    if (!io::start_port(port, std::uint16_t(o.workers), mtu, pool_, kRxDesc, kTxDesc, err)) return false;
    started_.push_back(port);
    std::string why;
    const std::uint32_t rules = io::steer_by_udp_port(port, std::uint16_t(o.workers), plan_.listen_port, why);
    if (o.workers > 1) {
      steering_ += "dpdk" + std::to_string(port) + ": " +
                   (rules != 0 ? "rte_flow (" + std::to_string(rules) + " rules) + hand-off rings"
                               : "RSS + hand-off rings (rte_flow: " + why + ")") + "; ";
    }
  }
  return true;
}

std::pair<unsigned, unsigned> DpdkBackend::pool_usage() const {
  if (pool_ == nullptr) return {0, 0};
  return {pool_->size, rte_mempool_avail_count(pool_)};
}

std::vector<io::PortStats> DpdkBackend::port_stats() const {
  std::vector<io::PortStats> v;
  for (std::uint16_t p : started_) v.push_back(io::port_stats(p));
  return v;
}

std::string DpdkBackend::describe() const {
  std::string s = "dpdk: " + std::to_string(facts_.size()) + " port(s), SIP on " + plan_.source_interface;
  if (plan_.source4.family) s += " " + plan_.source4.to_string();
  if (plan_.source6.family) s += " " + plan_.source6.to_string();
  s += " port " + std::to_string(plan_.listen_port);
  if (pool_ != nullptr) {
    s += ", " + std::to_string(pool_->size) + " mbufs";
    // Many workers and ports: their TX, next-hop and hand-off queues could together hold more
    // frames than the pool's cap; say so, since frames would then wait for mbufs (rx_nombuf).
    if (pool_wanted_ > pool_->size) s += " (capped: the queues could hold " + std::to_string(pool_wanted_) + ")";
  }
  if (!steering_.empty()) s += "; " + steering_.substr(0, steering_.size() - 2);
  return s;
}

}  // namespace regfront::daemon
