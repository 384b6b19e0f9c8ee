// Kernel UDP backend: recvmmsg/sendmmsg bursts on one non-blocking socket per worker.
#include "regfront/io/socket_io.h"

#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace regfront::io {

SocketIo::SocketIo()
    : rx_buf_(kBurst * kRxBufferSize), rx_msgs_(kBurst), rx_iov_(kBurst), rx_src_(kBurst), tx_msgs_(kBurst),
      tx_iov_(kBurst) {
  for (std::size_t i = 0; i < kBurst; ++i) {
    rx_iov_[i] = iovec{rx_buf_.data() + i * kRxBufferSize, kRxBufferSize};
    std::memset(&rx_msgs_[i], 0, sizeof(mmsghdr));
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

SocketIo::~SocketIo() {
  if (fd_ >= 0) ::close(fd_);
}

Status SocketIo::open(const sockaddr_storage& local, socklen_t len) {
  fd_ = ::socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return Status::internal(std::string("socket: ") + std::strerror(errno));
  // Registration storms answer in bursts: a deep receive buffer absorbs them.
  int size = 8 << 20;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  ::setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  // ICMP errors about our datagrams (an unreachable registrar) are queued for us to read, so
  // its transactions fail fast instead of retransmitting to nobody.
  int on = 1;
  if (local.ss_family == AF_INET) {
    ::setsockopt(fd_, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
  } else {
    ::setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
  }
  if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), len) != 0) {
    const int e = errno;
    ::close(fd_);
    fd_ = -1;
    return e == EADDRINUSE ? Status::already_exists(std::string("bind: ") + std::strerror(e))
                           : Status::unavailable(std::string("bind: ") + std::strerror(e));
  }
  return {};
}

std::size_t SocketIo::receive() {
  for (std::size_t i = 0; i < kBurst; ++i) {
    rx_msgs_[i].msg_hdr.msg_flags = 0;
    rx_msgs_[i].msg_hdr.msg_name = &rx_src_[i];  // the sender: where a request's answers go
    rx_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
  }
  const int n = ::recvmmsg(fd_, rx_msgs_.data(), kBurst, MSG_DONTWAIT, nullptr);
  rx_calls.inc();
  if (n <= 0) return 0;
  rx_datagrams.inc(static_cast<std::uint64_t>(n));
  for (int i = 0; i < n; ++i) {
    if (rx_msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) rx_truncated.inc();
  }
  return static_cast<std::size_t>(n);
}

bool SocketIo::next_error(sockaddr_storage& dst, std::size_t& quoted_len) {
  for (;;) {
    char control[512];
    iovec iov{err_buf_, sizeof err_buf_};
    msghdr msg{};
    msg.msg_name = &dst;
    msg.msg_namelen = sizeof dst;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    // The data is the quoted UDP payload of our datagram (as much as the ICMP carried).
    const ssize_t got = ::recvmsg(fd_, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (got < 0) return false;
    quoted_len = static_cast<std::size_t>(got);
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
      const bool v4 = c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR;
      const bool v6 = c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR;
      if (!v4 && !v6) continue;
      sock_extended_err ee;
      std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
      // Destination unreachable (ICMP type 3 / ICMPv6 type 1), whatever the code: the kernel
      // reports it against the datagram's destination, which msg_name holds.
      if ((ee.ee_origin == SO_EE_ORIGIN_ICMP && ee.ee_type == 3) ||
          (ee.ee_origin == SO_EE_ORIGIN_ICMP6 && ee.ee_type == 1)) {
        return true;
      }
    }
    // Another kind of error (e.g. a local one): skip it and look at the next.
  }
}

std::string_view SocketIo::datagram(std::size_t i) const {
  return {static_cast<const char*>(rx_iov_[i].iov_base), rx_msgs_[i].msg_len};
}

void SocketIo::flush(reg::TxQueue& q) {
  std::size_t done = 0;
  const std::size_t total = q.size();
  while (done < total) {
    const std::size_t n = std::min(kBurst, total - done);
    for (std::size_t i = 0; i < n; ++i) {
      reg::TxQueue::Item& it = q[done + i];
      tx_iov_[i] = iovec{const_cast<char*>(it.data), it.len};  // sendmmsg only reads it
      std::memset(&tx_msgs_[i], 0, sizeof(mmsghdr));
      tx_msgs_[i].msg_hdr.msg_name = &it.dst;
      tx_msgs_[i].msg_hdr.msg_namelen = it.dst_len;
      tx_msgs_[i].msg_hdr.msg_iov = &tx_iov_[i];
      tx_msgs_[i].msg_hdr.msg_iovlen = 1;
    }
    const int sent = ::sendmmsg(fd_, tx_msgs_.data(), static_cast<unsigned>(n), MSG_DONTWAIT);
    tx_calls.inc();
    if (sent <= 0) {
      // The datagram at the head was refused (unreachable, buffer full): count it and move on;
      // the transaction's Timer E retransmits it.
      tx_errors.inc();
      done += 1;
      continue;
    }
    done += static_cast<std::size_t>(sent);
    tx_datagrams.inc(static_cast<std::uint64_t>(sent));
  }
  q.clear();
}

}  // namespace regfront::io
