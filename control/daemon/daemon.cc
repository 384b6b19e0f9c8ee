// regfrontd's control plane (see regfront/daemon/daemon.h).
#include "regfront/daemon/daemon.h"

#include <nlohmann/json.hpp>
#include <openssl/rand.h>
#include <pwd.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "regfront/cli/show.h"
#include "regfront/common/clock.h"
#include "regfront/config/persist.h"
#include "regfront/protocol/protocol.h"
#include "regfront/daemon/addresses.h"
#include "regfront/daemon/dpdk_backend.h"
#include "regfront/daemon/log.h"
#include "regfront/daemon/memory.h"
#include "regfront/daemon/metrics.h"
#include "regfront/daemon/session_info.h"
#include "regfront/daemon/status.h"
#include "regfront/daemon/telemetry.h"
#include "regfront/worker/dpdk_worker.h"
#include "regfront/worker/socket_worker.h"

namespace regfront::daemon {
namespace {

constexpr std::uint64_t kProgressEveryMs = 10000;

// A start-up refusal on standard error, each line in IOS's "% " form, then the log line.
void refuse(const Status& s, const char* what) {
  std::istringstream lines(s.message());
  for (std::string line; std::getline(lines, line);) std::fprintf(stderr, "%% %s\n", line.c_str());
  log("%s: start-up refused", what);
}

}  // namespace

Daemon::Daemon(Options o)
    : opts_(std::move(o)), realm_learner_(opts_.learned_realms), started_ms_(monotonic_ms()) {
  if (opts_.control_socket.empty()) opts_.control_socket = protocol::default_control_socket();
}

Daemon::~Daemon() {
  for (auto& w : workers_) w->request_shutdown();
  for (auto& w : workers_) w->join();
  // --io dpdk: the workers' stacks return their mbufs to the pool before the ports and the EAL
  // go away; no worker reads a snapshot any more when the publisher frees them.
  workers_.clear();
  metrics_.reset();
  set_monitor_sink({});  // it queues to server_'s sessions
  server_.reset();
  Telemetry::disable();  // before the EAL goes: its telemetry thread answers from nothing after this
  dpdk_.reset();
  if (publisher_) publisher_->drain();
  publisher_.reset();
  if (signal_fd_ >= 0) ::close(signal_fd_);
}

// --shard I/N replaces the startup-config's `shard` line, at start-up and on every re-read.
void Daemon::apply_shard_option(config::Config& cfg) const {
  if (opts_.shard_count == 0) return;
  cfg.sip_ua.shard_index = opts_.shard_index;
  cfg.sip_ua.shard_count = opts_.shard_count;
}

Status Daemon::load() {
  // A crash during an earlier `write memory` may have left PATH.tmp.PID files: not ours to keep.
  if (const std::size_t n = config::remove_stale_temporaries(opts_.config_path); n != 0) {
    log("removed %zu stale temporary file(s) of an interrupted write memory beside %s", n, opts_.config_path.c_str());
  }
  // The text is not kept: `show startup-config` reads the file (at 600k credential lines it
  // would be ~95 bytes per binding).
  StatusOr<std::string> text = config::read_startup_config(opts_.config_path);
  if (!text.ok()) return Status::not_found("cannot read " + text.status().message());
  config::Config cfg;
  const config::LoadResult r = config::load_startup_config(*text, cfg);
  apply_shard_option(cfg);
  if (!r.ok()) {
    std::string all;
    for (const auto& e : r.errors) all += e.format(opts_.config_path) + "\n";
    return Status::invalid_argument(all);
  }
  cfg_ = std::move(cfg);
  cfg_index_.clear();
  apply_logging();
  for (const auto& [index, r] : cfg_.sip_ua.registrars) {
    if (r.tcp || r.scheme == config::Scheme::sips) {
      log("registrar %d: tcp/sips transport is not carried yet; this registrar is not used", index);
    }
    if (r.address.kind == config::AddressKind::dhcp) log("registrar dhcp: DHCP-provided registrars are not supported; ignored");
  }
  if (cfg_.sip_ua.registrar_dhcp) log("registrar dhcp: DHCP-provided registrars are not supported; ignored");
  return {};
}

// ---- start-up ----

Status Daemon::start() {
  // Signals arrive through a signalfd in the control loop; workers never see them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  // --io dpdk: EAL, ports and the interface configuration first — a bad one stops start-up.
  if (opts_.io == "dpdk") {
    // Per-frame device signals reach the poll-mode workers only (worker::device_signals).
    sigset_t device;
    worker::device_signals(device);
    pthread_sigmask(SIG_BLOCK, &device, nullptr);
    StatusOr<std::unique_ptr<DpdkBackend>> b = DpdkBackend::create(opts_, cfg_);
    if (!b.ok()) {
      refuse(b.status(), "--io dpdk");
      return b.status();
    }
    dpdk_ = std::move(*b);
    if (!Telemetry::enable()) log("DPDK telemetry refused regfrontd's /regfront/* commands; the rest works without them");
  }

  publisher_ = std::make_unique<snapshot::Publisher>(opts_.workers);
  start_page_decay_thread();
  dns::ResolverOptions ropts;
  ropts.servers = opts_.dns_servers;
  StatusOr<std::unique_ptr<dns::Resolver>> resolver = dns::Resolver::create(ropts);
  if (!resolver.ok()) {
    log("%s", resolver.status().message().c_str());
    return resolver.status();
  }
  FailoverPolicy failover;
  failover.hold_down_ms = std::uint64_t{opts_.dns_hold_down_s} * 1000;
  dns_ = std::make_unique<DnsRegistry>(
      std::move(*resolver),
      [this](const sockaddr_storage& dst, socklen_t len) { return local_ip_towards(dst, len); }, failover);
  builder_ = std::make_unique<snapshot::Builder>(opts_.workers);

  // The first snapshot is built before the workers so that their tables can be sized from it:
  // the startup-config's bindings plus a quarter for live additions, at least 64k. Every slot
  // is resident from the start (80 bytes: binding and timer node), so the headroom is paid per
  // binding: twice the bindings would cost 160 B per binding, a quarter more costs 100. Beyond
  // it, additions are counted as plan_overflow and not started until a restart (with
  // --max-bindings for more).
  dns_->update(cfg_, monotonic_ms());
  const std::uint64_t first_start_us = monotonic_us();
  std::unique_ptr<reg::Snapshot> first =
      builder_->build(cfg_, dns_->addresses(), opts_.listen_port, realm_learner_.realms(), nullptr, 0, sha_realms_,
                      dns_->target_addresses());
  std::size_t largest = 0;
  for (const auto& p : first->plans) largest = std::max(largest, p.size());
  if (opts_.capacity == 0) {
    opts_.capacity = static_cast<std::uint32_t>(std::max<std::size_t>(65536, (largest + largest / 4 + 4095) / 4096 * 4096));
  }

  // Workers: worker i listens on the listen port + i (its Via port), so that responses come
  // back to the worker that owns the binding without any hand-off.
  std::uint64_t seed;
  SipKey key;
  RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
  RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof key);
  if (dpdk_) {
    if (Status s = dpdk_->make_workers(opts_, *publisher_, seed, key, std::uint32_t(largest), workers_); !s.ok()) {
      refuse(s, "--io dpdk");
      return s;
    }
    log("%s", dpdk_->describe().c_str());
  }
  // Calls reach worker 0's port and belong to the worker of their number: rings between them.
  if (!dpdk_ && opts_.workers > 1) handoff_ = std::make_unique<worker::RequestHandoff>(opts_.workers);
  for (std::uint32_t i = 0; i < opts_.workers && !dpdk_; ++i) {
    worker::WorkerOptions wo = worker_options(opts_, i, seed + i, key);
    wo.engine.ticks = &monotonic_ns;  // the challenge-answer latency in ns
    wo.engine.ticks_per_us = 1000;
    auto w = std::make_unique<worker::SocketWorker>(wo, publisher_->qsbr(), publisher_->current_ptr(), handoff_.get());
    sockaddr_storage local;
    socklen_t len;
    if (!literal_address(opts_.listen_ip, static_cast<std::uint16_t>(opts_.listen_port + i), local, len)) {
      log("--listen: %s is not an IP address", opts_.listen_ip.c_str());
      return Status::invalid_argument("--listen: not an IP address");
    }
    if (Status s = w->open(local, len); !s.ok()) {
      log("worker %u: %s:%u: %s", i, opts_.listen_ip.c_str(), opts_.listen_port + i, s.message().c_str());
      return s;
    }
    workers_.push_back(std::move(w));
  }

