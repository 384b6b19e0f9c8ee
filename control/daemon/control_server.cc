// The control socket (see regfront/daemon/control_server.h).
#include "regfront/daemon/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "regfront/common/clock.h"
#include "regfront/daemon/log.h"

namespace regfront::daemon {

ControlServer::ControlServer(Handler& h, Limits limits, std::function<std::uint64_t()> clock)
    : handler_(h), limits_(limits), clock_(clock ? std::move(clock) : std::function<std::uint64_t()>(monotonic_ms)) {}

ControlServer::~ControlServer() {
  for (const auto& c : clients_) ::close(c->fd);
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (!path_.empty()) ::unlink(path_.c_str());
}

std::uint64_t ControlServer::now() const { return clock_(); }

Status ControlServer::open(const std::string& path) {
  sockaddr_un sun{};
  if (path.size() >= sizeof sun.sun_path) return Status::invalid_argument("control socket path too long: " + path);
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty()) ::mkdir(dir.c_str(), 0750);
  // Only a stale socket is replaced: a mistyped --control-socket naming a file (the
  // startup-config, say) must not delete it.
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0 && !S_ISSOCK(st.st_mode)) {
    return Status::already_exists("control socket " + path + ": exists and is not a socket");
  }
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return Status::internal("control socket: " + std::string(std::strerror(errno)));
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  ::unlink(sun.sun_path);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    return Status::unavailable("control socket " + path + ": " + std::strerror(errno));
  }
  // From here the file is ours: the destructor removes it, whatever happens next.
  path_ = path;
  if (::listen(listen_fd_, 16) != 0) return Status::unavailable("control socket " + path + ": " + std::strerror(errno));
  // Mode 0660: only root and the socket's group (operators) get in.
  ::chmod(sun.sun_path, 0660);
  return {};
}

bool ControlServer::wants_input(const Client& c) const {
  return !c.closing && !c.peer_closed && c.out.size() < kOutputHighWater && c.in.size() <= protocol::kMaxRequest;
}

void ControlServer::add_pollfds(std::vector<pollfd>& fds) const {
  // While accepting is paused the listening socket is polled for nothing: a pending connection
  // would otherwise wake poll() at once, again and again (the spin of EMFILE).
  fds.push_back(pollfd{listen_fd_, static_cast<short>(accept_paused() ? 0 : POLLIN), 0});
  for (const auto& c : clients_) {
    short events = wants_input(*c) ? POLLIN : 0;
    if (!c->out.empty()) events |= POLLOUT;
    fds.push_back(pollfd{c->fd, events, 0});
  }
}

void ControlServer::serve(const pollfd* fds) {
  const bool accept_ready = (fds[0].revents & POLLIN) != 0 && !accept_paused();
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (fds[1 + i].revents != 0) serve_client(*clients_[i], fds[1 + i].revents);
  }
  const std::uint64_t t = now();
  const std::uint64_t idle_ms = std::uint64_t{limits_.idle_timeout_s} * 1000;
  for (const auto& c : clients_) {
    if (c->closed || idle_ms == 0 || t - c->last_progress_ms < idle_ms) continue;
    // Nothing read and nothing sent for the whole timeout: an idle operator, or a client that
    // does not read what it asked for (its replies, at most kOutputHighWater + one, go with it).
    c->closed = true;
    ++(c->out.empty() ? counters_.idle_timeouts : counters_.slow_readers);
  }
  // The handler hears of each closed session before any goes: what it logs then may be queued
  // to the other sessions (terminal monitor) while the list is whole.
  for (const auto& c : clients_) {
    if (c->closed) handler_.closed(c->session);
  }
  std::erase_if(clients_, [](const std::unique_ptr<Client>& c) {
    if (!c->closed) return false;
    ::close(c->fd);
    return true;
  });
  if (accept_ready) accept_one();
}

void ControlServer::accept_one() {
  const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  if (fd < 0) {
    const int e = errno;
    if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
      ++counters_.accept_errors;
      accept_resume_ms_ = now() + kAcceptBackoffMs;
      log("control socket: accept: %s; no new session for %llu ms", std::strerror(e),
          static_cast<unsigned long long>(kAcceptBackoffMs));
    }
    return;  // EAGAIN, ECONNABORTED, EINTR: nothing to wait for
  }
  if (clients_.size() >= limits_.max_sessions) {
    // One framed refusal, so that regfront-cli prints it as the answer to its first request
    // (and exits 1); then the connection closes.
    ++counters_.refused_full;
    const std::string refusal = protocol::format_reply(
        {protocol::ReplyStatus::refused, "",
         "% Too many control sessions (" + std::to_string(limits_.max_sessions) + " at most); try again later\n"});
    (void)!::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    ::shutdown(fd, SHUT_WR);
    // What the client already sent is read away, so that closing does not reset the
    // connection before it has read the refusal.
    char buf[4096];
    for (int i = 0; i < 16 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) > 0; ++i) {
    }
    ::close(fd);
    return;
  }
  ++counters_.accepted;
  auto c = std::make_unique<Client>();
  c->fd = fd;
  c->session.mode = config::Mode::user_exec;
  c->last_progress_ms = now();
  c->last_request_ms = c->last_progress_ms;
  // The session's line (vtyN): the lowest number no open session has, as IOS's lines (show
  // users, and the log's "Configured from vtyN (uid U)").
  const auto taken = [&](std::uint32_t line) {
    return std::any_of(clients_.begin(), clients_.end(),
                       [&](const std::unique_ptr<Client>& o) { return o->session.line == line; });
  };
  while (taken(c->session.line)) ++c->session.line;
  c->vty = c->session.line;
  c->session.origin = "vty" + std::to_string(c->vty);
  ucred cred{};
  socklen_t cred_len = sizeof cred;
  if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cred_len) == 0) {
    c->uid = static_cast<long>(cred.uid);
    c->pid = static_cast<long>(cred.pid);
    c->session.origin += " (uid " + std::to_string(cred.uid) + ")";
  }
  clients_.push_back(std::move(c));
}

