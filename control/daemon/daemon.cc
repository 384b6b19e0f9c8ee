// regfrontd's control plane. See daemon.h.
#include "daemon.h"
#include "regfront/common/clock.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <jemalloc/jemalloc.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <rte_rcu_qsbr.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <algorithm>
#include <tuple>
#include <cstring>
#include <fstream>
#include <sstream>

#include "regfront/config/commands.h"
#include "regfront/config/persist.h"
#include "dpdk_worker.h"
#include "show.h"

#include "regfront/control/protocol.h"

namespace regfront::daemon {
namespace {

void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log(const char* fmt, ...) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &t);
  std::fprintf(stderr, "%s.%03ldZ regfrontd: ", stamp, ts.tv_nsec / 1000000);
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

// Parses a literal address into `ss` with `port`; false when it is not a literal.
bool literal_address(const std::string& host, std::uint16_t port, sockaddr_storage& ss, socklen_t& len) {
  std::memset(&ss, 0, sizeof ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    len = sizeof(sockaddr_in);
    return true;
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string ip_text(const sockaddr_storage& ss) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (ss.ss_family == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in&>(ss).sin_addr, buf, sizeof buf);
    return buf;
  }
  inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, buf, sizeof buf);
  return std::string("[") + buf + "]";
}

// Our source address towards `dst`, as the kernel's routing would pick it.
std::string source_ip_towards(const sockaddr_storage& dst, socklen_t len) {
  const int fd = ::socket(dst.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return {};
  std::string out;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&dst), len) == 0) {
    sockaddr_storage local{};
    socklen_t llen = sizeof local;
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &llen) == 0) out = ip_text(local);
  }
  ::close(fd);
  return out;
}

}  // namespace

std::string default_control_socket() {
  if (::geteuid() == 0) return "/run/regfront/regfrontd.sock";
  return "/tmp/regfrontd-" + std::to_string(::geteuid()) + ".sock";
}

Daemon::Daemon(Options o) : opts_(std::move(o)) {
  if (opts_.control_socket.empty()) opts_.control_socket = default_control_socket();
}

Daemon::~Daemon() {
  for (auto& w : workers_) {
    w->request_shutdown();
    w->join();
  }
  // --io dpdk: the workers' stacks return their mbufs to the pool before the ports and the EAL
  // go away.
  workers_.clear();
  dpdk_.reset();
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(opts_.control_socket.c_str());
  }
  if (signal_fd_ >= 0) ::close(signal_fd_);
  delete current_.exchange(nullptr);
  std::free(qs_);
}

bool Daemon::load(std::string& err) {
  std::ifstream in(opts_.config_path);
  if (!in) {
    err = "cannot read " + opts_.config_path + ": " + std::strerror(errno);
    return false;
  }
  // The text is not kept: `show startup-config` reads the file (at 600k credential lines it
  // would be ~95 bytes per binding, of a memory budget of 256).
  std::string text;
  {
    std::stringstream ss;
    ss << in.rdbuf();
    text = std::move(ss).str();
  }
  config::Config cfg;
  const config::LoadResult r = config::load_startup_config(text, cfg);
  if (!r.ok()) {
    for (const auto& e : r.errors) err += e.format(opts_.config_path) + "\n";
    return false;
  }
  cfg_ = std::move(cfg);
  for (const auto& [index, r] : cfg_.sip_ua.registrars) {
    if (r.tcp || r.scheme == config::Scheme::sips) {
      log("registrar %d: tcp/sips transport is not carried yet; this registrar is not used", index);
    }
    if (r.address.kind == config::AddressKind::dhcp) log("registrar dhcp: DHCP-provided registrars are not supported; ignored");
  }
  if (cfg_.sip_ua.registrar_dhcp) log("registrar dhcp: DHCP-provided registrars are not supported; ignored");
  return true;
}