  server_ = std::make_unique<ControlServer>(
      *this, ControlServer::Limits{opts_.control_sessions, opts_.control_idle_timeout_s});
  if (Status s = server_->open(opts_.control_socket); !s.ok()) {
    log("%s", s.message().c_str());
    return s;
  }
  // terminal monitor: every event line, as the logging buffer has it, to the sessions that
  // asked, bounded as debug output is (ControlServer::monitor()).
  set_monitor_sink([this](int, std::string_view line) {
    if (!server_) return;
    std::string text(line);
    text += '\n';
    bool queued = false;
    for (std::size_t i = 0; i < server_->sessions(); ++i) {
      if (server_->session(i).monitor) queued = server_->monitor(i, text) || queued;
    }
    if (queued) log_buffer().count_monitor();
  });
  if (!opts_.metrics.empty()) {
    StatusOr<std::unique_ptr<MetricsServer>> m = MetricsServer::start(opts_.metrics);
    if (!m.ok()) {
      log("%s", m.status().message().c_str());
      return m.status();
    }
    metrics_ = std::move(*m);
    log("metrics: http://%s/metrics (port %d); live page at /%s", opts_.metrics.c_str(), metrics_->port(),
        metrics_->chart_library().empty() ? " without charts (Chart.js, Debian libjs-chart.js, not installed)" : "");
  }

  const std::uint64_t first_built_us = monotonic_us();
  publisher_->publish(std::move(first));
  published_us_ = monotonic_us();
  publication_ = {publisher_->current()->version, static_cast<double>(first_built_us - first_start_us) / 1000.0, -1};
  for (auto& w : workers_) w->start();
  const reg::Snapshot* snap = publisher_->current();
  std::size_t bindings = 0;
  for (const auto& p : snap->plans) bindings += p.size();
  std::string shard;
  if (cfg_.sip_ua.shard_count != 0) {
    shard = " (shard " + std::to_string(cfg_.sip_ua.shard_index) + " of " + std::to_string(cfg_.sip_ua.shard_count) +
            ")";
  }
  event(kNotifications, "SYS", "RESTART",
        "System restarted -- %zu endpoints%s, %zu bindings, %u worker(s) of %u binding slots, "
        "listening on %s:%u, control socket %s",
        snap->endpoints.size(), shard.c_str(), bindings, opts_.workers, opts_.capacity, opts_.listen_ip.c_str(),
        opts_.listen_port, opts_.control_socket.c_str());
  check_shutdown_fit(true);
  return {};
}

void Daemon::check_shutdown_fit(bool always) {
  // SIGTERM unregisters every binding within its registrar's budget: one REGISTER each while
  // the registrar accepts its cached nonce, two when it challenges them. Each worker sends its
  // share of the rate, so the worker with the most bindings of a registrar sets the time.
  const reg::Snapshot* snap = publisher_->current();
  for (int ri = 0; ri < reg::kRegistrarSlots; ++ri) {
    const reg::SnapRegistrar& r = snap->registrars[ri];
    if (!r.present || r.rate_per_worker <= 0) {
      shutdown_unfit_[ri] = false;
      continue;
    }
    std::size_t total = 0, most = 0;
    for (const auto& plan : snap->plans) {
      std::size_t n = 0;
      for (const reg::PlanEntry& pe : plan) {
        if (pe.endpoint != reg::kNoEntry && !pe.leaving && pe.registrar == ri) ++n;
      }
      total += n;
      most = std::max(most, n);
    }
    const double seconds = static_cast<double>(most) / r.rate_per_worker;
    if (seconds <= opts_.shutdown_timeout_s) {
      if (shutdown_unfit_[ri] && !always) {
        log("registrar %u: shutdown fits --shutdown-timeout %u s again: %zu bindings unregister in %.1f s",
            static_cast<unsigned>(r.index), opts_.shutdown_timeout_s, total, seconds);
      }
      shutdown_unfit_[ri] = false;
      continue;
    }
    if (shutdown_unfit_[ri] && !always) continue;  // said already
    shutdown_unfit_[ri] = true;
    log("warning: registrar %u: shutdown will not fit --shutdown-timeout %u s: its %zu bindings take %.1f s to "
        "unregister at registration rate %.0f/s (%.1f s if it challenges them); those left then expire at the "
        "registrar",
        static_cast<unsigned>(r.index), opts_.shutdown_timeout_s, total, seconds, r.rate_per_worker * std::max(1u, opts_.workers),
        2 * seconds);
  }
}

int Daemon::run() {
  if (!start().ok()) return 1;
  serve();
  stop_workers();
  return 0;
}

// ---- the control loop ----

