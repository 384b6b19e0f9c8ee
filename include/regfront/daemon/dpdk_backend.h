// regfront/daemon/dpdk_backend.h — regfrontd --io dpdk, control-thread side: the EAL and its
// ports, the IOS interface configuration checked against them and turned into the network plan
// (regfront/snapshot/net_plan.h), the mbuf pool, the hand-off rings, and the DPDK workers
// (regfront/worker/dpdk_worker.h) on the worker lcores. The control plane runs on the main
// lcore (rte_eal_init's thread).
//
//   StatusOr<std::unique_ptr<DpdkBackend>> b = DpdkBackend::create(opts, cfg);   // EAL, plan
//   (*b)->make_workers(opts, publisher, seed, key, bindings, workers);          // pool, rings, ports
//   … workers run …
//   workers.clear(); b->reset();             // ports stopped, pool freed, EAL cleaned up
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "regfront/common/siphash.h"
#include "regfront/common/status.h"
#include "regfront/config/model.h"
#include "regfront/daemon/options.h"
#include "regfront/io/dpdk_io.h"
#include "regfront/io/dpdk_plan.h"
#include "regfront/io/dpdk_port.h"
#include "regfront/snapshot/publisher.h"
#include "regfront/worker/worker.h"

struct rte_mempool;

namespace regfront::daemon {

class DpdkBackend {
 public:
  // EAL from o.eal_args, the ports it found, the interface configuration checked against them
  // (config::validate_interfaces), the plan. Sets o.listen_port to `listen-port non-secure`.
  static StatusOr<std::unique_ptr<DpdkBackend>> create(Options& o, const config::Config& cfg);
  ~DpdkBackend();  // ports stopped and closed, pool freed, rte_eal_cleanup

  // The mbuf pool (sized for `bindings_per_worker`), the hand-off rings, o.workers DPDK workers
  // on the worker lcores, then the ports started (queue i = worker i) and steered.
  Status make_workers(const Options& o, const snapshot::Publisher& publisher, std::uint64_t seed, const SipKey& key,
                      std::uint32_t bindings_per_worker, std::vector<std::unique_ptr<worker::Worker>>& out);

  // The registrar's local_ip: the bound interface's address of the registrar's family.
  std::string local_ip(int family) const { return plan_.local_ip(family); }
  const io::DpdkPlan& plan() const { return plan_; }
  std::vector<io::PortStats> port_stats() const;
  // The mbuf pool: size and mbufs free (in the ring, not counting per-lcore caches as free),
  // so a leak shows as `available` falling over a long run.
  std::pair<unsigned, unsigned> pool_usage() const;
  std::string describe() const;  // one line for the start-up log

 private:
  DpdkBackend() = default;
  io::DpdkPlan plan_;
  std::vector<io::PortFacts> facts_;
  std::vector<std::uint16_t> started_;
  rte_mempool* pool_ = nullptr;
  std::uint64_t pool_wanted_ = 0;  // the unclamped pool size (see io::pool_size)
  std::unique_ptr<io::HandoffFabric> fabric_;
  std::string steering_;
  bool eal_ = false;
};

// The options every worker gets from the daemon's: worker `id`, its seed, the branch MAC key.
worker::WorkerOptions worker_options(const Options& o, std::uint32_t id, std::uint64_t seed, const SipKey& key);

}  // namespace regfront::daemon
