// regfront/daemon/daemon.h — regfrontd's control plane: the loop that ties its parts together.
//
// The parts, each with one job:
//   - the configuration (config::Config), changed only by the loader and by CLI sessions;
//   - the snapshot builder and Publisher (regfront/snapshot/): configuration → worker snapshot,
//     published by RCU;
//   - the DnsRegistry: where each registrar is;
//   - the workers (regfront/worker/) and, with --io dpdk, the DpdkBackend that made them;
//   - the ControlServer: operator sessions on the control socket;
//   - the StatusGatherer: the rows behind every `show`, rendered by the CLI layer (regfront/cli/).
// The Daemon owns them, answers the sessions' commands (config::Interpreter with the daemon as
// its ExecHooks), learns the realms workers ask for, and rebuilds the snapshot when anything it
// is built from changes.
//
//   Daemon d(options);
//   if (Status s = d.load(); !s.ok()) fail(s);   // FILE:LINE: reason, per error
//   return d.run();                               // until SIGTERM/SIGINT; SIGHUP re-reads the file
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/cli/show.h"
#include "regfront/common/clock.h"
#include "regfront/common/status.h"
#include "regfront/config/commands.h"
#include "regfront/config/model.h"
#include "regfront/snapshot/builder.h"
#include "regfront/daemon/control_server.h"
#include "regfront/daemon/dns_registry.h"
#include "regfront/daemon/options.h"
#include "regfront/daemon/realm_learner.h"
#include "regfront/snapshot/publisher.h"
#include "regfront/worker/request_handoff.h"
#include "regfront/worker/worker.h"

namespace regfront::daemon {

class DpdkBackend;
class MetricsServer;

class Daemon : public config::ExecHooks, public ControlServer::Handler {
 public:
  explicit Daemon(Options o);
  ~Daemon() override;
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Loads the startup-config. A refusal's message lists every error as FILE:LINE: reason.
  Status load();
  void apply_shard_option(config::Config& cfg) const;
  // Starts everything, runs the control loop until SIGTERM/SIGINT, unregisters; returns the
  // process exit status.
  int run();

 private:
  // Start-up in order: signals, the DPDK backend (a bad interface configuration stops here),
  // the publisher, the first snapshot (it sizes the workers' tables), the workers, the control
  // socket.
  Status start();
  // The control loop: poll the resolver, the signal fd and the control socket; then addresses,
  // realm learning, leaving bindings, progress. Returns on SIGTERM/SIGINT.
  void serve();
  // Shutdown: every worker unregisters its bindings (paced) and stops.
  void stop_workers();

  // SIGHUP: re-reads the startup-config and applies it as a live change, or refuses it whole.
  void reload();
  // Logs a warning for each registrar whose bindings will not all unregister within
  // --shutdown-timeout at its registration rate: every time at start-up and on SIGHUP
  // (`always`), and after an operator's change only when a registrar's verdict changes (a
  // `registration rate` lowered, bindings added; and when it fits again).
  void check_shutdown_fit(bool always);
  // `since_us` (monotonic_us): when what asked for it began (a command, a reload); 0 = now.
  void rebuild_and_publish(std::uint64_t since_us = 0);
  // Once every worker runs on the last snapshot published: its adoption time, and one log line.
  void check_adoption();
  // --io dpdk: refreshes what /regfront/* in DPDK telemetry answers (regfront/daemon/telemetry.h).
  void update_telemetry(std::uint64_t now_ms);
  // --metrics: refreshes what /metrics answers (regfront/daemon/metrics.h).
  void update_metrics(std::uint64_t now_ms);
  // Frees the snapshots whose grace period is over and returns their pages.
  void reclaim();
  void learn_realms();
  // DNS failover: feeds each multi-target registrar's counters to the registry; true when a
  // registrar moved to another target (rebuild).
  bool watch_registrar_targets(std::uint64_t now_ms);
  // Publishes what each registrar's keepalive worker found (up/down); true when it changed.
  bool watch_keepalives();
  std::string local_ip_towards(const sockaddr_storage& dst, socklen_t len) const;

  // ControlServer::Handler
  protocol::Reply handle(config::Session& session, std::string_view verb, std::string_view line) override;
  void closed(const config::Session& session) override;
  // config::ExecHooks
  bool show(Show what, bool json, std::string& out) override;
  bool write_memory(const config::Config& cfg, std::string& message) override;
  bool clear(Clear what, std::string& message) override;
  bool info(Info what, const config::Session& self, bool json, std::string& out) override;
  bool reregister(int registrar, std::string_view number, std::string& message) override;
  bool show_register_status(int registrar, std::string_view number, bool json, std::string& out) override;

  Options opts_;
  config::Config cfg_;
  config::ConfigIndex cfg_index_;  // cleared whenever cfg_ is replaced
  std::unique_ptr<snapshot::Builder> builder_;
  std::unique_ptr<snapshot::Publisher> publisher_;
  std::unique_ptr<DnsRegistry> dns_;
  std::unique_ptr<DpdkBackend> dpdk_;
  std::unique_ptr<worker::RequestHandoff> handoff_;  // socket workers > 1: requests to their owner
  std::vector<std::unique_ptr<worker::Worker>> workers_;
  std::unique_ptr<ControlServer> server_;
  RealmLearner realm_learner_;          // realms only realm-less credentials answer, per registrar
  std::vector<std::string> sha_realms_;  // realms of the snapshot that challenged with SHA
  int signal_fd_ = -1;
  std::uint64_t reloads_ = 0;          // SIGHUP: startup-config applied
  std::uint64_t reloads_refused_ = 0;  // SIGHUP: refused, nothing changed
  bool shutdown_unfit_[reg::kRegistrarSlots] = {};  // check_shutdown_fit's last verdict per registrar
  cli::Statistics statistics_base_;  // the counters at the last `clear sip-ua statistics`
  cli::SnapshotReport publication_;  // the last snapshot published (show dataplane)
  std::uint64_t published_us_ = 0;   // when (monotonic_us); adoption is pending while adopted_ms < 0
  std::uint64_t started_ms_ = 0;     // monotonic, at construction (show version's uptime, metrics)
  std::uint64_t config_changes_ = 0;  // CLI changes and reloads applied
  std::unique_ptr<MetricsServer> metrics_;  // --metrics
  // The logging buffer follows cfg_.logging (start-up, CLI changes, SIGHUP).
  void apply_logging();
  // %SIP-4-REALM_REFUSED lines from the workers' no_credential counters, per registrar.
  void watch_refusals(std::uint64_t now);
  // debug ccsip: the workers' filter from the debugging sessions, their records drained and
  // written to the sessions whose own filter they match.
  void debug_trace();
  reg::TraceFilter trace_filter_;  // what the workers were last given
  std::string trace_text_;         // a record's text, reused
  static constexpr std::uint64_t kRefusalLogMs = 10000;
  struct RefusalLog {
    std::uint64_t refused = 0, other_realm = 0, logged_ms = 0;
  };
  RefusalLog refusal_log_[reg::kRegistrarSlots] = {};  // per registrar: the counts at the last refusal line
};

}  // namespace regfront::daemon