void Daemon::serve() {
  std::uint64_t last_progress = 0, last_telemetry = 0, last_metrics = 0;
  std::vector<pollfd> fds;
  for (;;) {
    fds = dns_->pollfds();
    const std::size_t base = fds.size();
    fds.push_back(pollfd{signal_fd_, POLLIN, 0});
    server_->add_pollfds(fds);
    // While the workers have not all taken the last snapshot, look again within a millisecond
    // (its adoption time is reported).
    ::poll(fds.data(), fds.size(), dns_->timeout_ms(publication_.adopted_ms < 0 && publication_.version != 0 ? 1 : 100));
    dns_->process(std::vector<pollfd>(fds.begin(), fds.begin() + static_cast<std::ptrdiff_t>(base)));
    if (fds[base].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(signal_fd_, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGHUP) {
          reload();
        } else if (si.ssi_signo != SIGPIPE) {
          log("signal %u: unregistering and stopping", si.ssi_signo);
          return;
        }
      }
    }
    server_->serve(&fds[base + 1]);
    const std::uint64_t now = monotonic_ms();
    if (dns_->update(cfg_, now) | dns_->take_changed() | watch_registrar_targets(now) | watch_keepalives()) {
      rebuild_and_publish();
    }
    learn_realms();
    watch_refusals(now);
    debug_trace();
    // Leaving bindings whose unregistration time is up: release their slots.
    if (const std::uint64_t due = builder_->next_expiry_ms(); due != 0 && due <= now) rebuild_and_publish();
    reclaim();
    check_adoption();
    if (dpdk_ != nullptr && now - last_telemetry >= 1000) {
      last_telemetry = now;
      update_telemetry(now);
    }
    if (metrics_ != nullptr && now - last_metrics >= 1000) {
      last_metrics = now;
      update_metrics(now);
    }
    if (now - last_progress >= kProgressEveryMs) {
      last_progress = now;
      std::uint64_t accepted = 0, challenged = 0, timed_out = 0;
      for (const auto& w : workers_) {
        for (const auto& r : w->counters().registrar) {
          accepted += r.accepted.get();
          challenged += r.challenged.get();
          timed_out += r.timed_out.get();
        }
      }
      log("progress: %llu accepted, %llu challenged, %llu timed out", static_cast<unsigned long long>(accepted),
          static_cast<unsigned long long>(challenged), static_cast<unsigned long long>(timed_out));
    }
  }
}

bool Daemon::watch_registrar_targets(std::uint64_t now) {
  // What each registrar's target in use answered, from the workers' counters (see
  // regfront/daemon/target_failover.h): 2xx against timeouts, ICMP-failed transactions, 503s;
  // OPTIONS keepalives answered against those unanswered.
  bool moved = false;
  for (int slot = 0; slot < reg::kRegistrarSlots; ++slot) {
    if (dns_->entry(slot).targets.size() < 2) continue;
    std::uint64_t accepted = 0, failures = 0;
    for (const auto& w : workers_) {
      const reg::RegistrarCounters& c = w->counters().registrar[slot];
      accepted += c.accepted.get();
      failures += c.timed_out.get() + c.unreachable.get() + c.by_code[503 - 300].get();
      // The OPTIONS keepalive speaks for the target too: while it has the registrar down no
      // REGISTER goes there, so only its misses can move the registrar to another target.
      accepted += c.options_answered.get();
      failures += c.options_timed_out.get() + c.options_failed.get();
    }
    moved |= dns_->watch(slot, accepted, failures, now);
  }
  return moved;
}

bool Daemon::watch_keepalives() {
  // Each registrar's OPTIONS keepalive runs on one worker; what it found is published to all of
  // them (SnapRegistrar::keepalive_down), so that none sends the registrar REGISTERs while it is
  // down and all restart their held bindings through its pacer when it is up again.
  const reg::Snapshot* snap = publisher_->current();
  if (snap == nullptr) return false;
  bool changed = false;
  for (int slot = 0; slot < reg::kRegistrarSlots; ++slot) {
    const reg::SnapRegistrar& r = snap->registrars[slot];
    bool down = false;
    std::uint64_t code = 0;
    if (r.present && r.keepalive_up_ms != 0 && r.keepalive_worker < workers_.size()) {
      const reg::RegistrarCounters& c = workers_[r.keepalive_worker]->counters().registrar[slot];
      down = c.keepalive_state.get() == static_cast<std::uint64_t>(reg::KeepaliveState::down);
      code = c.keepalive_last_code.get();
    }
    if (!builder_->set_keepalive_down(slot, down)) continue;
    changed = true;
    if (r.keepalive_up_ms == 0) continue;  // the profile was removed: nothing to say
    if (down) {
      event(kNotifications, "SIP", "REGISTRAR_STATUS",
            "Registrar %d Status is changed to DOWN (OPTIONS keepalive, last %llu): REGISTERs held", slot + 1,
            static_cast<unsigned long long>(code));
    } else {
      event(kNotifications, "SIP", "REGISTRAR_STATUS",
            "Registrar %d Status is changed to UP (OPTIONS keepalive answered %llu): held bindings "
            "restart at the registration rate",
            slot + 1, static_cast<unsigned long long>(code));
    }
  }
  return changed;
}

void Daemon::apply_logging() {
  log_buffer().configure(cfg_.logging.buffered, cfg_.logging.buffered_bytes, cfg_.logging.buffered_level);
}

void Daemon::watch_refusals(std::uint64_t now) {
  // A registrar challenging with a realm no configured credential may answer (F4.5, F7): the
  // workers count it (no_credential, realm_refused); the log says so per registrar at most once
  // per kRefusalLogMs, with how many since the last line.
  for (int slot = 0; slot < reg::kRegistrarSlots; ++slot) {
    std::uint64_t refused = 0, other_realm = 0;
    for (const auto& w : workers_) {
      refused += w->counters().registrar[slot].no_credential.get();
      other_realm += w->counters().registrar[slot].realm_refused.get();
    }
    RefusalLog& l = refusal_log_[slot];
    if (refused <= l.refused || (l.logged_ms != 0 && now - l.logged_ms < kRefusalLogMs)) continue;
    event(kWarnings, "SIP", "REALM_REFUSED",
          "Registrar %d: %llu challenge(s) no configured credential may answer (%llu for a realm "
          "other than its auth-realm); see show sip-ua register status",
          slot + 1, static_cast<unsigned long long>(refused - l.refused),
          static_cast<unsigned long long>(other_realm - l.other_realm));
    l = RefusalLog{refused, other_realm, now};
  }
}

namespace {

// The workers' filter: the union of the sessions' (every number once one session traces every
// number, or more numbers are asked for than the workers take; a registrar only when all agree).
reg::TraceFilter union_filter(const ControlServer& server) {
  reg::TraceFilter f;
  f.every_number = false;
  int registrar = -1;
  for (std::size_t i = 0; i < server.sessions(); ++i) {
    const config::Session::Debug& d = server.session(i).debug;
    if (!d.on()) continue;
    f.kinds |= (d.messages ? reg::kTraceMessages : 0) | (d.events ? reg::kTraceEvents : 0);
    registrar = registrar == -1 || registrar == d.registrar ? d.registrar : 0;
    if (d.numbers.empty()) f.every_number = true;
    for (const std::string& n : d.numbers) {
      if (!f.add_number(n)) f.every_number = true;
    }
  }
  f.registrar = static_cast<std::uint8_t>(std::max(registrar, 0));
  if (f.every_number) f.count = 0;
  if (f.kinds == 0) f = reg::TraceFilter{};
  return f;
}

bool session_wants(const config::Session::Debug& d, const reg::TraceRecord& r) {
  if (!(r.kind == reg::kTraceMessages ? d.messages : d.events)) return false;
  if (d.registrar != 0 && d.registrar != r.registrar + 1) return false;
  return d.numbers.empty() ||
         std::find(d.numbers.begin(), d.numbers.end(), std::string_view(r.number)) != d.numbers.end();
}

}  // namespace

