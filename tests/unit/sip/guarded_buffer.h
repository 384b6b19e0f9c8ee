// tests/unit/sip/guarded_buffer.h — places a parser input so that it ends exactly where an
// unreadable page begins: any read past the end of the view faults (SIGSEGV) at once, without
// needing a sanitizer.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace regfront::sip::testing {

class GuardedBuffer {
 public:
  explicit GuardedBuffer(std::size_t capacity) {
    const auto page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    data_bytes_ = (capacity + page - 1) / page * page;
    if (data_bytes_ == 0) data_bytes_ = page;
    total_ = data_bytes_ + page;
    void* p = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    base_ = static_cast<char*>(p);
    if (mprotect(base_ + data_bytes_, page, PROT_NONE) != 0) std::abort();
  }
  ~GuardedBuffer() { munmap(base_, total_); }
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  // Copies `in` so that its last octet is the last readable octet; returns the placed view.
  std::string_view place(std::string_view in) {
    if (in.size() > data_bytes_) std::abort();
    char* dst = base_ + data_bytes_ - in.size();
    if (!in.empty()) std::memcpy(dst, in.data(), in.size());
    return {dst, in.size()};
  }

 private:
  char* base_ = nullptr;
  std::size_t data_bytes_ = 0;
  std::size_t total_ = 0;
};

}  // namespace regfront::sip::testing
