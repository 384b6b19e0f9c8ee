// Control socket protocol: reply framing and the client side. See protocol.h.
#include "regfront/protocol/protocol.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace regfront::protocol {

std::string format_reply(const Reply& r) {
  std::string out = std::to_string(static_cast<int>(r.status)) + " " + std::to_string(r.payload.size()) + " " +
                    r.prompt + "\n";
  out += r.payload;
  return out;
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

bool Client::connect(const std::string& socket_path, std::string& err) {
  sockaddr_un sun{};
  if (socket_path.size() >= sizeof sun.sun_path) {
    err = "socket path too long";
    return false;
  }
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    err = std::strerror(errno);
    ::close(fd_);
    fd_ = -1;
    return false;
  }
  return true;
}

bool Client::request(std::string_view verb, std::string_view line, Reply& out, std::string& err) {
  if (fd_ < 0) {
    err = "not connected";
    return false;
  }
  std::string req(verb);
  if (!line.empty()) {
    req += ' ';
    req += line;
  }
  req += '\n';
  for (std::size_t off = 0; off < req.size();) {
    const ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      err = n < 0 ? std::strerror(errno) : "connection closed";
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  // Header: STATUS LENGTH PROMPT\n
  auto fill = [&]() -> bool {
    char buf[65536];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n <= 0) {
      err = n < 0 ? std::strerror(errno) : "connection closed by regfrontd";
      return false;
    }
    buffer_.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  std::size_t nl;
  while ((nl = buffer_.find('\n')) == std::string::npos) {
    if (!fill()) return false;
  }
  const std::string header = buffer_.substr(0, nl);
  buffer_.erase(0, nl + 1);
  char* end = nullptr;
  const long status = std::strtol(header.c_str(), &end, 10);
  const unsigned long long length = std::strtoull(end, &end, 10);
  if (status < 0 || status > 2 || *end != ' ') {
    err = "malformed reply from regfrontd";
    return false;
  }
  out.status = static_cast<ReplyStatus>(status);
  out.prompt.assign(end + 1);
  while (buffer_.size() < length) {
    if (!fill()) return false;
  }
  out.payload = buffer_.substr(0, length);
  buffer_.erase(0, length);
  return true;
}

}  // namespace regfront::protocol