void Daemon::debug_trace() {
  const reg::TraceFilter f = union_filter(*server_);
  if (std::memcmp(&f, &trace_filter_, sizeof f) != 0) {
    trace_filter_ = f;
    for (auto& w : workers_) w->tracer().set_filter(f);
  }
  // The records' times are the workers' clock (monotonic): shown as the wall clock, IOS-stamped.
  timespec real;
  clock_gettime(CLOCK_REALTIME, &real);
  const std::int64_t offset_ms = static_cast<std::int64_t>(real.tv_sec) * 1000 + real.tv_nsec / 1000000 -
                                 static_cast<std::int64_t>(monotonic_ms());
  reg::TraceRecord r;
  std::uint64_t lost = 0;
  for (auto& w : workers_) {
    lost += w->tracer().take_lost();
    while (w->tracer().pop(r, trace_text_)) {
      if (f.kinds == 0) continue;  // traced before the last session stopped: nobody asks any more
      const std::int64_t ms = static_cast<std::int64_t>(r.time_ms) + offset_ms;
      const time_t sec = static_cast<time_t>(ms / 1000);
      tm t;
      gmtime_r(&sec, &t);
      char stamp[48];
      const std::size_t n = std::strftime(stamp, sizeof stamp, "*%b %e %H:%M:%S", &t);
      std::snprintf(stamp + n, sizeof stamp - n, ".%03d: ", static_cast<int>(ms % 1000));
      std::string text = stamp;
      text += "//";
      text += r.number;
      text += "/registrar " + std::to_string(r.registrar + 1);
      if (r.kind == reg::kTraceEvents) {
        text += "/SIP/Event/sipBindingState: " + trace_text_ + "\n";
      } else {
        text += "/SIP/Msg/ccsipDisplayMsg:\n";
        text += r.direction == reg::kTraceSent ? "Sent:\n" : "Received:\n";
        for (const char c : trace_text_) {
          if (c != '\r') text += c;
        }
        if (!text.ends_with('\n')) text += '\n';
      }
      for (std::size_t i = 0; i < server_->sessions(); ++i) {
        if (session_wants(server_->session(i).debug, r)) server_->monitor(i, text);
      }
    }
  }
  if (lost == 0 || f.kinds == 0) return;
  const std::string note = "%" + std::to_string(lost) +
                           " debug messages lost (a worker's trace ring was full or over its rate of " +
                           std::to_string(static_cast<int>(reg::Tracer::kRecordsPerSecond)) + " records/s)\n";
  for (std::size_t i = 0; i < server_->sessions(); ++i) {
    if (server_->session(i).debug.on()) server_->monitor(i, note);
  }
}

void Daemon::reload() {
  // SIGHUP (systemd's reload): the startup-config file replaces the running configuration as
  // one live change, the path a CLI change takes: the builder keeps every binding the new
  // configuration still has (nothing sent for them) and unregisters only those it no longer
  // has. A file that does not load changes nothing at all.
  const std::uint64_t received_us = monotonic_us();
  const std::string& path = opts_.config_path;
  StatusOr<std::string> text = config::read_startup_config(path);
  if (!text.ok()) {
    ++reloads_refused_;
    event(kErrors, "PARSER", "BADCFG", "SIGHUP: cannot read %s; nothing changed",
          text.status().message().c_str());
    return;
  }
  config::Config cfg;
  const config::LoadResult r = config::load_startup_config(*text, cfg);
  apply_shard_option(cfg);
  if (!r.ok()) {
    ++reloads_refused_;
    for (const auto& e : r.errors) {
      std::istringstream lines(e.format(path));
      for (std::string line; std::getline(lines, line);) log("SIGHUP: %s", line.c_str());
    }
    event(kErrors, "PARSER", "BADCFG", "SIGHUP: %s refused (%zu error(s)); nothing changed", path.c_str(),
          r.errors.size());
    return;
  }
  ++reloads_;
  if (cfg == cfg_) {
    event(kNotifications, "SYS", "CONFIG_I", "Configured from memory by SIGHUP: %s re-read, no change",
          path.c_str());
    return;
  }
  cfg_ = std::move(cfg);
  cfg_index_.clear();
  ++config_changes_;
  apply_logging();
  rebuild_and_publish(received_us);
  std::size_t bindings = 0;
  for (const auto& p : publisher_->current()->plans) bindings += p.size();
  event(kNotifications, "SYS", "CONFIG_I",
        "Configured from memory by SIGHUP: %s applied: %zu endpoints, %zu bindings", path.c_str(),
        publisher_->current()->endpoints.size(), bindings);
  check_shutdown_fit(true);
}

void Daemon::stop_workers() {
  for (auto& w : workers_) w->request_shutdown();
  for (auto& w : workers_) w->join();
  std::uint64_t unregistered = 0;
  for (const auto& w : workers_) {
    for (const auto& r : w->counters().registrar) unregistered += r.unregistered.get();
  }
  log("stopped: %llu bindings unregistered", static_cast<unsigned long long>(unregistered));
}

void Daemon::rebuild_and_publish(std::uint64_t since_us) {
  const std::uint64_t start = since_us != 0 ? since_us : monotonic_us();
  publisher_->publish(builder_->build(cfg_, dns_->addresses(), opts_.listen_port, realm_learner_.realms(),
                                      publisher_->current(), monotonic_ms(), sha_realms_, dns_->target_addresses()));
  published_us_ = monotonic_us();
  publication_.version = publisher_->current()->version;
  publication_.build_ms = static_cast<double>(published_us_ - std::min(start, published_us_)) / 1000.0;
  publication_.adopted_ms = -1;
  reclaim();
  check_adoption();
}

void Daemon::update_telemetry(std::uint64_t now) {
  // The copy DPDK's telemetry thread answers from: counters the workers keep anyway (relaxed
  // loads), the snapshot's sizes and the registrars' addresses, read here on the control thread.
  const StatusGatherer status({workers_, *publisher_, cfg_, *dns_, dpdk_.get(), opts_.max_calls});
  Telemetry::View v;
  std::uint64_t bindings = 0;
  for (const cli::DataplaneRow& r : status.dataplane()) {
    Telemetry::Dict w;
    w.numbers = {{"worker", r.worker}, {"bindings", r.bindings}, {"rx", r.rx}, {"tx", r.tx}, {"dropped", r.dropped}};
    if (r.heap_tracked) w.numbers.emplace_back("heap_allocated", r.heap_allocated);
    for (const auto& [name, value] : r.io) w.numbers.emplace_back(name, value);
    bindings += r.bindings;
    v.workers.push_back(std::move(w));
  }
  v.info.strings = {{"version", REGFRONT_VERSION}, {"io", "dpdk"}};
  v.info.numbers = {{"workers", workers_.size()}, {"bindings", bindings}, {"snapshot_version", publication_.version},
                    {"uptime_s", (now - started_ms_) / 1000}};
  const cli::Statistics stats = status.statistics();
  for (const cli::RegistrarStatistics& r : stats.registrars) {
    Telemetry::Dict d;
    if (const auto it = cfg_.sip_ua.registrars.find(r.index); it != cfg_.sip_ua.registrars.end()) {
      const config::RegistrarAddress& a = it->second.address;
      d.strings.emplace_back("address", a.host + (a.port != 0 ? ":" + std::to_string(a.port) : ""));
    }
    d.numbers.emplace_back("index", static_cast<std::uint64_t>(r.index));
    for (const auto& [name, value] : r.counters) d.numbers.emplace_back(name, value);
    for (const auto& [code, count] : r.responses) d.numbers.emplace_back("code_" + std::to_string(code), count);
    v.registrars.emplace_back(r.index, std::move(d));
  }
  Telemetry::update(std::move(v));
}

