// Heap-call counting for the "workers never allocate" proofs (docs/rules.md). A test binary that
// links alloc_counter.cc has every global allocation entry point replaced: the malloc family
// (through glibc's __libc_* entry points, which glibc lets an application interpose), operator
// new/delete, and OpenSSL's memory functions. Calls are counted only while a Counting object is
// alive, so the control-plane work a test does around the data plane may allocate freely.
//
// It replaces what ASan intercepts too, so such binaries are built only without sanitizers.
#pragma once

#include <cstddef>

namespace regfront::test::alloc {

struct Counts {
  std::size_t malloc_family = 0;  // malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign
  std::size_t operator_new = 0;   // every operator new and new[]
  std::size_t openssl = 0;        // OpenSSL's CRYPTO_malloc/CRYPTO_realloc

  Counts operator-(const Counts& o) const {
    return {malloc_family - o.malloc_family, operator_new - o.operator_new, openssl - o.openssl};
  }
};

// The calls counted so far (while some Counting was alive).
Counts counts();

// True when OpenSSL accepted the counting functions (it refuses once it has allocated; the hook
// is installed by a constructor that runs before main).
bool openssl_hooked();

// Counts heap calls for its lifetime. Not nested, not per thread: one test at a time.
class Counting {
 public:
  Counting();
  ~Counting();
  Counting(const Counting&) = delete;
  Counting& operator=(const Counting&) = delete;
};

}  // namespace regfront::test::alloc
