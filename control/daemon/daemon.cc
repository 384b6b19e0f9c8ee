// regfrontd's control plane (see regfront/daemon/daemon.h).
#include "regfront/daemon/daemon.h"

#include <openssl/rand.h>
#include <signal.h>
#include <sys/signalfd.h>
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
#include "regfront/daemon/status.h"
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

Daemon::Daemon(Options o) : opts_(std::move(o)), realm_learner_(opts_.learned_realms) {
  if (opts_.control_socket.empty()) opts_.control_socket = protocol::default_control_socket();
}

Daemon::~Daemon() {
  for (auto& w : workers_) w->request_shutdown();
  for (auto& w : workers_) w->join();
  // --io dpdk: the workers' stacks return their mbufs to the pool before the ports and the EAL
  // go away; no worker reads a snapshot any more when the publisher frees them.
  workers_.clear();
  server_.reset();
  dpdk_.reset();
  if (publisher_) publisher_->drain();
  publisher_.reset();
  if (signal_fd_ >= 0) ::close(signal_fd_);
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
  if (!r.ok()) {
    std::string all;
    for (const auto& e : r.errors) all += e.format(opts_.config_path) + "\n";
    return Status::invalid_argument(all);
  }
  cfg_ = std::move(cfg);
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
    auto w = std::make_unique<worker::SocketWorker>(worker_options(opts_, i, seed + i, key), publisher_->qsbr(),
                                                    publisher_->current_ptr(), handoff_.get());
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

  publisher_->publish(std::move(first));
  for (auto& w : workers_) w->start();
  const reg::Snapshot* snap = publisher_->current();
  std::size_t bindings = 0;
  for (const auto& p : snap->plans) bindings += p.size();
  log("started: %zu endpoints, %zu bindings, %u worker(s) of %u binding slots, listening on %s:%u, "
      "control socket %s",
      snap->endpoints.size(), bindings, opts_.workers, opts_.capacity, opts_.listen_ip.c_str(), opts_.listen_port,
      opts_.control_socket.c_str());
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
  std::uint64_t last_progress = 0;
  std::vector<pollfd> fds;
  for (;;) {
    fds = dns_->pollfds();
    const std::size_t base = fds.size();
    fds.push_back(pollfd{signal_fd_, POLLIN, 0});
    server_->add_pollfds(fds);
    ::poll(fds.data(), fds.size(), dns_->timeout_ms(100));
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
    // Leaving bindings whose unregistration time is up: release their slots.
    if (const std::uint64_t due = builder_->next_expiry_ms(); due != 0 && due <= now) rebuild_and_publish();
    reclaim();
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
      log("registrar %d: OPTIONS keepalive: down (last %llu): REGISTERs held", slot + 1,
          static_cast<unsigned long long>(code));
    } else {
      log("registrar %d: OPTIONS keepalive: up (answered %llu): held bindings restart at the registration rate",
          slot + 1, static_cast<unsigned long long>(code));
    }
  }
  return changed;
}

void Daemon::reload() {
  // SIGHUP (systemd's reload): the startup-config file replaces the running configuration as
  // one live change, the path a CLI change takes: the builder keeps every binding the new
  // configuration still has (nothing sent for them) and unregisters only those it no longer
  // has. A file that does not load changes nothing at all.
  const std::string& path = opts_.config_path;
  StatusOr<std::string> text = config::read_startup_config(path);
  if (!text.ok()) {
    ++reloads_refused_;
    log("SIGHUP: cannot read %s; nothing changed", text.status().message().c_str());
    return;
  }
  config::Config cfg;
  const config::LoadResult r = config::load_startup_config(*text, cfg);
  if (!r.ok()) {
    ++reloads_refused_;
    for (const auto& e : r.errors) {
      std::istringstream lines(e.format(path));
      for (std::string line; std::getline(lines, line);) log("SIGHUP: %s", line.c_str());
    }
    log("SIGHUP: %s refused (%zu error(s)); nothing changed", path.c_str(), r.errors.size());
    return;
  }
  ++reloads_;
  if (cfg == cfg_) {
    log("SIGHUP: %s re-read: no change", path.c_str());
    return;
  }
  cfg_ = std::move(cfg);
  rebuild_and_publish();
  std::size_t bindings = 0;
  for (const auto& p : publisher_->current()->plans) bindings += p.size();
  log("SIGHUP: %s applied: %zu endpoints, %zu bindings", path.c_str(), publisher_->current()->endpoints.size(),
      bindings);
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

void Daemon::rebuild_and_publish() {
  publisher_->publish(builder_->build(cfg_, dns_->addresses(), opts_.listen_port, realm_learner_.realms(),
                                      publisher_->current(), monotonic_ms(), sha_realms_, dns_->target_addresses()));
  reclaim();
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
      log("realm \"%s\" challenged with SHA: adding its SHA HA1s", realm.c_str());
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
  config::Interpreter in(cfg_, this);
  if (verb == "exec") {
    const config::Result r = in.execute(line, session);
    if (r.ok()) {
      reply.payload = r.output;
      if (r.changed) {
        rebuild_and_publish();
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
    for (const auto& it : items) {
      reply.payload += "  " + it.word + std::string(width - it.word.size() + 2, ' ') + it.help + "\n";
    }
    if (items.empty()) {
      reply.status = protocol::ReplyStatus::refused;
      reply.payload = "% Unrecognized command\n";
    }
  } else if (verb == "complete") {
    reply.payload = in.complete(line, session);
  }
  reply.prompt = config::prompt(cfg_, session);
  return reply;
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
      out = cli::render_dataplane(status.dataplane(), json, status.ports(), status.pool());
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
  std::size_t taken = 0;
  for (const auto& w : workers_) taken += w->reregister(registrars, number) ? 1 : 0;
  log("clear sip-ua registration%s%s%s%s: %zu of %zu workers re-register now", registrar ? " registrar " : "",
      registrar ? std::to_string(registrar).c_str() : "", number.empty() ? "" : " number ", std::string(number).c_str(),
      taken, workers_.size());
  if (taken != workers_.size()) {
    message = "Not every worker answered; some bindings re-register at their own time";
    return false;
  }
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