namespace {

// The help of a worker, registrar or call counter, by name (the X-lists' text).
std::string counter_help(std::string_view name) {
  for (std::size_t i = 0; i < reg::kRegistrarCounterCount; ++i) {
    if (name == reg::kRegistrarCounterInfo[i].name) return reg::kRegistrarCounterInfo[i].help;
  }
  for (std::size_t i = 0; i < reg::kWorkerCounterCount; ++i) {
    if (name == reg::kWorkerCounterInfo[i].name) return reg::kWorkerCounterInfo[i].help;
  }
  for (std::size_t i = 0; i < call::kCallCounterCount; ++i) {
    if (name == call::kCallCounterInfo[i].name) return call::kCallCounterInfo[i].help;
  }
  return std::string(name);
}

}  // namespace

void Daemon::update_metrics(std::uint64_t now) {
  // What the next scrapes return (regfront/daemon/metrics.h, docs/metrics.md): the counters the
  // workers keep anyway and the control plane's own figures. No label carries a number, user or
  // realm: registrar index, worker id, port, response code and dial-peer tag only.
  const StatusGatherer status({workers_, *publisher_, cfg_, *dns_, dpdk_.get(), opts_.max_calls});
  MetricsServer::Families f;
  f.gauge("regfront_build_info", "regfrontd's version (the value is always 1)", {{"version", REGFRONT_VERSION}},
          1);
  f.gauge("regfront_uptime_seconds", "Seconds since regfrontd started", {}, double(now - started_ms_) / 1000.0);
  f.gauge("regfront_workers", "Worker threads", {}, double(workers_.size()));
  f.counter("regfront_config_changes_total", "Configuration changes applied (CLI commands and SIGHUP reloads)", {},
            double(config_changes_));
  f.gauge("regfront_snapshot_version", "Version of the last snapshot published to the workers", {},
          double(publication_.version));
  f.gauge("regfront_snapshot_build_seconds",
          "From the command, reload or event to the publication of the last snapshot", {}, publication_.build_ms / 1000.0);
  if (publication_.adopted_ms >= 0) {
    f.gauge("regfront_snapshot_adopted_seconds", "From the last snapshot's publication until every worker ran it", {},
            publication_.adopted_ms / 1000.0);
  }
  const cli::Statistics st = status.statistics();
  for (const cli::RegistrarStatistics& r : st.registrars) {
    const std::string index = std::to_string(r.index);
    if (const auto it = cfg_.sip_ua.registrars.find(r.index); it != cfg_.sip_ua.registrars.end()) {
      f.gauge("regfront_registrar_rate", "Configured registration rate: REGISTERs each registrar is sent per second",
              {{"registrar", index}}, double(cfg_.sip_ua.registration_rate));
      f.gauge("regfront_registrar_expires_seconds", "Configured expires of each registrar", {{"registrar", index}},
              double(it->second.expires));
    }
    for (const auto& [name, v] : r.counters) {
      f.counter("regfront_registrar_" + name + "_total", counter_help(name), {{"registrar", index}}, double(v));
    }
    for (const auto& [code, v] : r.responses) {
      f.counter("regfront_registrar_responses_total", "Final responses (3xx-6xx) to REGISTER, by code",
                {{"registrar", index}, {"code", std::to_string(code)}}, double(v));
    }
  }
  // Latency histograms per registrar: each worker's buckets (reg::Histogram, written by the
  // worker alone), summed; bounds and sums converted to seconds.
  const auto histogram = [&](const std::string& name, const char* help, const std::string& index, auto member,
                             const auto& bounds, double unit_s) {
    std::vector<double> le;
    for (const std::uint64_t b : bounds) le.push_back(double(b) * unit_s);
    std::vector<std::uint64_t> buckets(std::size(bounds) + 1, 0);
    double sum = 0;
    for (const auto& w : workers_) {
      const auto& h = w->counters().registrar[std::stoi(index) - 1].*member;
      for (std::size_t i = 0; i < buckets.size(); ++i) buckets[i] += h.bucket[i].get();
      sum += double(h.sum.get()) * unit_s;
    }
    f.histogram(name, help, {{"registrar", index}}, le, buckets, sum);
  };
  for (const cli::RegistrarStatistics& r : st.registrars) {
    if (r.index < 1 || r.index > reg::kRegistrarSlots) continue;
    const std::string index = std::to_string(r.index);
    histogram("regfront_register_duration_seconds",
              "Time to register: the first REGISTER of the attempt that registered a binding (not registered "
              "when it went) to its 2xx, challenge rounds and retransmissions included",
              index, &reg::RegistrarCounters::register_duration, reg::kRegisterDurationMs, 1e-3);
    histogram("regfront_challenge_answer_seconds",
              "A 401/407 received to its answer queued for sending (the worker's TSC on DPDK, CLOCK_MONOTONIC on "
              "sockets); answers that waited for a token of the registration rate are not observed",
              index, &reg::RegistrarCounters::challenge_answer, reg::kChallengeAnswerNs, 1e-9);
    histogram("regfront_refresh_lateness_seconds",
              "A refresh's REGISTER sent after its planned refresh point (pacing, a registrar held down)", index,
              &reg::RegistrarCounters::refresh_lateness, reg::kRefreshLatenessMs, 1e-3);
  }
  // Bindings by state per registrar: the counts each worker's engine keeps on every transition
  // (reg::BindingCounts), summed; no dump of the rows. Leaving bindings of a removed or
  // re-addressed registrar (ghost slots) are left out, as show sip-ua register registrars does.
  if (const reg::Snapshot* snap = publisher_->current()) {
    for (int slot = 0; slot < reg::kRegistrarSlots; ++slot) {
      if (!snap->registrars[slot].present) continue;
      std::uint64_t by_state[reg::kBindingStates] = {}, live = 0;
      for (const auto& w : workers_) {
        const reg::BindingCounts& c = w->counters().bindings[slot];
        // Queued bindings show as their registrar's queue waits: queued, waiting-dns or held.
        const std::size_t queued = static_cast<std::size_t>(reg::BindingState::queued);
        for (std::size_t s = 0; s < reg::kBindingStates; ++s) {
          by_state[s == queued ? c.queued_as.get() % reg::kBindingStates : s] += c.state[s].get();
        }
        live += c.live.get();
      }
      const std::string index = std::to_string(snap->registrars[slot].index);
      for (std::size_t s = 0; s < reg::kBindingStates; ++s) {
        if (s == static_cast<std::size_t>(reg::BindingState::idle)) continue;
        f.gauge("regfront_registrar_bindings",
                "Bindings of each registrar by state, as show sip-ua register status names them",
                {{"registrar", index}, {"state", std::string(reg::state_name(static_cast<reg::BindingState>(s)))}},
                double(by_state[s]));
      }
      f.gauge("regfront_registrar_bindings_registered",
              "Bindings of each registrar whose registration runs now (registered, or starred: refreshing "
              "before it expires), as the Registered column of show sip-ua register registrars",
              {{"registrar", index}}, double(live));
    }
  }
  for (const auto& [name, v] : st.calls) {
    const std::string_view base = std::string_view(name).starts_with("calls_") ? std::string_view(name).substr(6) : name;
    f.counter("regfront_calls_" + std::string(base) + "_total", counter_help(name), {}, double(v));
  }
  for (const cli::DialPeerStatistics& p : st.dial_peers) {
    const MetricsServer::Labels l{{"dial_peer", std::to_string(p.tag)}};
    f.counter("regfront_dial_peer_calls_attempted_total", "Calls tried through each dial peer (0: beyond the table)", l,
              double(p.attempts));
    f.counter("regfront_dial_peer_calls_answered_total", "Calls answered through each dial peer", l, double(p.answered));
    f.counter("regfront_dial_peer_calls_failed_total", "Calls failed through each dial peer", l, double(p.failed));
  }
  for (const auto& w : workers_) {
    const MetricsServer::Labels l{{"worker", std::to_string(w->id())}};
    for (std::size_t i = 0; i < reg::kWorkerCounterCount; ++i) {
      f.counter(std::string("regfront_worker_") + reg::kWorkerCounterInfo[i].name + "_total",
                reg::kWorkerCounterInfo[i].help, l, double(reg::worker_counter(w->counters(), i)));
    }
  }
  for (const cli::DataplaneRow& r : status.dataplane()) {
    const MetricsServer::Labels l{{"worker", std::to_string(r.worker)}};
    f.gauge("regfront_worker_bindings", "Bindings each worker owns", l, double(r.bindings));
    if (r.heap_tracked) {
      f.gauge("regfront_worker_heap_allocated_bytes", "Bytes the worker's loop allocated on the heap (must stay 0)", l,
              double(r.heap_allocated));
    }
    double hz = 0;
    for (const auto& [name, v] : r.io) {
      if (name == "tsc_hz") hz = double(v);
    }
    for (const auto& [name, v] : r.io) {
      if (name == "tsc_hz") continue;
      if (name.size() > 4 && name.ends_with("_tsc")) {
        if (hz <= 0) continue;
        const std::string base = name.substr(0, name.size() - 4);
        if (base == "busy") {
          f.counter("regfront_worker_busy_seconds_total",
                    "Poll-mode worker: time in loop iterations that received, built or sent something", l, double(v) / hz);
        } else if (base.starts_with("stage_")) {
          MetricsServer::Labels sl = l;
          sl.emplace_back("stage", base.substr(6));
          f.counter("regfront_worker_stage_seconds_total", "Poll-mode worker busy time by stage (--stage-timing)", sl,
                    double(v) / hz);
        }
        continue;
      }
      f.counter("regfront_worker_io_" + name + "_total", "Worker I/O and network-stack counter " + name, l, double(v));
    }
  }
  for (const cli::PortRow& p : status.ports()) {
    const MetricsServer::Labels l{{"port", "dpdk" + std::to_string(p.port)}};
    f.gauge("regfront_port_link_up", "DPDK port link state (1 up)", l, p.link_up ? 1 : 0);
    f.counter("regfront_port_rx_packets_total", "DPDK port: packets received (ipackets)", l, double(p.ipackets));
    f.counter("regfront_port_tx_packets_total", "DPDK port: packets sent (opackets)", l, double(p.opackets));
    f.counter("regfront_port_rx_errors_total", "DPDK port: receive errors (ierrors)", l, double(p.ierrors));
    f.counter("regfront_port_rx_missed_total", "DPDK port: packets dropped by the NIC, RX queue full (imissed)", l,
              double(p.imissed));
    f.counter("regfront_port_tx_errors_total", "DPDK port: send errors (oerrors)", l, double(p.oerrors));
    f.counter("regfront_port_rx_nombuf_total", "DPDK port: receive failures for want of an mbuf (rx_nombuf)", l,
              double(p.rx_nombuf));
  }
  if (const cli::PoolRow pool = status.pool(); pool.size != 0) {
    f.gauge("regfront_mbuf_pool_size", "DPDK mbuf pool: mbufs", {}, double(pool.size));
    f.gauge("regfront_mbuf_pool_available", "DPDK mbuf pool: mbufs free in its ring", {}, double(pool.available));
  }
  metrics_->publish(std::move(f));

  // The live page's series (/series.json): counters are plotted as rates by the page.
  std::vector<MetricsServer::Point> pts;
  for (const cli::RegistrarStatistics& r : st.registrars) {
    const std::string i = " r" + std::to_string(r.index);
    for (const auto& [name, v] : r.counters) {
      if (name == "sent") pts.push_back({"REGISTERs per second", "sent" + i, double(v), true});
      if (name == "accepted") pts.push_back({"REGISTERs per second", "accepted" + i, double(v), true});
      if (name == "challenged") pts.push_back({"REGISTERs per second", "challenged" + i, double(v), true});
      if (name == "timed_out") pts.push_back({"Timeouts and rejections per second", "timed out" + i, double(v), true});
      if (name == "rejected") pts.push_back({"Timeouts and rejections per second", "rejected" + i, double(v), true});
    }
  }
  for (const cli::DataplaneRow& r : status.dataplane()) {
    const std::string w = " w" + std::to_string(r.worker);
    pts.push_back({"Datagrams per second", "rx" + w, double(r.rx), true});
    pts.push_back({"Datagrams per second", "tx" + w, double(r.tx), true});
    pts.push_back({"Bindings per worker", "worker" + w.substr(2), double(r.bindings), false});
    double hz = 0, busy = -1;
    for (const auto& [name, v] : r.io) {
      if (name == "tsc_hz") hz = double(v);
      if (name == "busy_tsc") busy = double(v);
    }
    if (hz > 0 && busy >= 0) pts.push_back({"Worker busy (share of its core)", "busy" + w, busy / hz, true});
  }
  for (const auto& [name, v] : st.calls) {
    if (name == "answered" || name == "failed") pts.push_back({"Calls per second", name, double(v), true});
  }
  metrics_->record(double(now - started_ms_) / 1000.0, pts);
}

