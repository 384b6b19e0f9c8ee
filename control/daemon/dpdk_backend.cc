// regfrontd --io dpdk, control-thread side (see regfront/daemon/dpdk_backend.h).
#include "regfront/daemon/dpdk_backend.h"

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <unistd.h>

#include <algorithm>

#include "regfront/config/commands.h"
#include "regfront/snapshot/net_plan.h"
#include "regfront/worker/dpdk_worker.h"

namespace regfront::daemon {
namespace {
std::uint64_t tsc_now() { return rte_rdtsc(); }
}  // namespace

worker::WorkerOptions worker_options(const Options& o, std::uint32_t id, std::uint64_t seed, const SipKey& key) {
  worker::WorkerOptions w;
  w.id = id;
  w.shutdown_timeout_s = o.shutdown_timeout_s;
  w.socket_coalesce_us = o.socket_coalesce_us;
  w.engine.worker = id;
  w.engine.capacity = o.capacity;
  w.engine.key = key;
  w.engine.seed = seed;
  w.engine.via_port = static_cast<std::uint16_t>(o.listen_port + id);
  w.engine.preemptive_auth = o.preemptive_auth;
  w.relay.worker = id;
  w.relay.workers = o.workers;
  w.relay.max_calls = o.max_calls;
  w.relay.key = key;
  w.relay.seed = seed ^ 0x5245'4c41'5953'4545ull;  // not the engine's jitter sequence
  w.relay.via_port = static_cast<std::uint16_t>(o.listen_port + id);
  w.relay.listen_port = o.listen_port;
  return w;
}

StatusOr<std::unique_ptr<DpdkBackend>> DpdkBackend::create(Options& o, const config::Config& cfg) {
  std::unique_ptr<DpdkBackend> b(new DpdkBackend());
  if (Status s = io::eal_init(o.eal_args, o.workers); !s.ok()) return s;
  b->eal_ = true;
  b->facts_ = io::probe_ports();
  if (b->facts_.empty()) {
    return Status::not_found(
        "No DPDK ports: the EAL found no device (give a NIC, or --vdev net_tap0,iface=rftap0, in --eal)");
  }
  const std::vector<std::string> problems = config::validate_interfaces(cfg, int(b->facts_.size()));
  if (!problems.empty()) {
    std::string all;
    for (const auto& p : problems) all += (all.empty() ? "" : "\n") + p;
    return Status::failed_precondition(all);
  }
  StatusOr<io::DpdkPlan> plan = snapshot::plan_network(cfg, b->facts_, o.workers);
  if (!plan.ok()) return plan.status();
  b->plan_ = std::move(*plan);
  const unsigned worker_lcores = rte_lcore_count() - 1;
  if (worker_lcores < o.workers) {
    return Status::failed_precondition("--workers " + std::to_string(o.workers) +
                                       " needs as many worker lcores; the EAL has " + std::to_string(worker_lcores) +
                                       " (give -l/--lcores with the main lcore plus one per worker)");
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

Status DpdkBackend::make_workers(const Options& o, const snapshot::Publisher& publisher, std::uint64_t seed,
                                 const SipKey& key, std::uint32_t bindings_per_worker,
                                 std::vector<std::unique_ptr<worker::Worker>>& out) {
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
  StatusOr<rte_mempool*> pool = io::create_pool(io::pool_size(sz, &pool_wanted_));
  if (!pool.ok()) return pool.status();
  pool_ = *pool;
  fabric_ = std::make_unique<io::HandoffFabric>();
  if (Status s = fabric_->create(o.workers, kHandoffRing, std::to_string(::getpid() % 100000)); !s.ok()) return s;

  unsigned lcore = rte_get_next_lcore(-1, 1, 0);
  for (std::uint32_t i = 0; i < o.workers; ++i, lcore = rte_get_next_lcore(lcore, 1, 0)) {
    worker::DpdkWorkerOptions d;
    d.lcore = lcore;
    d.io.worker = std::uint16_t(i);
    d.io.listen_port = plan_.listen_port;
    d.io.ports = plan_.ports;
    d.io.source4 = plan_.source4;
    d.io.source6 = plan_.source6;
    d.io.stage_timing = o.stage_timing;
    worker::WorkerOptions wo = worker_options(o, i, seed + i, key);
    wo.engine.ticks = &tsc_now;  // the challenge-answer latency on the TSC the loop reads
    wo.engine.ticks_per_us = std::max<std::uint64_t>(1, rte_get_tsc_hz() / 1000000);
    auto w = std::make_unique<worker::DpdkWorker>(wo, publisher.qsbr(), publisher.current_ptr(), d, plan_.net, pool_,
                                                  fabric_.get());
    if (Status s = w->init(); !s.ok()) return s;
    out.push_back(std::move(w));
  }

  for (std::uint16_t port : plan_.ports) {
    std::uint16_t mtu = 1500;
    for (const auto& ic : plan_.net.interfaces)
      if (ic.port == port) mtu = std::max<std::uint16_t>(mtu, ic.mtu);
    if (Status s = io::start_port(port, std::uint16_t(o.workers), mtu, pool_, kRxDesc, kTxDesc); !s.ok()) return s;
    started_.push_back(port);
    std::string why;
    const std::uint32_t rules = io::steer_by_udp_port(port, std::uint16_t(o.workers), plan_.listen_port, why);
    if (o.workers > 1) {
      steering_ += "dpdk" + std::to_string(port) + ": " +
                   (rules != 0 ? "rte_flow (" + std::to_string(rules) + " rules) + hand-off rings"
                               : "RSS + hand-off rings (rte_flow: " + why + ")") + "; ";
    }
  }
  return {};
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
