// regfront/io/socket_io.h — the kernel-socket backend: one UDP socket per worker, datagrams in
// bursts with recvmmsg and out in bursts with sendmmsg. The embedded default; runs unprivileged.
//
//   SocketIo io;
//   if (Status s = io.open(local_addr, len); !s.ok()) …;
//   io.rx_burst([&](std::string_view d, const sockaddr_storage& src, socklen_t len) { … });
//   io.flush(tx);
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/common/counter.h"
#include "regfront/common/status.h"
#include "regfront/reg/engine.h"

struct mmsghdr;

namespace regfront::io {

class SocketIo {
 public:
  static constexpr std::size_t kBurst = 32;
  static constexpr std::size_t kRxBufferSize = 65536;  // a whole UDP datagram

  SocketIo();
  ~SocketIo();
  SocketIo(const SocketIo&) = delete;
  SocketIo& operator=(const SocketIo&) = delete;

  // Binds a non-blocking UDP socket to `local`.
  Status open(const sockaddr_storage& local, socklen_t len);
  int fd() const { return fd_; }

  // Receives up to kBurst datagrams without blocking and calls f(view, source, source_len)
  // for each; returns the count. Views are valid until the next rx_burst.
  template <class F>
  std::size_t rx_burst(F&& f) {
    const std::size_t n = receive();
    for (std::size_t i = 0; i < n; ++i) f(datagram(i), rx_src_[i], rx_msgs_[i].msg_hdr.msg_namelen);
    return n;
  }

  // ICMP errors the kernel queued for our datagrams (IP_RECVERR): calls f(destination, quoted)
  // for each destination/port unreachable, with the address our datagram was sent to and the
  // part of its UDP payload the ICMP message quoted (the kernel matched the quoted addresses and
  // ports to this socket; the engine matches the payload to a transaction). The view ends at
  // the next call. Returns the count. Cheap when the queue is empty (one failing recvmsg).
  template <class F>
  std::size_t drain_errors(F&& f) {
    std::size_t n = 0;
    sockaddr_storage dst;
    std::size_t len = 0;
    while (next_error(dst, len)) {
      f(dst, std::string_view(err_buf_, len));
      ++n;
    }
    return n;
  }

  // Sends everything queued (sendmmsg in chunks of kBurst) and empties the queue.
  void flush(reg::TxQueue& q);
  // Adapter for TxQueue's flush hook: ctx is the SocketIo.
  static void flush_hook(void* ctx, reg::TxQueue& q) { static_cast<SocketIo*>(ctx)->flush(q); }

  Counter tx_errors;   // datagrams the kernel refused
  Counter rx_truncated;
  Counter rx_datagrams;  // received (every recvmmsg's count)
  Counter rx_calls;      // recvmmsg calls
  Counter tx_datagrams;  // accepted by the kernel
  Counter tx_calls;      // sendmmsg calls

 private:
  std::size_t receive();
  // The next destination unreachable: its destination, and the quoted payload's length in
  // err_buf_ (truncated to the buffer: the engine needs only its start).
  bool next_error(sockaddr_storage& dst, std::size_t& quoted_len);
  char err_buf_[512];
  std::string_view datagram(std::size_t i) const;

  int fd_ = -1;
  std::vector<char> rx_buf_;
  std::vector<::mmsghdr> rx_msgs_;
  std::vector<::iovec> rx_iov_;
  std::vector<sockaddr_storage> rx_src_;
  std::vector<::mmsghdr> tx_msgs_;
  std::vector<::iovec> tx_iov_;
};

}  // namespace regfront::io