void Daemon::check_adoption() {
  if (publication_.version == 0 || publication_.adopted_ms >= 0) return;
  for (const auto& w : workers_) {
    if (w->adopted_version() < publication_.version) return;
  }
  publication_.adopted_ms = static_cast<double>(monotonic_us() - published_us_) / 1000.0;
  log("snapshot %llu: built in %.1f ms, run by every worker %.1f ms after publication",
      static_cast<unsigned long long>(publication_.version), publication_.build_ms, publication_.adopted_ms);
}

void Daemon::reclaim() {
  const std::uint64_t before = publisher_->reclaimed();
  publisher_->reclaim();
  if (publisher_->reclaimed() != before) purge_freed_pages();
}

void Daemon::learn_realms() {
  // Registrars challenging with a realm the configuration does not name can only be answered
  // by realm-less entries (see docs/rules.md, F4.4), whose HA1 depends on the realm: the
  // learner keeps such realms per registrar (bounded, least recently used evicted) and the HA1s
  // are computed here, where the passwords are, and republished.
  const std::uint64_t now = monotonic_ms();
  bool added = false;
  std::string realm;
  std::uint8_t slot = 0;
  for (auto& w : workers_) {
    while (w->pop_used_realm(realm, slot)) realm_learner_.touch(slot, realm, now);
    while (w->pop_unknown_realm(realm, slot)) added |= realm_learner_.learn(slot, realm, now);
  }
  // Realms that challenged with SHA-256 or SHA-512/256: the snapshot keeps SHA HA1s only for
  // those (64 bytes per credential otherwise spent on every realm). Only a realm the snapshot
  // names can have them, so the list holds no other (a registrar cycling SHA realms grows
  // nothing).
  const reg::Snapshot* snap = publisher_->current();
  const auto named = [&](const std::string& r) { return snap != nullptr && snap->realms.find(r) != reg::kNoRealm; };
  for (auto& w : workers_) {
    while (w->pop_sha_realm(realm)) {
      if (!named(realm) || std::find(sha_realms_.begin(), sha_realms_.end(), realm) != sha_realms_.end()) continue;
      event(kInformational, "SIP", "REALM_SHA", "Realm \"%s\" challenged with SHA: adding its SHA HA1s",
            realm.c_str());
      std::erase_if(sha_realms_, [&](const std::string& r) { return !named(r); });
      sha_realms_.push_back(realm);
      added = true;
    }
  }
  if (added) rebuild_and_publish();
}

