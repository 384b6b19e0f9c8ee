// regfront/worker/dpdk_worker.h — a poll-mode worker on a DPDK lcore: its RX/TX queue on every
// port, its NetStack, its hand-off rings, and the busy-polling loop around the engine.
//
// Worker i runs on a worker lcore through rte_eal_remote_launch (EAL lcores rather than
// std::threads registered with rte_thread_register: the operator's -l/--lcores then places and
// pins the busy-polling cores the DPDK way, each worker gets its lcore's mempool cache, and
// rte_eal_wait_lcore joins). It owns RX queue i and TX queue i of every port, and UDP port
// listen-port + i. The EAL, the ports, the mbuf pool and the rings are set up by the control
// plane (control/daemon/dpdk_backend.h) before the workers start.
//
//   DpdkWorker w(opts, publisher.qsbr(), publisher.current_ptr(), lcore, io_opts, plan.net, pool, &fabric);
//   if (Status s = w.init(); !s.ok()) refuse(s);
//   w.start();  …  w.request_shutdown(); w.join();
#pragma once

#include <signal.h>

#include "regfront/common/status.h"
#include "regfront/io/dpdk_io.h"
#include "regfront/worker/worker.h"

struct rte_mempool;

namespace regfront::worker {

struct DpdkWorkerOptions {
  unsigned lcore = 0;            // the EAL lcore the loop runs on
  io::DpdkIoOptions io;          // queues, ports, listen port, source addresses; its
                                 // stage_timing switch also turns on LoopStats' stage split
  // The engine starts once every port's link is up and the registrars' next hops are resolved,
  // or after this long: a REGISTER sent earlier waits in the next hop's queue with everything
  // the token bucket starts meanwhile, and all of it reaches the registrar at once when the
  // ARP reply comes (memif's link takes ~40 ms: 1,400 REGISTERs in 20 ms at 20,000/s).
  std::uint64_t start_wait_ms = 3000;
};

// The signals poll-mode drivers raise per received frame: net_tap asks the kernel (F_SETSIG)
// for a real-time signal on every frame, other PMDs may use SIGIO. The daemon blocks these in
// every thread before EAL starts (its threads inherit the mask) and each DpdkWorker unblocks
// them on its lcore, so they land on a thread that is running anyway instead of waking the
// control loop once per frame. The drivers' handlers only bump a counter their rx_burst reads.
void device_signals(sigset_t& set);

class DpdkWorker : public Worker {
 public:
  DpdkWorker(const WorkerOptions& o, rte_rcu_qsbr* qs, const std::atomic<const reg::Snapshot*>& current,
             const DpdkWorkerOptions& d, const net::NetConfig& net, rte_mempool* pool, io::HandoffFabric* fabric);
  ~DpdkWorker() override;
  // Set-up, control thread: the NetStack's tables and the I/O scratch.
  Status init() { return io_.init(); }
  void start() override;
  void join() override;
  std::uint64_t io_errors() const override;
  bool hand_off_request(std::uint32_t to, std::string_view datagram, const sockaddr_storage& src) override {
    return io_.hand_off_request(to, datagram, src);
  }
  void io_counters(std::vector<std::pair<std::string, std::uint64_t>>& out) const override;

 private:
  static int launch(void* self);
  void run();
  struct Clock;
  // Before the loop: every link up and the registrars' next hops resolved (or start_wait_ms
  // passed, or shutdown asked for), the gratuitous ARP / unsolicited NA sent; meanwhile the
  // engine receives but starts nothing.
  void wait_for_network(const Clock& clock);

  io::DpdkIo io_;
  io::HandoffFabric* fabric_;
  DpdkWorkerOptions d_;
  bool launched_ = false;
};

}  // namespace regfront::worker
