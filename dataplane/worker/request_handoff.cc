// Requests handed between socket workers (see regfront/worker/request_handoff.h).
#include "regfront/worker/request_handoff.h"

#include <netinet/in.h>

#include <cstring>

namespace regfront::worker {

RequestHandoff::RequestHandoff(std::uint32_t workers) : workers_(workers), rings_(workers * workers), scratch_(workers) {
  for (std::uint32_t from = 0; from < workers; ++from) {
    for (std::uint32_t to = 0; to < workers; ++to) {
      if (from != to) rings_[from * workers + to] = std::make_unique<Ring>();
    }
  }
}

bool RequestHandoff::push(std::uint32_t from, std::uint32_t to, std::string_view d, const sockaddr_storage& src) {
  if (from >= workers_ || to >= workers_ || from == to || d.size() > kMaxRequest) return false;
  // The slot is built in place of the sender's scratch (the sender never drains into it while
  // it pushes: both run on the sending worker's thread).
  Slot& s = scratch_[from];
  s.src = src;
  s.src_len = src.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  s.len = static_cast<std::uint32_t>(d.size());
  std::memcpy(s.data, d.data(), d.size());
  return rings_[from * workers_ + to]->push(s);
}

}  // namespace regfront::worker
