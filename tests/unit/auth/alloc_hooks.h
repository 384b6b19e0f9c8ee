// Allocation counters for the auth tests. alloc_hooks.cc installs OpenSSL memory functions
// (CRYPTO_set_mem_functions, before any OpenSSL call, from a high-priority constructor) and
// replaces the global operator new, so a test can assert that a loop allocated nothing.
#pragma once

#include <cstddef>

namespace regfront::auth::test {

struct AllocCounts {
  std::size_t openssl = 0;  // CRYPTO_malloc / CRYPTO_realloc calls
  std::size_t cxx = 0;      // operator new calls
};

// True when CRYPTO_set_mem_functions took effect (it refuses once OpenSSL has allocated).
bool openssl_hooks_installed();

// Counts allocations made on this thread while the returned scope is alive.
class CountAllocations {
 public:
  CountAllocations();
  ~CountAllocations();
  AllocCounts counts() const;
};

}  // namespace regfront::auth::test
