// regfrontd's control plane: owns the configuration, resolves registrars, builds and publishes
// snapshots (RCU, DPDK rte_rcu_qsbr), runs the worker threads and answers the control socket.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "regfront/config/commands.h"
#include "regfront/config/model.h"
#include "regfront/control/protocol.h"
#include "regfront/control/resolver.h"
#include "regfront/io/socket_io.h"
#include "regfront/reg/engine.h"
#include "regfront/snapshot/builder.h"

struct rte_rcu_qsbr;

namespace regfront::daemon {

struct Options {
  std::string config_path;
  std::string io = "socket";
  std::string listen_ip = "0.0.0.0";
  std::uint16_t listen_port = 5060;
  std::uint32_t workers = 1;
  std::string control_socket;          // default: default_control_socket()
  std::uint32_t shutdown_timeout_s = 10;
  std::uint32_t capacity = 0;          // binding slots per worker; 0 = from the startup-config
  std::string eal_args;                // --io dpdk: EAL arguments (--eal "…")
  bool preemptive_auth = true;         // refreshes answer the registrar's cached nonce
};

std::string default_control_socket();

// What every worker has, whatever its I/O: the engine and its TxQueue, snapshot pick-up, the
// status dump hand-over, the shutdown request. The socket Worker (worker.cc) and the DPDK
// DpdkWorker (dpdk_worker.cc) add their I/O and their loop.
class WorkerBase {
 public:
  WorkerBase(std::uint32_t id, const Options& o, rte_rcu_qsbr* qs, std::atomic<const reg::Snapshot*>& current,
             std::uint64_t seed, const SipKey& key, reg::TxQueue::FlushFn flush, void* flush_ctx);
  virtual ~WorkerBase() = default;
  virtual void start() = 0;
  virtual void join() = 0;
  // Datagrams lost below the engine (kernel or NIC refused them), for `show dataplane`.
  virtual std::uint64_t io_errors() const = 0;
  // Backend counters (name, value) for `show dataplane`; the socket backend has none.
  virtual void io_counters(std::vector<std::pair<std::string, std::uint64_t>>& out) const {}
  void request_shutdown() { shutdown_.store(true, std::memory_order_release); }
  bool exited() const { return exited_.load(std::memory_order_acquire); }

  // Status dump, run by the worker between bursts: the control thread waits for it.
  // `slots` is the size of this worker's plan in the current snapshot (sizes the buffer).
  bool dump(std::vector<reg::BindingStatus>& out, std::uint64_t& snapshot_version, std::size_t slots);
  const reg::WorkerCounters& counters() const { return engine_.counters(); }
  std::uint32_t id() const { return id_; }
  std::uint64_t adopted_version() const { return adopted_.load(std::memory_order_acquire); }
  bool pop_unknown_realm(std::string& realm) { return engine_.pop_unknown_realm(realm); }
  bool pop_sha_realm(std::string& realm) { return engine_.pop_sha_realm(realm); }
  // Bytes this worker's thread allocated on the heap since it adopted its first snapshot, as
  // jemalloc counts them (thread.allocatedp). The poll loop must never allocate: the e2e tests
  // assert this stays 0 through registration storms, refreshes and shutdown.
  std::uint64_t heap_allocated() const { return heap_allocated_.get(); }
  // False when jemalloc's per-thread counter is not available (then heap_allocated() says
  // nothing, and show dataplane reports null).
  bool heap_tracked() const { return heap_tracked_.load(std::memory_order_acquire); }

 protected:
  // Loop helpers, worker thread only. Top of the loop: adopt a newly published snapshot, begin
  // unregistering once shutdown was requested.
  void pick_up(std::uint64_t now_ms);
  // Bottom of the loop: true when shutdown is done or timed out (the loop ends).
  bool finished(std::uint64_t now_ms) const {
    return shutdown_deadline_ != 0 && (engine_.shutdown_done() || past_deadline(now_ms));
  }
  bool past_deadline(std::uint64_t now_ms) const { return shutdown_deadline_ != 0 && now_ms >= shutdown_deadline_; }
  void serve_dump(std::uint64_t now_ms);
  bool dump_pending() const { return dump_state_.load(std::memory_order_acquire) == 1; }
  // Bottom of the loop: the QSBR quiescent state, and the thread's heap use since it adopted
  // its first snapshot published as heap_allocated() (it must stay 0: see below).
  void quiescent();
  void online();   // QSBR registration at the start of run()
  void offline();  // final dump, QSBR unregistration, exited() at the end of run()

