// Control socket protocol: reply framing, the default socket path and the client side. See
// regfront/protocol/protocol.h.
#include "regfront/protocol/protocol.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace regfront::protocol {

namespace {

// The system's reason for the last failed call, as a Status of the code that fits.
Status errno_status(int e) {
  std::string text = std::strerror(e);
  switch (e) {
    case ENOENT:
    case ENOTDIR:
      return Status::not_found(std::move(text));
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case EAGAIN:
    case ETIMEDOUT:
      return Status::unavailable(std::move(text));
    default:
      return Status::internal(std::move(text));
  }
}

// A decimal number at the front of `s`, up to the next space; false when there is none.
template <class T>
bool take_number(std::string_view& s, T& out) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || end == s.data() || end == s.data() + s.size() || *end != ' ') return false;
  s.remove_prefix(static_cast<std::size_t>(end - s.data()) + 1);
  return true;
}

}  // namespace

std::string default_control_socket() {
  if (::geteuid() == 0) return "/run/regfront/regfrontd.sock";
  return "/tmp/regfrontd-" + std::to_string(::geteuid()) + ".sock";
}

std::string default_client_socket() {
  constexpr const char* kService = "/run/regfront/regfrontd.sock";
  struct stat st {};
  if (::stat(kService, &st) == 0 && S_ISSOCK(st.st_mode)) return kService;
  // Not in the group: connecting there says "Permission denied", which is the truth.
  if (errno == EACCES) return kService;
  return default_control_socket();
}

std::string format_reply(const Reply& r) {
  std::string out = std::to_string(static_cast<int>(r.status)) + " " + std::to_string(r.payload.size()) + " " +
                    r.prompt + "\n";
  out += r.payload;
  return out;
}

StatusOr<std::size_t> parse_reply_header(std::string_view buffer, Reply& out, std::size_t& length) {
  const std::size_t nl = buffer.find('\n');
  if (nl == std::string_view::npos) return std::size_t{0};
  std::string_view header = buffer.substr(0, nl);
  int status = 0;
  if (!take_number(header, status) || status < 0 || status > 3 || !take_number(header, length)) {
    return Status::invalid_argument("malformed reply from regfrontd");
  }
  out.status = static_cast<ReplyStatus>(status);
  out.prompt.assign(header);
  return nl + 1;
}

StatusOr<std::size_t> parse_reply(std::string_view buffer, Reply& out) {
  Reply head;
  std::size_t length = 0;
  StatusOr<std::size_t> took = parse_reply_header(buffer, head, length);
  if (!took.ok() || *took == 0) return took;
  if (buffer.size() - *took < length) return std::size_t{0};
  out.status = head.status;
  out.prompt = std::move(head.prompt);
  out.payload.assign(buffer.substr(*took, length));
  return *took + length;
}

Client::~Client() {
  if (fd_ >= 0) ::close(fd_);
}

Status Client::connect(const std::string& socket_path) {
  sockaddr_un sun{};
  if (socket_path.size() >= sizeof sun.sun_path) return Status::invalid_argument("socket path too long");
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return errno_status(errno);
  sun.sun_family = AF_UNIX;
  std::memcpy(sun.sun_path, socket_path.c_str(), socket_path.size() + 1);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sun), sizeof sun) != 0) {
    const int e = errno;
    ::close(fd);
    return errno_status(e);
  }
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
  buffer_.clear();
  return {};
}

Status Client::send_request(std::string_view verb, std::string_view line, std::optional<Reply>& early) {
  if (fd_ < 0) return Status::failed_precondition("not connected");
  std::string req(verb);
  if (!line.empty()) {
    req += ' ';
    req += line;
  }
  req += '\n';
  for (std::size_t off = 0; off < req.size();) {
    const ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      const Status failed = n < 0 ? errno_status(errno) : Status::unavailable("connection closed");
      // The daemon may have said why before it closed (too many sessions): that reply, if it
      // is there whole, is the answer.
      char buf[4096];
      for (ssize_t r; (r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT)) > 0;) buffer_.append(buf, static_cast<std::size_t>(r));
      Reply out;
      StatusOr<std::size_t> took = parse_reply(buffer_, out);
      if (took.ok() && *took > 0) {
        buffer_.erase(0, *took);
        early = std::move(out);
        return {};
      }
      return failed;
    }
    off += static_cast<std::size_t>(n);
  }
  return {};
}

