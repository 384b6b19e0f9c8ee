// regfront/worker/request_handoff.h — requests handed from the worker that received them to the
// worker that owns their call, over the kernel-socket backend.
//
// Calls arrive at the listen port (worker 0's socket) but belong to the worker of their number
// (the relay's owner()), which holds the number's bindings. Over DPDK the hand-off rings of the
// I/O layer carry them (io::HandoffFabric); over sockets these rings do: one lock-free SPSC ring
// per ordered pair of workers, of fixed slots, made on the control thread before the workers
// start. A full ring or a request over a slot refuses the push; the sender then handles the
// request itself (its relay answers, no binding needed for most replies) and counts it.
// A socket worker sleeps in ppoll when idle; a request pushed to a sleeping worker wakes it
// through its eventfd (one write by the sender, only then), so a call handed over waits for the
// owner's wake-up, not for its next timeout (up to 5 ms).
//
//   RequestHandoff rings(workers);                 // control thread, set-up
//   rings.push(from, to, datagram, src);           // worker `from`
//   rings.drain(to, [&](std::string_view d, const sockaddr_storage& src, socklen_t len) { … });
//   if (!rings.sleep_begin(to)) ppoll({socket, rings.wake_fd(to)}, …);   // worker `to`
//   rings.sleep_end(to, wake_fd_was_readable);
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "regfront/common/spsc_ring.h"

namespace regfront::worker {

class RequestHandoff {
 public:
  static constexpr std::size_t kMaxRequest = 4096;  // an INVITE with its SDP, as the relay keeps it
  static constexpr std::uint32_t kSlots = 64;        // per ordered pair of workers

  explicit RequestHandoff(std::uint32_t workers);
  ~RequestHandoff();
  RequestHandoff(const RequestHandoff&) = delete;
  RequestHandoff& operator=(const RequestHandoff&) = delete;

  // Worker `from`: copies `datagram` and its source onto the ring to `to`. False when the ring
  // is full or the request too large. When `to` sleeps, it is woken (and *woke is set).
  bool push(std::uint32_t from, std::uint32_t to, std::string_view datagram, const sockaddr_storage& src,
            bool* woke = nullptr);

  // Worker `to`, about to sleep: from now on a push wakes it. True when a request already
  // waits (then it must not sleep; sleep_end(to, false) still follows).
  bool sleep_begin(std::uint32_t to);
  // Worker `to`, awake again: pushes stop waking it; `signalled` (its wake_fd was readable)
  // consumes the wake-up.
  void sleep_end(std::uint32_t to, bool signalled);
  // The eventfd worker `to` adds to its ppoll set (-1 when it could not be made: the worker
  // then wakes at its timeout, as without hand-off wake-ups).
  int wake_fd(std::uint32_t to) const { return wakers_[to].fd; }

  // Worker `to`: calls f(datagram, src, src_len) for each request waiting for it; returns how
  // many. The views are valid during the call only.
  template <class F>
  std::size_t drain(std::uint32_t to, F&& f) {
    std::size_t n = 0;
    for (std::uint32_t from = 0; from < workers_; ++from) {
      if (from == to) continue;
      Ring& r = *rings_[from * workers_ + to];
      while (r.pop(scratch_[to])) {
        const Slot& s = scratch_[to];
        f(std::string_view(s.data, s.len), s.src, s.src_len);
        ++n;
      }
    }
    return n;
  }

 private:
  struct Slot {
    sockaddr_storage src;
    socklen_t src_len;
    std::uint32_t len;
    char data[kMaxRequest];
  };
  using Ring = SpscRing<Slot, kSlots>;
  std::uint32_t workers_;
  std::vector<std::unique_ptr<Ring>> rings_;  // [from * workers + to]; the diagonal is unused
  std::vector<Slot> scratch_;                 // per receiving worker: where a popped slot lands
  struct alignas(64) Waker {
    std::atomic<bool> sleeping{false};
    int fd = -1;
  };
  std::unique_ptr<Waker[]> wakers_;           // per receiving worker
};

}  // namespace regfront::worker
