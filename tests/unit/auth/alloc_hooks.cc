#include "alloc_hooks.h"

#include <openssl/crypto.h>

#include <cstdlib>
#include <new>

namespace regfront::auth::test {
namespace {

thread_local bool t_counting = false;
thread_local std::size_t t_openssl = 0;
thread_local std::size_t t_cxx = 0;
bool g_installed = false;

void* counting_malloc(std::size_t n, const char*, int) {
  if (t_counting) ++t_openssl;
  return std::malloc(n);
}
void* counting_realloc(void* p, std::size_t n, const char*, int) {
  if (t_counting) ++t_openssl;
  return std::realloc(p, n);
}
void counting_free(void* p, const char*, int) { std::free(p); }

// Priority 101 runs before ordinary static constructors (GoogleTest's registration included),
// hence before anything can make OpenSSL allocate.
__attribute__((constructor(101))) void install_openssl_hooks() {
  g_installed = CRYPTO_set_mem_functions(counting_malloc, counting_realloc, counting_free) == 1;
}

}  // namespace

bool openssl_hooks_installed() { return g_installed; }

CountAllocations::CountAllocations() {
  t_openssl = 0;
  t_cxx = 0;
  t_counting = true;
}
CountAllocations::~CountAllocations() { t_counting = false; }
AllocCounts CountAllocations::counts() const { return {t_openssl, t_cxx}; }

}  // namespace regfront::auth::test

// Global operator new replacement (the sized/array/nothrow forms forward to these by default).
void* operator new(std::size_t n) {
  if (regfront::auth::test::t_counting) ++regfront::auth::test::t_cxx;
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