std::string Daemon::local_ip_towards(const sockaddr_storage& dst, socklen_t len) const {
  // --io dpdk: the bound interface's address (the kernel's routing knows nothing of DPDK ports).
  if (dpdk_) return dpdk_->local_ip(dst.ss_family);
  // An explicit --listen address is ours towards every registrar; with a wildcard, the address
  // the kernel routes from towards this registrar.
  sockaddr_storage ss;
  socklen_t l;
  if (opts_.listen_ip != "0.0.0.0" && opts_.listen_ip != "::" && literal_address(opts_.listen_ip, 0, ss, l)) {
    return ip_text(ss);
  }
  return source_ip_towards(dst, len);
}

// ---- operator sessions ----

protocol::Reply Daemon::handle(config::Session& session, std::string_view verb, std::string_view line) {
  protocol::Reply reply;
  config::Interpreter in(cfg_, this, &cfg_index_);
  if (verb == "exec") {
    const std::uint64_t received_us = monotonic_us();
    const bool configuring = session.mode >= config::Mode::global_config;
    const config::Result r = in.execute(line, session);
    // IOS logs a configuration session once, when it leaves configuration mode.
    if (configuring && session.mode < config::Mode::global_config) {
      event(kNotifications, "SYS", "CONFIG_I", "Configured from console by %s",
            session.origin.empty() ? "console" : session.origin.c_str());
    }
    if (r.ok()) {
      reply.payload = r.output;
      if (r.changed) {
        ++config_changes_;
        apply_logging();
        rebuild_and_publish(received_us);
        check_shutdown_fit(false);
      }
    } else {
      reply.status = protocol::ReplyStatus::refused;
      reply.payload = config::format_error(line, r);
    }
    if (r.end_session) reply.status = protocol::ReplyStatus::ended;
  } else if (verb == "help") {
    const auto items = in.help(line, session);
    std::size_t width = 0;
    for (const auto& it : items) width = std::max(width, it.word.size());
    if (!line.empty() && line.back() != ' ' && line.back() != '\t') {
      // `sh?`, `show sip-ua st?`: IOS lists the keywords the word may be, on one line, no help.
      for (const auto& it : items) reply.payload += it.word + "  ";
      if (!items.empty()) reply.payload += "\n";
    } else {
      for (const auto& it : items) {
        reply.payload += "  " + it.word + std::string(width - it.word.size() + 2, ' ') + it.help + "\n";
      }
    }
    if (items.empty()) {
      reply.status = protocol::ReplyStatus::refused;
      reply.payload = "% Unrecognized command\n";
    }
  } else if (verb == "complete") {
    reply.payload = in.complete(line, session);
  } else if (verb == "terminal") {
    // What regfront-cli pages by: "LENGTH WIDTH" of this session (terminal length|width).
    reply.payload = std::to_string(session.terminal_length) + " " + std::to_string(session.terminal_width);
  }
  reply.prompt = config::prompt(cfg_, session);
  return reply;
}

void Daemon::closed(const config::Session& session) {
  // A session that ends in configuration mode (its client went, or timed out) configured too.
  if (session.mode >= config::Mode::global_config) {
    event(kNotifications, "SYS", "CONFIG_I", "Configured from console by %s",
          session.origin.empty() ? "console" : session.origin.c_str());
  }
}

bool Daemon::show(Show what, bool json, std::string& out) {
  const StatusGatherer status({workers_, *publisher_, cfg_, *dns_, dpdk_.get(), opts_.max_calls});
  switch (what) {
    case Show::register_status: out = cli::render_register_status(status.bindings(), json); return true;
    case Show::registrar_status: out = cli::render_sip_ua_status_registrar(json); return true;
    case Show::registrars: {
      std::vector<cli::RegistrarRow> rows = status.registrars();
      realm_learner_.annotate(rows);
      out = cli::render_registrars(rows, json);
      return true;
    }
    case Show::statistics:
      out = cli::render_statistics(cli::statistics_since(status.statistics(), statistics_base_), json);
      return true;
    case Show::calls: out = cli::render_calls(status.calls(), json); return true;
    case Show::dataplane:
      out = cli::render_dataplane(status.dataplane(), json, status.ports(), status.pool(), publication_);
      return true;
    case Show::control: {
      const ControlServer::Counters c = server_->counters();
      cli::ControlStatus s;
      s.sessions = static_cast<std::uint32_t>(server_->sessions());
      s.max_sessions = server_->limits().max_sessions;
      s.idle_timeout_s = server_->limits().idle_timeout_s;
      s.output_high_water = ControlServer::kOutputHighWater;
      s.pending_output = c.pending_output;
      s.accepted = c.accepted;
      s.refused_full = c.refused_full;
      s.idle_timeouts = c.idle_timeouts;
      s.slow_readers = c.slow_readers;
      s.lines_too_long = c.lines_too_long;
      s.accept_errors = c.accept_errors;
      s.accept_paused = server_->accept_paused();
      s.reloads = reloads_;
      s.reloads_refused = reloads_refused_;
      out = cli::render_control(s, json);
      return true;
    }
    case Show::logging:
      out = json ? log_buffer().render_json() : log_buffer().render();
      return true;
    case Show::debugging: {
      std::uint64_t recorded = 0, lost = 0;
      for (const auto& w : workers_) {
        recorded += w->tracer().recorded_total();
        lost += w->tracer().lost_total();
      }
      if (json) {
        nlohmann::json j;
        j["trace"] = {{"records", recorded},
                      {"lost", lost},
                      {"ring_bytes", reg::Tracer::kRingBytes},
                      {"records_per_second", static_cast<int>(reg::Tracer::kRecordsPerSecond)}};
        j["monitor_dropped"] = server_->counters().monitor_dropped;
        out = j.dump();
        return true;
      }
      out = "  Trace: " + std::to_string(recorded) + " records, " + std::to_string(lost) +
            " lost (per worker: a " + std::to_string(reg::Tracer::kRingBytes / 1024) + " KiB ring, at most " +
            std::to_string(static_cast<int>(reg::Tracer::kRecordsPerSecond)) + " records/s); " +
            std::to_string(server_->counters().monitor_dropped) +
            " not queued to sessions reading too slowly\n";
      return true;
    }
    case Show::startup_config: {
      // The startup-config is the file (written by `write memory`), read when asked for.
      StatusOr<std::string> text = config::read_startup_config(opts_.config_path);
      if (!text.ok()) {
        out = "% Error opening " + text.status().message();
        return false;
      }
      out = std::move(*text);
      return true;
    }
  }
  return false;
}

