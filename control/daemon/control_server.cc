// The control socket (see regfront/daemon/control_server.h).
#include "regfront/daemon/control_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace regfront::daemon {

ControlServer::~ControlServer() {
  for (const auto& c : clients_) ::close(c->fd);
  if (listen_fd_ >= 0) {
    ::close(listen_fd_);
    ::unlink(path_.c_str());
  }
}

Status ControlServer::open(const std::string& path) {
  sockaddr_un sun{};
  if (path.size() >= sizeof sun.sun_path) return Status::invalid_argument("control socket path too long: " + path);
  const std::string dir = path.substr(0, path.rfind('/'));
  if (!dir.empty()) ::mkdir(dir.c_str(), 0750);
  listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (listen_fd_ < 0) return Status::internal("control socket: " + std::string(std::strerror(errno)));
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, path.c_str(), path.size() + 1);
  ::unlink(sun.sun_path);
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0 || ::listen(listen_fd_, 16) != 0) {
    return Status::unavailable("control socket " + path + ": " + std::strerror(errno));
  }
  path_ = path;
  // Mode 0660: only root and the socket's group (operators) get in.
  ::chmod(sun.sun_path, 0660);
  return {};
}

void ControlServer::add_pollfds(std::vector<pollfd>& fds) const {
  fds.push_back(pollfd{listen_fd_, POLLIN, 0});
  for (const auto& c : clients_) {
    fds.push_back(pollfd{c->fd, static_cast<short>(c->out.empty() ? POLLIN : (POLLIN | POLLOUT)), 0});
  }
}

void ControlServer::serve(const pollfd* fds) {
  const bool accept_ready = (fds[0].revents & POLLIN) != 0;
  for (std::size_t i = 0; i < clients_.size(); ++i) {
    if (fds[1 + i].revents != 0) serve_client(*clients_[i], fds[1 + i].revents);
  }
  std::erase_if(clients_, [](const std::unique_ptr<Client>& c) {
    if (!c->closed) return false;
    ::close(c->fd);
    return true;
  });
  if (accept_ready) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      auto c = std::make_unique<Client>();
      c->fd = fd;
      c->session.mode = config::Mode::user_exec;
      clients_.push_back(std::move(c));
    }
  }
}

void ControlServer::serve_client(Client& c, short revents) {
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
      dispatch(c, line);
    }
    if (c.in.size() > protocol::kMaxRequest) {
      c.out += protocol::format_reply({protocol::ReplyStatus::refused, "", "% Line too long.\n"});
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

void ControlServer::dispatch(Client& c, const std::string& line) {
  const auto sp = line.find(' ');
  const std::string_view verb = std::string_view(line).substr(0, sp);
  const std::string_view arg = sp == std::string::npos ? std::string_view() : std::string_view(line).substr(sp + 1);
  if (verb != "exec" && verb != "help" && verb != "complete" && verb != "prompt") {
    c.out += protocol::format_reply(
        {protocol::ReplyStatus::refused, "", "% Unknown request " + std::string(verb) + "\n"});
    c.closing = true;
    return;
  }
  const protocol::Reply reply = handler_.handle(c.session, verb, arg);
  if (reply.status == protocol::ReplyStatus::ended) c.closing = true;
  c.out += protocol::format_reply(reply);
}

}  // namespace regfront::daemon
