// regfrontd --io dpdk: the EAL and its ports (DpdkBackend, control thread) and the poll-mode
// workers (DpdkWorker, one per worker lcore).
//
// Threads: the control plane runs on the main lcore (rte_eal_init's thread: configuration, DNS,
// the control socket, snapshot publishing). Worker i runs on the i-th worker lcore through
// rte_eal_remote_launch — EAL lcores rather than std::threads registered with
// rte_thread_register, because the operator's -l/--lcores then places and pins the busy-polling
// cores the DPDK way, each worker gets its lcore's mempool cache, and rte_eal_wait_lcore joins.
//
// Queues: worker i owns RX queue i and TX queue i of every port, and UDP port listen-port + i.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "daemon.h"
#include "regfront/io/dpdk_config.h"
#include "regfront/io/dpdk_io.h"
#include "regfront/io/dpdk_port.h"

namespace regfront::daemon {

class DpdkWorker : public WorkerBase {
 public:
  DpdkWorker(std::uint32_t id, const Options& o, rte_rcu_qsbr* qs, std::atomic<const reg::Snapshot*>& current,
             std::uint64_t seed, const SipKey& key, unsigned lcore, const io::DpdkIoOptions& io_opts,
             const net::NetConfig& net, rte_mempool* pool, io::HandoffFabric* fabric);
  bool init(std::string& err) { return io_.init(err); }
  void start() override;
  void join() override;
  std::uint64_t io_errors() const override;
  void io_counters(std::vector<std::pair<std::string, std::uint64_t>>& out) const override;

 private:
  static int launch(void* self);
  void run();

  io::DpdkIo io_;
  io::HandoffFabric* fabric_;
  unsigned lcore_;
  bool launched_ = false;
};

class DpdkBackend {
 public:
  // EAL from o.eal_args, the ports it found, the interface configuration checked against them
  // (config::validate_interfaces), the plan (NetConfig, source address, listen port). Sets
  // o.listen_port to `listen-port non-secure`. nullptr with an IOS-style message in `err`.
  static std::unique_ptr<DpdkBackend> create(Options& o, const config::Config& cfg, std::string& err);
  ~DpdkBackend();  // ports stopped and closed, pool freed, rte_eal_cleanup

  // The mbuf pool (sized for `bindings_per_worker`), the hand-off rings, o.workers DPDK workers
  // on the worker lcores, then the ports started (queue i = worker i) and steered.
  bool make_workers(const Options& o, rte_rcu_qsbr* qs, std::atomic<const reg::Snapshot*>& current,
                    std::uint64_t seed, const SipKey& key, std::uint32_t bindings_per_worker,
                    std::vector<std::unique_ptr<WorkerBase>>& out, std::string& err);

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

}  // namespace regfront::daemon
