// See alloc_counter.h. Everything here runs inside the allocator, so it only touches atomics and
// glibc's own entry points.
#include "alloc_counter.h"

#include <openssl/crypto.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_malloc{0}, g_new{0}, g_openssl{0};
bool g_openssl_hooked = false;

void note(std::atomic<std::size_t>& c) {
  if (g_counting.load(std::memory_order_relaxed)) c.fetch_add(1, std::memory_order_relaxed);
}

void* openssl_malloc(std::size_t n, const char*, int) {
  note(g_openssl);
  return __libc_malloc(n);
}
void* openssl_realloc(void* p, std::size_t n, const char*, int) {
  note(g_openssl);
  return __libc_realloc(p, n);
}
void openssl_free(void* p, const char*, int) { __libc_free(p); }

// Before main and before anything touches OpenSSL (it refuses new functions once it allocated).
__attribute__((constructor(101))) void install_openssl_hooks() {
  g_openssl_hooked = CRYPTO_set_mem_functions(openssl_malloc, openssl_realloc, openssl_free) == 1;
}

void* counted_new(std::size_t n) {
  note(g_new);
  void* p = __libc_malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* counted_new_aligned(std::size_t n, std::align_val_t a) {
  note(g_new);
  void* p = __libc_memalign(static_cast<std::size_t>(a), n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* counted_new_nothrow(std::size_t n) noexcept {
  note(g_new);
  return __libc_malloc(n == 0 ? 1 : n);
}

}  // namespace

namespace regfront::test::alloc {

Counts counts() {
  return {g_malloc.load(std::memory_order_relaxed), g_new.load(std::memory_order_relaxed),
          g_openssl.load(std::memory_order_relaxed)};
}
bool openssl_hooked() { return g_openssl_hooked; }
Counting::Counting() { g_counting.store(true, std::memory_order_relaxed); }
Counting::~Counting() { g_counting.store(false, std::memory_order_relaxed); }

}  // namespace regfront::test::alloc

// ---- malloc family ----
extern "C" {
void* malloc(std::size_t n) {
  note(g_malloc);
  return __libc_malloc(n);
}
void* calloc(std::size_t a, std::size_t b) {
  note(g_malloc);
  return __libc_calloc(a, b);
}
void* realloc(void* p, std::size_t n) {
  note(g_malloc);
  return __libc_realloc(p, n);
}
void* memalign(std::size_t a, std::size_t n) {
  note(g_malloc);
  return __libc_memalign(a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  note(g_malloc);
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, std::size_t a, std::size_t n) {
  note(g_malloc);
  void* p = __libc_memalign(a, n);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
void free(void* p) { __libc_free(p); }
}

// ---- operator new/delete ----
void* operator new(std::size_t n) { return counted_new(n); }
void* operator new[](std::size_t n) { return counted_new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_new_nothrow(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_new_nothrow(n); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_new_aligned(n, a); }
void operator delete(void* p) noexcept { __libc_free(p); }
void operator delete[](void* p) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { __libc_free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { __libc_free(p); }
