// Linked into every binary that uses alloc_counter: the proof that its "zero allocations" mean
// something, because the counter does see each kind of allocation while Counting is alive, and
// none outside it.
#include <gtest/gtest.h>
#include <openssl/crypto.h>

#include <cstdlib>

#include "alloc_counter.h"

namespace regfront::test::alloc {
namespace {

TEST(AllocCounter, SeesEveryKindOfAllocation) {
  ASSERT_TRUE(openssl_hooked());
  const Counts before = counts();
  {
    Counting c;
    void* volatile p = std::malloc(10);
    std::free(p);
    auto* volatile q = new int(3);
    delete q;
    void* volatile o = OPENSSL_malloc(10);
    OPENSSL_free(o);
  }
  const Counts seen = counts() - before;
  EXPECT_GT(seen.malloc_family, 0u);
  EXPECT_GT(seen.operator_new, 0u);
  EXPECT_GT(seen.openssl, 0u);

  const Counts after = counts();
  void* volatile p = std::malloc(10);
  std::free(p);
  EXPECT_EQ((counts() - after).malloc_family, 0u) << "counted outside a Counting scope";
}

}  // namespace
}  // namespace regfront::test::alloc
