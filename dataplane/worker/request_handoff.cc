// Requests handed between socket workers (see regfront/worker/request_handoff.h).
#include "regfront/worker/request_handoff.h"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstring>

namespace regfront::worker {

RequestHandoff::RequestHandoff(std::uint32_t workers)
    : workers_(workers), rings_(workers * workers), scratch_(workers), wakers_(new Waker[workers]) {
  for (std::uint32_t from = 0; from < workers; ++from) {
    for (std::uint32_t to = 0; to < workers; ++to) {
      if (from != to) rings_[from * workers + to] = std::make_unique<Ring>();
    }
  }
  for (std::uint32_t w = 0; w < workers; ++w) wakers_[w].fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
}

RequestHandoff::~RequestHandoff() {
  for (std::uint32_t w = 0; w < workers_; ++w) {
    if (wakers_[w].fd >= 0) ::close(wakers_[w].fd);
  }
}

// The sleeping flag and the rings form a Dekker pair: the sleeper stores the flag, then looks at
// the rings; a sender stores into a ring, then looks at the flag. With a full fence between
// each store and load, at least one of them sees the other's store, so a request is never left
// behind a sleeper that nobody wakes.
bool RequestHandoff::sleep_begin(std::uint32_t to) {
  wakers_[to].sleeping.store(true, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_seq_cst);
  for (std::uint32_t from = 0; from < workers_; ++from) {
    if (from != to && !rings_[from * workers_ + to]->empty()) return true;
  }
  return false;
}

void RequestHandoff::sleep_end(std::uint32_t to, bool signalled) {
  wakers_[to].sleeping.store(false, std::memory_order_relaxed);
  if (signalled) {
    std::uint64_t count;
    [[maybe_unused]] const ssize_t r = ::read(wakers_[to].fd, &count, sizeof count);  // EAGAIN: consumed
  }
}

bool RequestHandoff::push(std::uint32_t from, std::uint32_t to, std::string_view d, const sockaddr_storage& src,
                          bool* woke) {
  if (from >= workers_ || to >= workers_ || from == to || d.size() > kMaxRequest) return false;
  // The slot is built in place of the sender's scratch (the sender never drains into it while
  // it pushes: both run on the sending worker's thread).
  Slot& s = scratch_[from];
  s.src = src;
  s.src_len = src.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  s.len = static_cast<std::uint32_t>(d.size());
  std::memcpy(s.data, d.data(), d.size());
  if (!rings_[from * workers_ + to]->push(s)) return false;
  std::atomic_thread_fence(std::memory_order_seq_cst);
  Waker& w = wakers_[to];
  if (w.fd >= 0 && w.sleeping.load(std::memory_order_relaxed)) {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t r = ::write(w.fd, &one, sizeof one);  // fails only at 2^64 - 1 pending
    if (woke != nullptr) *woke = true;
  }
  return true;
}

}  // namespace regfront::worker