  std::uint32_t id_;
  rte_rcu_qsbr* qs_;
  std::atomic<const reg::Snapshot*>& current_;
  reg::TxQueue tx_;
  reg::Engine engine_;
  std::uint32_t shutdown_timeout_s_;

 private:
  std::atomic<bool> shutdown_{false};
  std::atomic<bool> exited_{false};
  std::atomic<std::uint64_t> adopted_{0};
  // The version, not the pointer: a snapshot freed while this worker was offline can have its
  // address reused by the next one (ABA), which would then never be adopted.
  std::uint64_t mine_ = 0;
  std::uint64_t shutdown_deadline_ = 0;
  const std::uint64_t* thread_allocated_ = nullptr;  // jemalloc's counter for this thread
  std::uint64_t heap_baseline_ = 0;
  bool heap_baseline_set_ = false;
  Counter heap_allocated_;
  std::atomic<bool> heap_tracked_{false};
  // Dump hand-over: control sets the buffer and raises `dump_state_` to 1; the worker fills it
  // in chunks and sets 2 (release) when done.
  std::atomic<int> dump_state_{0};
  std::vector<reg::BindingStatus>* dump_out_ = nullptr;
  std::uint32_t dump_next_ = 0;
  std::uint64_t dump_version_ = 0;
};

// One worker thread over the socket backend: its socket, its loop.
class Worker : public WorkerBase {
 public:
  Worker(std::uint32_t id, const Options& o, rte_rcu_qsbr* qs, std::atomic<const reg::Snapshot*>& current,
         std::uint64_t seed, const SipKey& key);
  bool open(const sockaddr_storage& local, socklen_t len, std::string& err) { return io_.open(local, len, err); }
  void start() override;
  void join() override;
  std::uint64_t io_errors() const override { return io_.tx_errors.get(); }
  const io::SocketIo& io() const { return io_; }

 private:
  void run();

  io::SocketIo io_;
  std::thread thread_;
};

class DpdkBackend;  // dpdk_worker.h: EAL, ports, DPDK workers (--io dpdk)

// One operator session on the control socket (see regfront/control/protocol.h).
struct ClientSession {
  int fd = -1;
  std::string in;
  std::string out;
  config::Session session{config::Mode::user_exec};
  bool closing = false;      // close once `out` is sent
  bool peer_closed = false;
  bool closed = false;
};

class Daemon : public config::ExecHooks {
 public:
  explicit Daemon(Options o);
  ~Daemon();
  // Loads the configuration (errors to stderr with line numbers); false on failure.
  bool load(std::string& err);
  // Runs until SIGTERM/SIGINT; returns the process exit status.
  int run();

 private:
  void resolve_all();
  std::string local_ip_towards(const sockaddr_storage& dst, socklen_t len) const;
  void rebuild_and_publish();
  void publish(std::unique_ptr<reg::Snapshot> s);
  void serve_client(ClientSession& c, short revents);
  void handle_request(ClientSession& c, const std::string& line);
  // config::ExecHooks
  bool show(Show what, bool json, std::string& out) override;
  bool write_memory(const config::Config& cfg, std::string& message) override;
  std::string show_register_status(bool json);
  std::string show_statistics(bool json);
  std::string show_registrars(bool json);
  std::string show_dataplane(bool json);
  void shutdown_workers();
  void learn_realms();

  Options opts_;
  config::Config cfg_;
  std::unique_ptr<snapshot::Builder> builder_;
  snapshot::RegistrarAddresses addrs_{};
  struct DnsState {
    config::RegistrarAddress address;  // what was configured when this state was made
    std::string host;
    std::uint16_t port = 0;
    std::uint64_t refresh_at_ms = 0;  // 0 = no refresh scheduled
    std::string last_error;
    bool in_progress = false;
  };
  DnsState dns_[reg::kRegistrarSlots];
  std::unique_ptr<control::Resolver> resolver_;
  rte_rcu_qsbr* qs_ = nullptr;
  std::atomic<const reg::Snapshot*> current_{nullptr};
  std::vector<std::unique_ptr<WorkerBase>> workers_;
  std::unique_ptr<DpdkBackend> dpdk_;  // --io dpdk only (dpdk_worker.cc)
  std::vector<std::string> learned_realms_;  // see learn_realms()
  std::vector<std::string> sha_realms_;      // realms that challenged with SHA, see learn_realms()
  std::vector<std::unique_ptr<ClientSession>> clients_;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
};

}  // namespace regfront::daemon
