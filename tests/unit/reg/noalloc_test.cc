// "Workers never allocate": a full registration storm through one Engine with every heap entry
// point counted. This binary replaces the global allocation functions (malloc family through
// glibc's __libc_* entry points, operator new/delete, and OpenSSL's memory functions), so it is
// kept apart from the other tests. Counting is switched on only around Engine::on_datagram,
// Engine::advance and Engine::begin_shutdown; the fake registrar in between may allocate.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <new>
#include <string>

#include "harness.h"
#include "regfront/reg/engine.h"

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

namespace regfront::reg {
namespace {

using test::drain;
using test::Sent;

class Counting {
 public:
  Counting() { g_counting.store(true, std::memory_order_relaxed); }
  ~Counting() { g_counting.store(false, std::memory_order_relaxed); }
};

TEST(NoAllocation, HooksWork) {
  ASSERT_TRUE(g_openssl_hooked);
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

TEST(NoAllocation, RegistrationStorm) {
  constexpr int kEndpoints = 1000;
  std::string cfg;
  for (int i = 0; i < kEndpoints; ++i) {
    cfg += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " +
           std::to_string(8000 + i) + "\n";
  }
  cfg += "sip-ua\n"
         " authentication username trunk-a password 0 pw-a realm reg-a.example\n"
         " authentication username trunk-b password 0 pw-b realm reg-b.example\n"
         " registrar 1 dns:reg-a.example expires 60\n"
         " registrar 2 dns:reg-b.example expires 60\n"
         " registration rate 2000\n";
  snapshot::Builder builder(1);
  // reg-b challenges with SHA-256: a SHA realm, as the daemon would have learned it.
  const auto snap = builder.build(test::load_config(cfg), test::loopback_addresses(), 5060, {}, nullptr, 0,
                                  {"reg-b.example"});

  TxQueue tx(4096);
  EngineOptions opts;
  opts.capacity = 4096;
  opts.max_inflight = 4096;
  opts.key = SipKey{42, 43};
  Engine eng(opts, tx);
  std::uint64_t now = 5'000'000;
  const OwnedSnapshotPin pin(snap.get());
  eng.adopt(pin, now);

  const std::size_t m0 = g_malloc, n0 = g_new, o0 = g_openssl;
  std::size_t answered = 0, dropped = 0;
  const std::string drop_number = "8123";  // its reg-a refresh goes unanswered: a timeout
  bool dropping = false;

  auto answer = [&](const Sent& r) {
    std::string resp;
    if (dropping && r.number == drop_number && r.registrar == 0) {
      ++dropped;
      return;
    }
    if (r.authorization.empty()) {
      resp = r.registrar == 0
                 ? test::respond(r, 401, "Unauthorized",
                                 "WWW-Authenticate: Digest realm=\"reg-a.example\", nonce=\"na" +
                                     std::to_string(answered) + "\"\r\n")
                 : test::respond(r, 407, "Proxy Authentication Required",
                                 "Proxy-Authenticate: Digest realm=\"reg-b.example\", nonce=\"nb" +
                                     std::to_string(answered) + "\", algorithm=SHA-256, qop=auth, opaque=\"o\"\r\n");
    } else {
      resp = test::ok_with_contact(r, r.expires == "0" ? 0 : 60);
    }
    ++answered;
    Counting c;
    eng.on_datagram(pin, resp, now);
  };
  auto step = [&](std::uint64_t ms) {
    for (std::uint64_t i = 0; i < ms; ++i) {
      ++now;
      {
        Counting c;
        eng.advance(pin, now);
      }
      // Answers can queue more requests (authenticated retries): loop until quiet.
      while (tx.size() != 0) {
        for (const Sent& r : drain(tx)) answer(r);
      }
    }
  };

  step(3000);  // 2000 bindings at 2000/s per registrar, each 401/407 → auth → 200
  EXPECT_EQ(eng.registered_count(now), 2u * kEndpoints);
  EXPECT_EQ(eng.counters().registrar[0].accepted.get(), std::uint64_t{kEndpoints});
  EXPECT_EQ(eng.counters().registrar[1].authenticated.get(), std::uint64_t{kEndpoints});

  dropping = true;
  step(70000);  // every binding refreshes once (30–48 s: the first refresh), preemptively; one
                // refresh times out (+19.5 s); the next 200 moves its retry forward
  dropping = false;
  EXPECT_EQ(eng.counters().registrar[0].accepted.get(), 2u * kEndpoints - 1);
  EXPECT_EQ(eng.counters().registrar[1].accepted.get(), 2u * kEndpoints);
  EXPECT_GE(eng.counters().registrar[0].timed_out.get(), 1u);
  EXPECT_GE(eng.counters().registrar[0].retransmitted.get(), 6u);
  EXPECT_GT(dropped, 1u);

  {
    Counting c;
    eng.begin_shutdown(pin, now);
  }
  for (int i = 0; i < 20000 && !eng.shutdown_done(); ++i) step(1);
  EXPECT_TRUE(eng.shutdown_done());
  EXPECT_EQ(eng.counters().registrar[0].unregistered.get() + eng.counters().registrar[1].unregistered.get(),
            2u * kEndpoints);

  EXPECT_EQ(g_malloc - m0, 0u) << "malloc family calls on the hot path";
  EXPECT_EQ(g_new - n0, 0u) << "operator new calls on the hot path";
  EXPECT_EQ(g_openssl - o0, 0u) << "OpenSSL allocations on the hot path";
}

}  // namespace
}  // namespace regfront::reg