namespace {

// Returns the pages of freed memory to the kernel. A build frees about as much as it keeps (the
// previous snapshot; at start-up the loader's text and indexes): jemalloc would keep those
// pages dirty until its decay time has passed *and* the arena allocates again, which on a
// control thread that sits idle between commands means indefinitely (~200 MiB at 600k
// bindings: more than the whole memory budget of 256 bytes per binding). Control thread only,
// after a publication: costs a few ms of madvise().
void purge_freed_pages() {
  char name[32];
  std::snprintf(name, sizeof name, "arena.%u.purge", static_cast<unsigned>(MALLCTL_ARENAS_ALL));
  mallctl(name, nullptr, nullptr, nullptr, 0);
}

// jemalloc's background thread returns dirty pages to the kernel as they age (dirty_decay_ms,
// 10 s by default) whether or not the arena allocates again. It covers what is freed away from
// a publication: by the workers (an engine sets up its timer wheel again at its first snapshot:
// 6 MiB per worker at 376k slots), by CLI sessions, by the resolver.
void start_page_decay_thread() {
  bool on = true;
  mallctl("background_thread", nullptr, nullptr, &on, sizeof on);
}

}  // namespace

void Daemon::publish(std::unique_ptr<reg::Snapshot> s) {
  const reg::Snapshot* old = current_.exchange(s.release(), std::memory_order_acq_rel);
  if (old != nullptr) {
    // Free the previous snapshot once every online worker has passed a quiescent state after
    // the exchange above (workers re-read the pointer every loop iteration).
    const std::uint64_t token = rte_rcu_qsbr_start(qs_);
    rte_rcu_qsbr_check(qs_, token, true);
    delete old;
  }
  purge_freed_pages();
}

void Daemon::rebuild_and_publish() {
  publish(builder_->build(cfg_, addrs_, opts_.listen_port, learned_realms_,
                          current_.load(std::memory_order_relaxed), monotonic_ms(), sha_realms_));
}

void Daemon::learn_realms() {
  // Registrars challenging with a realm the configuration does not name can only be answered
  // by realm-less entries (F4.4), whose HA1 depends on the realm: compute it here, where the
  // passwords are, and republish. Bounded, so a registrar cycling realms cannot grow it.
  static constexpr std::size_t kMaxLearned = 256;
  bool added = false;
  std::string realm;
  const auto learn = [&](std::vector<std::string>& into, const char* what) {
    if (into.size() >= kMaxLearned) return;
    if (std::find(into.begin(), into.end(), realm) != into.end()) return;
    log("realm \"%s\" challenged%s", realm.c_str(), what);
    into.push_back(realm);
    added = true;
  };
  for (auto& w : workers_) {
    while (w->pop_unknown_realm(realm)) learn(learned_realms_, ": adding HA1s for realm-less credentials");
    // Realms that challenged with SHA-256 or SHA-512/256: the snapshot keeps SHA HA1s only for
    // those (64 bytes per credential otherwise spent on every realm). Bounded likewise.
    while (w->pop_sha_realm(realm)) learn(sha_realms_, " with SHA: adding its SHA HA1s");
  }
  if (added) rebuild_and_publish();
}

std::string Daemon::local_ip_towards(const sockaddr_storage& dst, socklen_t len) const {
  // An explicit --listen address is ours towards every registrar; with a wildcard, the address
  // the kernel routes from towards this registrar.
  // --io dpdk: the bound interface's address (the kernel's routing knows nothing of DPDK ports).
  if (dpdk_) return dpdk_->local_ip(dst.ss_family);
  sockaddr_storage ss;
  socklen_t l;
  if (opts_.listen_ip != "0.0.0.0" && opts_.listen_ip != "::" && literal_address(opts_.listen_ip, 0, ss, l)) {
    return ip_text(ss);
  }
  return source_ip_towards(dst, len);
}