bool Daemon::clear(Clear what, std::string& message) {
  if (what == Clear::logging) {
    log_buffer().clear();
    event(kNotifications, "SYS", "LOG_CLEARED", "Logging buffer cleared");
    return true;
  }
  if (what != Clear::statistics) {
    message = "Command not available";
    return false;
  }
  // The workers' counters are theirs alone (one writer each): the daemon keeps what they were
  // and shows the difference.
  statistics_base_ = StatusGatherer({workers_, *publisher_, cfg_, *dns_, dpdk_.get(), opts_.max_calls}).statistics();
  log("sip-ua statistics cleared: show sip-ua statistics counts from now");
  return true;
}

bool Daemon::info(Info what, const config::Session& self, bool json, std::string& out) {
  if (what == Info::version) {
    VersionInfo v;
    v.version = REGFRONT_VERSION;
    v.build = std::string("GCC ") + __VERSION__ + " (" + REGFRONT_BUILD_TYPE + ")";
    v.hostname = cfg_.hostname;
    v.uptime_s = (monotonic_ms() - started_ms_) / 1000;
    char exe[4096];
    if (const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof exe - 1); n > 0) v.image.assign(exe, static_cast<std::size_t>(n));
    if (utsname u{}; ::uname(&u) == 0) v.system = std::string(u.sysname) + " " + u.release + " " + u.machine;
    v.io = dpdk_ ? "DPDK" : "kernel sockets";
    v.workers = static_cast<unsigned>(workers_.size());
    v.config_path = opts_.config_path;
    out = json ? render_version_json(v) : render_version(v);
    return true;
  }
  std::vector<UserRow> rows;
  for (const ControlServer::SessionView& s : server_->session_views()) {
    UserRow r;
    r.self = s.line == self.line;
    r.line = s.line;
    r.idle_s = s.idle_ms / 1000;
    r.user = s.uid < 0 ? "?" : std::to_string(s.uid);
    if (s.uid >= 0) {
      passwd pw{}, *found = nullptr;
      char buf[1024];
      if (::getpwuid_r(static_cast<uid_t>(s.uid), &pw, buf, sizeof buf, &found) == 0 && found) r.user = pw.pw_name;
    }
    if (s.pid >= 0) r.location = "pid " + std::to_string(s.pid);
    r.mode = s.mode == config::Mode::user_exec ? "user exec"
             : s.mode == config::Mode::privileged_exec ? "privileged exec" : "configuration";
    rows.push_back(std::move(r));
  }
  out = json ? render_users_json(rows) : render_users(rows);
  return true;
}

bool Daemon::show_register_status(int registrar, std::string_view number, bool json, std::string& out) {
  const StatusGatherer status({workers_, *publisher_, cfg_, *dns_, dpdk_.get(), opts_.max_calls});
  std::vector<cli::BindingRow> rows = status.bindings();
  std::erase_if(rows, [&](const cli::BindingRow& r) {
    return (registrar != 0 && r.registrar != registrar) || (!number.empty() && r.number != number);
  });
  out = cli::render_register_status(rows, json);
  return true;
}

bool Daemon::reregister(int registrar, std::string_view number, std::string& message) {
  const reg::Snapshot* snap = publisher_->current();
  if (registrar != 0 && (snap == nullptr || registrar > reg::kRegistrarSlots || !snap->registrars[registrar - 1].present)) {
    message = "Registrar " + std::to_string(registrar) + " is not configured";
    return false;
  }
  if (!number.empty() && (snap == nullptr || snap->find_endpoint(number) == reg::kNoEntry)) {
    message = "No registration for number " + std::string(number);
    return false;
  }
  const std::uint8_t registrars = registrar != 0 ? static_cast<std::uint8_t>(1u << (registrar - 1)) : 0x3f;
  // What the workers will queue, as the rows show it now: the matching bindings that are
  // registered or backing off (a `*` suffix still registered), per registrar. The engine counts
  // what it took itself (`reregistered`); a binding that changes state meanwhile may differ.
  std::size_t eligible[reg::kRegistrarSlots + 1] = {};
  std::size_t eligible_total = 0;
  {
    const StatusGatherer status({workers_, *publisher_, cfg_, *dns_, dpdk_.get(), opts_.max_calls});
    for (const cli::BindingRow& r : status.bindings()) {
      if ((registrar != 0 && r.registrar != registrar) || (!number.empty() && r.number != number)) continue;
      if (r.registrar < 1 || r.registrar > reg::kRegistrarSlots) continue;
      if (r.state != "registered" && !r.state.starts_with("backoff")) continue;
      ++eligible[r.registrar];
      ++eligible_total;
    }
  }
  std::size_t taken = 0;
  for (const auto& w : workers_) taken += w->reregister(registrars, number) ? 1 : 0;
  log("clear sip-ua registration%s%s%s%s: %zu of %zu workers re-register now", registrar ? " registrar " : "",
      registrar ? std::to_string(registrar).c_str() : "", number.empty() ? "" : " number ", std::string(number).c_str(),
      taken, workers_.size());
  if (taken != workers_.size()) {
    message = "Not every worker answered; some bindings re-register at their own time";
    return false;
  }
  message = std::to_string(eligible_total) + (eligible_total == 1 ? " binding" : " bindings") +
            " queued to register again";
  std::string per;
  for (int i = 1; i <= reg::kRegistrarSlots; ++i) {
    if (eligible[i] == 0 && i != registrar) continue;
    per += (per.empty() ? "" : ", ") + std::string("registrar ") + std::to_string(i) + ": " +
           std::to_string(eligible[i]);
  }
  if (!per.empty()) message += " (" + per + ")";
  return true;
}

bool Daemon::write_memory(const config::Config& cfg, std::string& message) {
  // write memory / copy running-config startup-config: the running configuration replaces the
  // startup-config file crash-safely (config::save_startup_config).
  const std::string text = config::render_running_config(cfg);
  if (const Status s = config::save_startup_config(opts_.config_path, text); !s.ok()) {
    message = "% Error writing " + opts_.config_path + ": " + s.message();
    log("write memory failed: %s", s.message().c_str());
    return false;
  }
  message = "[OK]";
  log("startup-config written to %s", opts_.config_path.c_str());
  return true;
}

}  // namespace regfront::daemon