std::vector<ControlServer::SessionView> ControlServer::session_views() const {
  std::vector<SessionView> out;
  const std::uint64_t t = now();
  for (const auto& c : clients_) out.push_back({c->session.line, c->uid, c->pid, t - c->last_request_ms, c->session.mode});
  return out;
}

bool ControlServer::monitor(std::size_t i, std::string_view text) {
  Client& c = *clients_[i];
  if (c.closing || c.closed) return false;
  if (c.out.size() >= kMonitorHighWater) {
    ++c.monitor_lost;
    ++counters_.monitor_dropped;
    return false;
  }
  protocol::Reply r{protocol::ReplyStatus::monitor, "", {}};
  if (c.monitor_lost != 0) {
    r.payload =
        "%" + std::to_string(c.monitor_lost) + " debug messages lost (this session read too slowly)\n";
    c.monitor_lost = 0;
  }
  r.payload.append(text);
  c.out += protocol::format_reply(r);
  return true;
}

ControlServer::Counters ControlServer::counters() const {
  Counters out = counters_;
  out.pending_output = 0;
  for (const auto& c : clients_) out.pending_output += c->out.size();
  return out;
}

void ControlServer::serve_client(Client& c, short revents) {
  if ((revents & (POLLIN | POLLHUP | POLLERR)) != 0 && wants_input(c)) {
    char buf[65536];
    // Read up to one request line past the limit: enough to tell a line too long, and no more
    // however much the client sends.
    while (c.in.size() <= protocol::kMaxRequest) {
      const ssize_t n = ::read(c.fd, buf, sizeof buf);
      if (n > 0) {
        c.in.append(buf, static_cast<std::size_t>(n));
        c.last_progress_ms = now();
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EINTR)) c.peer_closed = true;
      if (n < 0 && errno == EINTR) continue;
      break;
    }
  }
  // Run requests while the output is under the mark, send, and again while sending frees room.
  for (;;) {
    run_requests(c);
    if (c.out.empty()) break;
    const ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      c.closed = true;
      return;
    }
    c.last_progress_ms = now();
    c.out.erase(0, static_cast<std::size_t>(n));
    if (!c.out.empty()) break;  // the socket is full: POLLOUT says when to go on
  }
  const bool more = !c.closing && c.in.find('\n') != std::string::npos;
  if (c.out.empty() && (c.closing || (c.peer_closed && !more))) c.closed = true;
}

void ControlServer::run_requests(Client& c) {
  std::size_t nl;
  while (!c.closing && c.out.size() < kOutputHighWater && (nl = c.in.find('\n')) != std::string::npos) {
    std::string line = c.in.substr(0, nl);
    c.in.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    dispatch(c, line);
  }
  if (!c.closing && c.in.size() > protocol::kMaxRequest && c.in.find('\n') == std::string::npos) {
    ++counters_.lines_too_long;
    c.in.clear();
    c.out += protocol::format_reply({protocol::ReplyStatus::refused, "", "% Line too long.\n"});
    c.closing = true;
  }
}

void ControlServer::dispatch(Client& c, const std::string& line) {
  const auto sp = line.find(' ');
  const std::string_view verb = std::string_view(line).substr(0, sp);
  const std::string_view arg = sp == std::string::npos ? std::string_view() : std::string_view(line).substr(sp + 1);
  if (verb != "exec" && verb != "help" && verb != "complete" && verb != "prompt" && verb != "terminal") {
    c.out += protocol::format_reply(
        {protocol::ReplyStatus::refused, "", "% Unknown request " + std::string(verb) + "\n"});
    c.closing = true;
    return;
  }
  c.last_request_ms = now();
  const protocol::Reply reply = handler_.handle(c.session, verb, arg);
  if (reply.status == protocol::ReplyStatus::ended) c.closing = true;
  c.out += protocol::format_reply(reply);
}

}  // namespace regfront::daemon