void Daemon::resolve_all() {
  const std::uint64_t now = monotonic_ms();
  bool republish = false;
  // A registrar removed or given another address forgets what was resolved for it (a lookup
  // still in flight for the old name is ignored when it answers: see the callback).
  for (int slot = 0; slot < reg::kRegistrarSlots; ++slot) {
    const auto it = cfg_.sip_ua.registrars.find(slot + 1);
    if (it == cfg_.sip_ua.registrars.end() || !(it->second.address == dns_[slot].address)) {
      republish |= addrs_[slot].has_value();
      addrs_[slot].reset();
      const bool in_progress = dns_[slot].in_progress;
      dns_[slot] = DnsState{};
      dns_[slot].in_progress = in_progress;
      if (it != cfg_.sip_ua.registrars.end()) dns_[slot].address = it->second.address;
    }
  }
  for (const auto& [index, r] : cfg_.sip_ua.registrars) {
    if (index < 1 || index > reg::kRegistrarSlots) continue;
    DnsState& d = dns_[index - 1];
    const std::uint16_t port = r.address.port ? r.address.port : config::kDefaultSipPort;
    d.host = r.address.host;
    d.port = port;
    if (r.address.kind == config::AddressKind::ipv4 || r.address.kind == config::AddressKind::ipv6) {
      if (addrs_[index - 1]) continue;  // a literal is resolved once
      snapshot::ResolvedRegistrar rr;
      if (literal_address(r.address.host, port, rr.addr, rr.addr_len)) {
        rr.local_ip = local_ip_towards(rr.addr, rr.addr_len);
        addrs_[index - 1] = rr;
        republish = true;
      }
      continue;
    }
    if (r.address.kind != config::AddressKind::dns || d.in_progress) continue;
    if (d.refresh_at_ms != 0 && d.refresh_at_ms > now) continue;
    d.in_progress = true;
    const int slot = index - 1;
    resolver_->lookup(r.address.host, port, [this, slot, asked = r.address](const control::Resolver::Result& res) {
      DnsState& st = dns_[slot];
      st.in_progress = false;
      if (!(st.address == asked)) return;  // the registrar changed while we were asking
      const std::uint64_t t = monotonic_ms();
      if (!res.ok) {
        st.last_error = res.error;
        st.refresh_at_ms = t + 30000;  // retry a failed lookup in 30 s
        log("registrar %d: cannot resolve %s: %s (retrying in 30 s)", slot + 1, st.host.c_str(), res.error.c_str());
        return;
      }
      st.last_error.clear();
      // Re-resolve when the TTL runs out (at least 10 s apart; an hour without a TTL).
      const std::uint32_t ttl = res.ttl_s ? std::max<std::uint32_t>(res.ttl_s, 10) : 3600;
      st.refresh_at_ms = t + std::uint64_t{ttl} * 1000;
      snapshot::ResolvedRegistrar rr;
      rr.addr = res.addresses.front();
      rr.addr_len = res.lengths.front();
      rr.local_ip = local_ip_towards(rr.addr, rr.addr_len);
      const bool changed = !addrs_[slot] || addrs_[slot]->addr_len != rr.addr_len ||
                           std::memcmp(&addrs_[slot]->addr, &rr.addr, rr.addr_len) != 0;
      if (changed) {
        log("registrar %d: %s resolved to %s (ttl %u s)", slot + 1, st.host.c_str(), ip_text(rr.addr).c_str(), ttl);
        addrs_[slot] = rr;
        rebuild_and_publish();
      }
    });
  }
  // Literal addresses are known at once; publish them (after start-up: a registrar added live).
  if (republish && current_.load(std::memory_order_relaxed) != nullptr) rebuild_and_publish();
}

bool Daemon::write_memory(const config::Config& cfg, std::string& message) {
  // write memory / copy running-config startup-config: the running configuration replaces the
  // startup-config file crash-safely (config::save_startup_config).
  const std::string text = config::render_running_config(cfg);
  std::string err;
  if (!config::save_startup_config(opts_.config_path, text, err)) {
    message = "% Error writing " + opts_.config_path + ": " + err;
    log("write memory failed: %s", err.c_str());
    return false;
  }
  message = "[OK]";
  log("startup-config written to %s", opts_.config_path.c_str());
  return true;
}

