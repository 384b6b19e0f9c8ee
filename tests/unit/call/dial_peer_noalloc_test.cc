// "Workers never allocate": DialPeerMatcher::match on both engines with every heap entry point
// counted. This binary replaces the global allocation functions (the malloc family through
// glibc's __libc_* entry points — Hyperscan allocates through malloc — and operator
// new/delete), so it is kept apart from the other tests. Counting is on only around match();
// building the table and the scratches (control plane) may allocate.
#include <gtest/gtest.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "regfront/call/dial_peer_match.h"

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

std::atomic<bool> g_counting{false};
std::atomic<std::size_t> g_malloc{0}, g_new{0};

void note(std::atomic<std::size_t>& c) {
  if (g_counting.load(std::memory_order_relaxed)) c.fetch_add(1, std::memory_order_relaxed);
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

}  // namespace

// ---- malloc family (glibc allows the application to interpose these) ----
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
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  note(g_new);
  return __libc_malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  note(g_new);
  return __libc_malloc(n == 0 ? 1 : n);
}
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

namespace regfront::call {
namespace {

class Counting {
 public:
  Counting() { g_counting.store(true, std::memory_order_relaxed); }
  ~Counting() { g_counting.store(false, std::memory_order_relaxed); }
};

TEST(NoAllocation, HooksWork) {
  const std::size_t m0 = g_malloc, n0 = g_new;
  {
    Counting c;
    void* volatile p = std::malloc(10);
    std::free(p);
    auto* volatile q = new int(3);
    delete q;
  }
  EXPECT_GT(g_malloc.load(), m0);
  EXPECT_GT(g_new.load(), n0);
}

TEST(NoAllocation, MatchOnBothEngines) {
  // Every construct: explicit prefixes with wildcards, ranges, '$', 'T', repetition, groups,
  // E.164 '+', catch-alls.
  std::vector<std::string> text;
  for (int i = 0; i < 1000; ++i) {
    text.push_back("1408" + std::to_string(100 + i % 900) +
                   std::string(static_cast<std::size_t>(i % 5), '.'));
  }
  for (const char* p :
       {"1T", ".T", "T", "1408[2-5]..$", "1408(555)?1%", "+1408T", "5+23$", "[^0-2]T", "5%"}) {
    text.emplace_back(p);
  }
  std::vector<DialPeerPattern> peers;
  for (std::size_t i = 0; i < text.size(); ++i) {
    peers.push_back({static_cast<std::uint32_t>(i), text[i], static_cast<std::uint8_t>(i % 10),
                     static_cast<std::uint32_t>(i)});
  }
  const char* numbers[] = {"14085550100",
                           "14081000000",
                           "+14085550100",
                           "5523",
                           "",
                           "1408",
                           "99999",
                           "1408555123456789012345678901234",
                           "12a",
                           "14082991"};
  for (MatchEngine e : {MatchEngine::hyperscan, MatchEngine::trie}) {
    auto m = DialPeerMatcher::build(peers, e);
    ASSERT_TRUE(m.ok()) << m.status().message();
    auto s = m->make_scratch();
    ASSERT_TRUE(s.ok());
    std::uint32_t ids[kDefaultHuntDepth];
    const std::size_t m0 = g_malloc, n0 = g_new;
    std::size_t found = 0;
    for (int round = 0; round < 100; ++round) {
      for (const char* n : numbers) {
        Counting c;
        found += m->match(n, *s, ids, kDefaultHuntDepth);
      }
    }
    EXPECT_GT(found, 0u);
    EXPECT_EQ(g_malloc - m0, 0u) << match_engine_name(e) << ": malloc family calls in match()";
    EXPECT_EQ(g_new - n0, 0u) << match_engine_name(e) << ": operator new calls in match()";
  }
}

}  // namespace
}  // namespace regfront::call