StatusOr<Reply> Client::request(std::string_view verb, std::string_view line) {
  std::optional<Reply> early;
  if (Status s = send_request(verb, line, early); !s.ok()) return s;
  if (early) return std::move(*early);
  Reply out;
  for (;;) {
    StatusOr<std::size_t> took = parse_reply(buffer_, out);
    if (!took.ok()) return took.status();
    if (*took > 0) {
      buffer_.erase(0, *took);
      if (out.status == ReplyStatus::monitor) {  // debug output: not the answer
        if (on_monitor_) on_monitor_(out.payload);
        continue;
      }
      return out;
    }
    char buf[65536];
    const ssize_t n = ::read(fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno_status(errno) : Status::unavailable("connection closed by regfrontd");
    buffer_.append(buf, static_cast<std::size_t>(n));
  }
}

StatusOr<Reply> Client::request_streamed(std::string_view verb, std::string_view line, const Sink& sink) {
  std::optional<Reply> early;
  if (Status s = send_request(verb, line, early); !s.ok()) return s;
  if (early) {
    sink(*early, early->payload);
    early->payload.clear();
    return std::move(*early);
  }
  Reply head;
  std::size_t length = 0;
  char buf[65536];
  const auto fill = [&](std::size_t at_most) -> Status {
    for (;;) {
      const ssize_t n = ::read(fd_, buf, at_most);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return n < 0 ? errno_status(errno) : Status::unavailable("connection closed by regfrontd");
      buffer_.append(buf, static_cast<std::size_t>(n));
      return {};
    }
  };
  for (;;) {  // the header line (a prompt: short; a longer line is no reply of ours)
    StatusOr<std::size_t> took = parse_reply_header(buffer_, head, length);
    if (!took.ok()) return took.status();
    if (*took > 0 && head.status == ReplyStatus::monitor) {
      // Debug output before the reply: whole (it is bounded by the daemon), then on.
      Reply m;
      StatusOr<std::size_t> whole = parse_reply(buffer_, m);
      if (!whole.ok()) return whole.status();
      if (*whole > 0) {
        buffer_.erase(0, *whole);
        if (on_monitor_) on_monitor_(m.payload);
        continue;
      }
    } else if (*took > 0) {
      buffer_.erase(0, *took);
      break;
    }
    if (buffer_.size() > kMaxRequest && head.status != ReplyStatus::monitor) {
      return Status::invalid_argument("malformed reply from regfrontd");
    }
    if (Status s = fill(sizeof buf); !s.ok()) return s;
  }
  // The payload: what is buffered, then read no further than its end.
  std::size_t left = length;
  bool called = false;
  while (left > 0) {
    if (buffer_.empty()) {
      if (Status s = fill(std::min(left, sizeof buf)); !s.ok()) return s;
    }
    const std::size_t n = std::min(left, buffer_.size());
    sink(head, std::string_view(buffer_).substr(0, n));
    called = true;
    buffer_.erase(0, n);
    left -= n;
  }
  if (!called) sink(head, {});
  return head;
}

bool Client::poll_monitor(int timeout_ms) {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) > 0) {
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0) return false;
    if (n > 0) buffer_.append(buf, static_cast<std::size_t>(n));
  }
  for (;;) {
    Reply out;
    StatusOr<std::size_t> took = parse_reply(buffer_, out);
    if (!took.ok()) return false;
    if (*took == 0 || out.status != ReplyStatus::monitor) return true;  // a reply stays for request()
    buffer_.erase(0, *took);
    if (on_monitor_) on_monitor_(out.payload);
  }
}

}  // namespace regfront::protocol