int Daemon::run() {
  // Signals arrive through a signalfd in the control loop; workers never see them.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);
  signal_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  // --io dpdk: EAL, ports and the interface configuration first — a bad one stops start-up.
  if (opts_.io == "dpdk") {
    std::string err;
    dpdk_ = DpdkBackend::create(opts_, cfg_, err);
    if (!dpdk_) {
      std::fprintf(stderr, "%s\n", err.c_str());
      log("--io dpdk: start-up refused");
      return 1;
    }
  }

  const std::size_t qs_size = rte_rcu_qsbr_get_memsize(opts_.workers);
  qs_ = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(64, (qs_size + 63) / 64 * 64));
  rte_rcu_qsbr_init(qs_, opts_.workers);

  start_page_decay_thread();
  resolver_ = std::make_unique<control::Resolver>();
  builder_ = std::make_unique<snapshot::Builder>(opts_.workers);

  // Control socket: mode 0660, so only root and the socket's group (operators) get in.
  {
    const std::string dir = opts_.control_socket.substr(0, opts_.control_socket.rfind('/'));
    if (!dir.empty()) ::mkdir(dir.c_str(), 0750);
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un sun{};
    sun.sun_family = AF_UNIX;
    if (opts_.control_socket.size() >= sizeof sun.sun_path) {
      log("control socket path too long: %s", opts_.control_socket.c_str());
      return 1;
    }
    std::strcpy(sun.sun_path, opts_.control_socket.c_str());
    ::unlink(sun.sun_path);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || ::listen(listen_fd_, 16) != 0) {
      log("control socket %s: %s", opts_.control_socket.c_str(), std::strerror(errno));
      return 1;
    }
    ::chmod(sun.sun_path, 0660);
  }

  // The first snapshot is built before the workers so that their tables can be sized from it:
  // the startup-config's bindings plus a quarter for live additions, at least 64k. Every slot
  // is resident from the start (80 bytes: binding and timer node), so the headroom is paid per
  // binding: twice the bindings cost 160 B per binding of the 256 the memory budget allows, a
  // quarter more costs 100. Beyond it, additions are counted as plan_overflow and not started
  // until a restart (with --max-bindings for more).
  resolve_all();
  std::unique_ptr<reg::Snapshot> first =
      builder_->build(cfg_, addrs_, opts_.listen_port, learned_realms_, nullptr, 0, sha_realms_);
  if (opts_.capacity == 0) {
    std::size_t largest = 0;
    for (const auto& p : first->plans) largest = std::max(largest, p.size());
    opts_.capacity = static_cast<std::uint32_t>(std::max<std::size_t>(65536, (largest + largest / 4 + 4095) / 4096 * 4096));
  }

  // Workers: worker i listens on the listen port + i (its Via port), so that responses come
  // back to the worker that owns the binding without any hand-off.
  std::uint64_t seed;
  SipKey key;
  RAND_bytes(reinterpret_cast<unsigned char*>(&seed), sizeof seed);
  RAND_bytes(reinterpret_cast<unsigned char*>(&key), sizeof key);
  if (dpdk_) {
    std::string err;
    std::size_t largest = 0;
    for (const auto& p : first->plans) largest = std::max(largest, p.size());
    if (!dpdk_->make_workers(opts_, qs_, current_, seed, key, std::uint32_t(largest), workers_, err)) {
      std::fprintf(stderr, "%s\n", err.c_str());
      log("--io dpdk: start-up refused");
      return 1;
    }
    log("%s", dpdk_->describe().c_str());
  }
  for (std::uint32_t i = 0; i < opts_.workers && !dpdk_; ++i) {
    auto w = std::make_unique<Worker>(i, opts_, qs_, current_, seed + i, key);
    sockaddr_storage local;
    socklen_t len;
    if (!literal_address(opts_.listen_ip, static_cast<std::uint16_t>(opts_.listen_port + i), local, len)) {
      log("--listen: %s is not an IP address", opts_.listen_ip.c_str());
      return 1;
    }
    std::string err;
    if (!w->open(local, len, err)) {
      log("worker %u: %s:%u: %s", i, opts_.listen_ip.c_str(), opts_.listen_port + i, err.c_str());
      return 1;
    }
    workers_.push_back(std::move(w));
  }

  publish(std::move(first));
  for (auto& w : workers_) w->start();
  {
    std::size_t endpoints = current_.load()->endpoints.size();
    std::size_t bindings = 0;
    for (const auto& p : current_.load()->plans) bindings += p.size();
    log("started: %zu endpoints, %zu bindings, %u worker(s) of %u binding slots, listening on %s:%u, "
        "control socket %s",
        endpoints, bindings, opts_.workers, opts_.capacity, opts_.listen_ip.c_str(), opts_.listen_port,
        opts_.control_socket.c_str());
  }

  std::uint64_t last_progress = 0;
  for (;;) {
    std::vector<pollfd> fds = resolver_->pollfds();
    const std::size_t base = fds.size();
    fds.push_back(pollfd{signal_fd_, POLLIN, 0});
    fds.push_back(pollfd{listen_fd_, POLLIN, 0});
    for (const auto& c : clients_) {
      fds.push_back(pollfd{c->fd, static_cast<short>(c->out.empty() ? POLLIN : (POLLIN | POLLOUT)), 0});
    }
    ::poll(fds.data(), fds.size(), resolver_->timeout_ms(100));
    resolver_->process(std::vector<pollfd>(fds.begin(), fds.begin() + static_cast<std::ptrdiff_t>(base)));
    if (fds[base].revents & POLLIN) {
      signalfd_siginfo si;
      if (::read(signal_fd_, &si, sizeof si) == sizeof si && si.ssi_signo != SIGPIPE) {
        log("signal %u: unregistering and stopping", si.ssi_signo);
        break;
      }
    }
    for (std::size_t i = 0; i < clients_.size(); ++i) {
      if (fds[base + 2 + i].revents != 0) serve_client(*clients_[i], fds[base + 2 + i].revents);
    }
    std::erase_if(clients_, [](const std::unique_ptr<ClientSession>& c) {
      if (!c->closed) return false;
      ::close(c->fd);
      return true;
    });
    if (fds[base + 1].revents & POLLIN) {
      const int c = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (c >= 0) {
        auto cs = std::make_unique<ClientSession>();
        cs->fd = c;
        clients_.push_back(std::move(cs));
      }
    }
    resolve_all();
    learn_realms();
    const std::uint64_t now = monotonic_ms();
    // Leaving bindings whose unregistration time is up: release their slots.
    if (const std::uint64_t due = builder_->next_expiry_ms(); due != 0 && due <= now) rebuild_and_publish();
    if (now - last_progress >= 10000) {
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
  shutdown_workers();
  return 0;
}

void Daemon::shutdown_workers() {
  for (auto& w : workers_) w->request_shutdown();
  for (auto& w : workers_) w->join();
  std::uint64_t unregistered = 0;
  for (const auto& w : workers_) {
    for (const auto& r : w->counters().registrar) unregistered += r.unregistered.get();
  }
  log("stopped: %llu bindings unregistered", static_cast<unsigned long long>(unregistered));
}

// ---- control socket: sessions (see regfront/control/protocol.h) ----

void Daemon::serve_client(ClientSession& c, short revents) {
  if (revents & POLLIN) {
    char buf[65536];
    for (;;) {
      const ssize_t n = ::read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) c.peer_closed = true;
      break;
    }
    std::size_t nl;
    while (!c.closing && (nl = c.in.find('\n')) != std::string::npos) {
      std::string line = c.in.substr(0, nl);
      c.in.erase(0, nl + 1);
      if (!line.empty() && line.back() == '\r') line.pop_back();
      handle_request(c, line);
    }
    if (c.in.size() > control::kMaxRequest) {
      c.out += control::format_reply({control::ReplyStatus::refused, "", "% Line too long.\n"});
      c.closing = true;
    }
  }
  while (!c.out.empty()) {
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && errno == EAGAIN) break;
      c.closed = true;
      return;
    }
    c.out.erase(0, static_cast<std::size_t>(n));
  }
  if (c.out.empty() && (c.closing || c.peer_closed)) c.closed = true;
}

void Daemon::handle_request(ClientSession& c, const std::string& line) {
  const auto sp = line.find(' ');
  const std::string verb = line.substr(0, sp);
  const std::string arg = sp == std::string::npos ? "" : line.substr(sp + 1);
  if (verb != "exec" && verb != "help" && verb != "complete" && verb != "prompt") {
    c.out += control::format_reply({control::ReplyStatus::refused, "", "% Unknown request " + verb + "\n"});
    c.closing = true;
    return;
  }
  control::Reply reply;
  config::Interpreter in(cfg_, this);
  if (verb == "exec") {
    const config::Result r = in.execute(arg, c.session);
    if (r.ok()) {
      reply.payload = r.output;
      if (r.changed) rebuild_and_publish();
    } else {
      reply.status = control::ReplyStatus::refused;
      reply.payload = config::format_error(arg, r);
    }
    if (r.end_session) {
      reply.status = control::ReplyStatus::ended;
      c.closing = true;
    }
  } else if (verb == "help") {
    const auto items = in.help(arg, c.session);
    std::size_t width = 0;
    for (const auto& it : items) width = std::max(width, it.word.size());
    for (const auto& it : items) {
      reply.payload += "  " + it.word + std::string(width - it.word.size() + 2, ' ') + it.help + "\n";
    }
    if (items.empty()) {
      reply.status = control::ReplyStatus::refused;
      reply.payload = "% Unrecognized command\n";
    }
  } else if (verb == "complete") {
    reply.payload = in.complete(arg, c.session);
  }
  reply.prompt = config::prompt(cfg_, c.session);
  c.out += control::format_reply(reply);
}

bool Daemon::show(Show what, bool json, std::string& out) {
  switch (what) {
    case Show::register_status: out = show_register_status(json); return true;
    case Show::registrar_status: out = show_registrars(json); return true;
    case Show::statistics: out = show_statistics(json); return true;
    case Show::dataplane: out = show_dataplane(json); return true;
    case Show::startup_config: {
      // The startup-config is the file (written by `write memory`), read when asked for.
      std::ifstream in(opts_.config_path);
      if (!in) {
        out = "% Error opening " + opts_.config_path + ": " + std::strerror(errno);
        return false;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      out = std::move(ss).str();
      return true;
    }
  }
  return false;
}

std::string Daemon::show_register_status(bool json) {
  const reg::Snapshot* snap = current_.load(std::memory_order_acquire);
  std::vector<StatusRow> rows;
  std::vector<reg::BindingStatus> buf;
  for (auto& w : workers_) {
    // The worker adopts the current snapshot before it serves a dump; wait for that so the
    // indices it reports refer to `snap`.
    for (int i = 0; i < 2000 && !w->exited() && w->adopted_version() != snap->version; ++i) {
      const timespec ts{0, 1000000};
      nanosleep(&ts, nullptr);
    }
    std::uint64_t version = 0;
    if (!w->dump(buf, version, snap->plans[w->id()].size()) || version != snap->version) continue;
    for (const auto& b : buf) {
      StatusRow r;
      r.number = snap->number(snap->endpoints[b.endpoint]);
      r.registrar = snap->registrars[b.registrar].index;
      r.state = std::string(reg::state_name(b.state));
      if (b.seconds_left > 0 && b.state != reg::BindingState::registered) r.state += "*";  // still registered
      r.granted = b.granted;
      r.seconds_left = b.seconds_left;
      r.last_code = b.last_code;
      if (b.credential != reg::kNoEntry) r.username = snap->username(snap->credentials[b.credential]);
      // The id comes from the snapshot the binding was answered under; realm ids can shift when
      // the configuration's realms change, so never index past this snapshot's table.
      if (b.realm < snap->realms.names.size()) r.realm = snap->realms.names[b.realm];
      rows.push_back(std::move(r));
    }
  }
  return render_register_status(rows, json);
}

std::string Daemon::show_statistics(bool json) {
  const reg::Snapshot* snap = current_.load(std::memory_order_acquire);
  std::vector<const reg::WorkerCounters*> wc;
  for (const auto& w : workers_) wc.push_back(&w->counters());
  return render_statistics(*snap, wc, json);
}

std::string Daemon::show_registrars(bool json) {
  const reg::Snapshot* snap = current_.load(std::memory_order_acquire);
  std::vector<RegistrarRow> rows;
  std::vector<reg::BindingStatus> buf;
  std::uint32_t registered[reg::kRegistrarSlots] = {}, total[reg::kRegistrarSlots] = {},
                inflight[reg::kRegistrarSlots] = {};
  for (auto& w : workers_) {
    std::uint64_t version = 0;
    if (!w->dump(buf, version, snap->plans[w->id()].size()) || version != snap->version) continue;
    for (const auto& b : buf) {
      if (b.registrar >= reg::kRegistrarSlots) continue;  // leaving a removed registrar
      ++total[b.registrar];
      if (b.seconds_left > 0) ++registered[b.registrar];
      if (b.state == reg::BindingState::registering || b.state == reg::BindingState::unregistering) ++inflight[b.registrar];
    }
  }
  for (const auto& [index, r] : cfg_.sip_ua.registrars) {
    if (index < 1 || index > reg::kRegistrarSlots) continue;
    const int slot = index - 1;
    RegistrarRow row;
    row.index = index;
    row.address = r.address.host + (r.address.port ? ":" + std::to_string(r.address.port) : "");
    if (addrs_[slot]) row.resolved = ip_text(addrs_[slot]->addr) + ":" + std::to_string(dns_[slot].port ? dns_[slot].port : config::kDefaultSipPort);
    row.active = snap->registrars[slot].present;
    row.registered = registered[slot];
    row.total = total[slot];
    row.inflight = inflight[slot];
    row.rate = cfg_.sip_ua.registration_rate;
    row.dns_error = dns_[slot].last_error;
    // The latest failure any worker saw towards this registrar.
    const std::uint64_t now = monotonic_ms();
    std::uint64_t when = 0;
    for (const auto& w : workers_) {
      const reg::RegistrarCounters& c = w->counters().registrar[slot];
      if (c.last_failure_ms.get() > when) {
        when = c.last_failure_ms.get();
        row.last_failure_code = static_cast<std::uint16_t>(c.last_failure_code.get());
      }
    }
    if (when != 0) row.last_failure_ago_s = static_cast<std::int64_t>((now - std::min(now, when)) / 1000);
    rows.push_back(row);
  }
  return render_registrars(rows, json);
}

std::string Daemon::show_dataplane(bool json) {
  std::vector<DataplaneRow> rows;
  const reg::Snapshot* snap = current_.load(std::memory_order_acquire);
  for (const auto& w : workers_) {
    DataplaneRow r;
    r.worker = w->id();
    r.bindings = snap->plans[w->id()].size();
    r.rx = w->counters().rx_datagrams.get();
    r.tx = w->counters().tx_datagrams.get();
    r.dropped = w->counters().parse_errors.get() + w->counters().forged.get() + w->io_errors();
    r.heap_allocated = w->heap_allocated();
    r.heap_tracked = w->heap_tracked();
    w->io_counters(r.io);
    rows.push_back(r);
  }
  std::vector<PortRow> ports;
  if (dpdk_) {
    for (const io::PortStats& s : dpdk_->port_stats()) {
      ports.push_back(PortRow{s.port, s.name, s.link_up, s.ipackets, s.opackets, s.ierrors, s.imissed, s.oerrors,
                              s.rx_nombuf, s.flow_rules});
    }
  }
  PoolRow pool;
  if (dpdk_) std::tie(pool.size, pool.available) = dpdk_->pool_usage();
  return render_dataplane(rows, json, ports, pool);
}

}  // namespace regfront::daemon
