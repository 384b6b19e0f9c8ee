// NonceCache, one operation at a time, under a manual clock: remembering the candidate and
// counting answers, promotion on a 2xx, preemptive use, refusals, strikes and the hold-off,
// and what a new snapshot does to the cached realms.
#include "regfront/reg/nonce_cache.h"
#include "regfront/snapshot/writer.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

namespace regfront::reg {
namespace {

constexpr std::uint32_t kHoldoffMs = 600000;

class NonceCacheTest : public ::testing::Test {
 protected:
  NonceCacheTest() {
    realm_a_ = snapshot::add_realm(realms_, "reg-a.example");
    realm_b_ = snapshot::add_realm(realms_, "reg-b.example");
  }

  // A qop=auth challenge of `realm` with `nonce`.
  static DigestParams challenge(std::string_view nonce, std::string_view realm = "reg-a.example") {
    DigestParams d;
    d.realm = realm;
    d.nonce = nonce;
    d.opaque = "op-7";
    d.opaque_present = true;
    d.algorithm = auth::Algorithm::sha256;
    d.qop = auth::Qop::auth;
    return d;
  }

  // Answers `nonce` once and has the answer accepted: the nonce is confirmed.
  std::uint64_t confirm(std::string_view nonce) {
    const std::uint64_t tag = nonce_tag(nonce);
    cache_.record_answer(tag, challenge(nonce), realm_a_);
    cache_.on_accepted(tag, false);
    return tag;
  }

  // One preemptive use of the confirmed nonce at now_; returns its tag (0 when not allowed).
  std::uint64_t use() {
    const CachedNonce* c = cache_.may_use(now_);
    if (c == nullptr) return 0;
    cache_.use_current();
    return c->tag;
  }

  RealmTable realms_;
  std::uint32_t realm_a_ = kNoRealm, realm_b_ = kNoRealm;
  NonceCache cache_{kHoldoffMs};
  std::uint64_t now_ = 1000;  // the manual clock (ms)
};

TEST(NonceTag, IsNeverZeroAndTellsNoncesApart) {
  EXPECT_NE(nonce_tag(""), 0u);
  EXPECT_NE(nonce_tag("pn-1"), 0u);
  EXPECT_EQ(nonce_tag("pn-1"), nonce_tag("pn-1"));
  EXPECT_NE(nonce_tag("pn-1"), nonce_tag("pn-2"));
}

TEST_F(NonceCacheTest, StartsEmpty) {
  EXPECT_EQ(cache_.may_use(now_), nullptr);
  EXPECT_EQ(cache_.current().tag, 0u);
  EXPECT_EQ(cache_.candidate().tag, 0u);
  EXPECT_EQ(cache_.strikes(), 0u);
  EXPECT_EQ(cache_.holdoff_until(), 0u);
}

TEST_F(NonceCacheTest, ANewNonceBecomesTheCandidateWithEverythingToAnswerIt) {
  const std::uint64_t tag = nonce_tag("pn-1");
  DigestParams d = challenge("pn-1");
  d.proxy = true;
  d.userhash = true;
  EXPECT_EQ(cache_.record_answer(tag, d, realm_a_), 1u);
  const CachedNonce& c = cache_.candidate();
  EXPECT_EQ(c.tag, tag);
  EXPECT_EQ(c.nc, 1u);
  EXPECT_EQ(c.realm, realm_a_);
  EXPECT_EQ(c.accepted, 0u);
  const DigestParams p = c.params();
  EXPECT_EQ(p.nonce, "pn-1");
  EXPECT_EQ(p.realm, "reg-a.example");
  EXPECT_EQ(p.opaque, "op-7");
  EXPECT_TRUE(p.opaque_present);
  EXPECT_TRUE(p.proxy);
  EXPECT_TRUE(p.userhash);
  EXPECT_EQ(p.algorithm, auth::Algorithm::sha256);
  EXPECT_EQ(p.qop, auth::Qop::auth);
  EXPECT_NE(p.nonce.data(), d.nonce.data()) << "copied, not a view into the challenge";
  EXPECT_EQ(cache_.current().tag, 0u);
  EXPECT_EQ(cache_.may_use(now_), nullptr) << "a candidate is not used preemptively";
}

TEST_F(NonceCacheTest, AnswersOfOneNonceAreCountedAcrossBindings) {
  const std::uint64_t tag = nonce_tag("pn-1");
  for (std::uint32_t nc = 1; nc <= 4; ++nc) EXPECT_EQ(cache_.record_answer(tag, challenge("pn-1"), realm_a_), nc);
  // Another nonce replaces the candidate and counts from 1.
  EXPECT_EQ(cache_.record_answer(nonce_tag("pn-2"), challenge("pn-2"), realm_a_), 1u);
  EXPECT_EQ(cache_.candidate().nonce_view(), "pn-2");
  EXPECT_EQ(cache_.record_answer(tag, challenge("pn-1"), realm_a_), 1u) << "pn-1 was forgotten";
}

TEST_F(NonceCacheTest, ANonceOfARealmWithoutIdIsNotKept) {
  const std::uint64_t tag = nonce_tag("pn-1");
  EXPECT_EQ(cache_.record_answer(tag, challenge("pn-1", "new.example"), kNoRealm), 1u);
  EXPECT_EQ(cache_.record_answer(tag, challenge("pn-1", "new.example"), kNoRealm), 1u);
  EXPECT_EQ(cache_.candidate().tag, 0u);
  cache_.on_accepted(tag, false);
  EXPECT_EQ(cache_.may_use(now_), nullptr);
}

TEST_F(NonceCacheTest, ACandidateAcceptedIsPromoted) {
  const std::uint64_t tag = nonce_tag("pn-1");
  cache_.record_answer(tag, challenge("pn-1"), realm_a_);
  cache_.record_answer(tag, challenge("pn-1"), realm_a_);
  cache_.on_accepted(tag, false);
  EXPECT_EQ(cache_.current().tag, tag);
  EXPECT_EQ(cache_.current().nc, 2u) << "the count goes on";
  EXPECT_EQ(cache_.current().accepted, 0u);
  EXPECT_EQ(cache_.candidate().tag, 0u);
  const CachedNonce* c = cache_.may_use(now_);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->nonce_view(), "pn-1");
  // A challenge with the confirmed nonce (another binding) counts on it too.
  EXPECT_EQ(cache_.record_answer(tag, challenge("pn-1"), realm_a_), 3u);
  EXPECT_EQ(cache_.candidate().tag, 0u);
}

TEST_F(NonceCacheTest, AnAcceptedAnswerOfAReplacedCandidateChangesNothing) {
  const std::uint64_t t1 = nonce_tag("pn-1");
  cache_.record_answer(t1, challenge("pn-1"), realm_a_);
  cache_.record_answer(nonce_tag("pn-2"), challenge("pn-2"), realm_a_);
  cache_.on_accepted(t1, false);  // a binding that answered pn-1 before pn-2 arrived
  EXPECT_EQ(cache_.current().tag, 0u);
  EXPECT_EQ(cache_.candidate().nonce_view(), "pn-2");
  cache_.on_accepted(0, false);  // a 2xx to a request without credentials
  EXPECT_EQ(cache_.candidate().nonce_view(), "pn-2");
}

TEST_F(NonceCacheTest, PreemptiveUsesCountOnAndAcceptancesAreCounted) {
  const std::uint64_t tag = confirm("pn-1");
  for (std::uint32_t nc = 2; nc <= 4; ++nc) {
    ASSERT_NE(cache_.may_use(now_), nullptr);
    EXPECT_EQ(cache_.use_current(), nc);
    cache_.on_accepted(tag, true);
  }
  EXPECT_EQ(cache_.current().accepted, 3u);
  EXPECT_EQ(cache_.current().nc, 4u);
  // A preemptive acceptance of a nonce replaced since counts for nothing.
  cache_.on_accepted(nonce_tag("old"), true);
  EXPECT_EQ(cache_.current().accepted, 3u);
}

TEST_F(NonceCacheTest, ARefusalSendsTheNonceBackToCandidateAndCountsAStrike) {
  const std::uint64_t tag = confirm("pn-1");
  ASSERT_EQ(use(), tag);  // nc 2
  cache_.on_refused(tag, now_);
  EXPECT_EQ(cache_.may_use(now_), nullptr);
  EXPECT_EQ(cache_.current().tag, 0u);
  EXPECT_EQ(cache_.candidate().tag, tag);
  EXPECT_EQ(cache_.strikes(), 1u);
  EXPECT_EQ(cache_.holdoff_until(), 0u);
  // The challenge repeats pn-1 (not one-time after all): answering it continues its count,
  // and that answer's 2xx confirms it again.
  EXPECT_EQ(cache_.record_answer(tag, challenge("pn-1"), realm_a_), 3u);
  cache_.on_accepted(tag, false);
  EXPECT_EQ(cache_.may_use(now_), &cache_.current());
  EXPECT_EQ(cache_.strikes(), 1u) << "only a preemptive acceptance ends the run";
  ASSERT_EQ(use(), tag);
  cache_.on_accepted(tag, true);
  EXPECT_EQ(cache_.strikes(), 0u);
}

TEST_F(NonceCacheTest, ARefusalAfterAnAcceptedUseIsNoStrike) {
  const std::uint64_t tag = confirm("pn-1");
  ASSERT_EQ(use(), tag);
  cache_.on_accepted(tag, true);
  ASSERT_EQ(use(), tag);
  cache_.on_refused(tag, now_);  // the nonce expired after serving: normal
  EXPECT_EQ(cache_.strikes(), 0u);
  EXPECT_EQ(cache_.current().tag, 0u);
  EXPECT_EQ(cache_.candidate().tag, tag);
}

TEST_F(NonceCacheTest, ARefusalOfANonceReplacedSinceChangesNothing) {
  const std::uint64_t old_tag = confirm("pn-1");
  const std::uint64_t tag = confirm("pn-2");
  cache_.on_refused(old_tag, now_);
  cache_.on_refused(0, now_);
  EXPECT_EQ(cache_.current().tag, tag);
  EXPECT_EQ(cache_.strikes(), 0u);
}

TEST_F(NonceCacheTest, ThreeOneTimeNoncesInARowStartAHoldOff) {
  for (int i = 1; i <= NonceCache::kStrikes; ++i) {
    SCOPED_TRACE(i);
    const std::uint64_t tag = confirm("ot-" + std::to_string(i));
    ASSERT_EQ(use(), tag);
    now_ += 60000;
    cache_.on_refused(tag, now_);
  }
  EXPECT_EQ(cache_.strikes(), 0u) << "the run ended in a hold-off";
  EXPECT_EQ(cache_.holdoff_until(), now_ + kHoldoffMs);
  const std::uint64_t until = now_ + kHoldoffMs;
  // Nonces still get confirmed during the hold-off, but are not used before it ends.
  confirm("ot-4");
  EXPECT_EQ(cache_.may_use(now_), nullptr);
  now_ = until - 1;
  EXPECT_EQ(cache_.may_use(now_), nullptr);
  now_ = until;
  ASSERT_NE(cache_.may_use(now_), nullptr);
  EXPECT_EQ(cache_.may_use(now_)->nonce_view(), "ot-4");
}

TEST_F(NonceCacheTest, AHoldOffOfZeroMillisecondsOnlyResetsTheRun) {
  NonceCache cache;  // hold-off 0
  for (int i = 1; i <= NonceCache::kStrikes; ++i) {
    const std::uint64_t tag = nonce_tag("ot-" + std::to_string(i));
    cache.record_answer(tag, challenge("ot"), realm_a_);
    cache.on_accepted(tag, false);
    ASSERT_NE(cache.may_use(now_), nullptr);
    cache.use_current();
    cache.on_refused(tag, now_);
  }
  EXPECT_EQ(cache.holdoff_until(), now_);
  EXPECT_EQ(cache.strikes(), 0u);
}

TEST_F(NonceCacheTest, ANewSnapshotReResolvesTheRealmByName) {
  const std::uint64_t tag = confirm("pn-1");
  cache_.record_answer(nonce_tag("pn-2"), challenge("pn-2", "reg-b.example"), realm_b_);
  cache_.on_adopt(realms_, true, 0);
  // The next snapshot numbers its realms differently.
  RealmTable next;
  snapshot::add_realm(next, "other.example");
  const std::uint32_t b = snapshot::add_realm(next, "reg-b.example");
  const std::uint32_t a = snapshot::add_realm(next, "reg-a.example");
  cache_.on_adopt(next, true, 0);
  EXPECT_EQ(cache_.current().tag, tag);
  EXPECT_EQ(cache_.current().realm, a);
  EXPECT_EQ(cache_.candidate().realm, b);
}

TEST_F(NonceCacheTest, ANonceWhoseRealmTheSnapshotLostIsForgotten) {
  confirm("pn-1");
  cache_.record_answer(nonce_tag("pn-2"), challenge("pn-2", "reg-b.example"), realm_b_);
  RealmTable next;
  snapshot::add_realm(next, "reg-b.example");
  cache_.on_adopt(next, true, 0);
  EXPECT_EQ(cache_.current().tag, 0u) << "reg-a.example is gone";
  EXPECT_EQ(cache_.may_use(now_), nullptr);
  EXPECT_NE(cache_.candidate().tag, 0u);
}

TEST_F(NonceCacheTest, AnotherRegistrarInTheSlotForgetsBothNonces) {
  confirm("pn-1");
  cache_.record_answer(nonce_tag("pn-2"), challenge("pn-2"), realm_a_);
  cache_.on_adopt(realms_, true, 0);
  ASSERT_NE(cache_.may_use(now_), nullptr);
  cache_.on_adopt(realms_, true, 7);  // the slot's registrar changed identity
  EXPECT_EQ(cache_.current().tag, 0u);
  EXPECT_EQ(cache_.candidate().tag, 0u);
  // Nonces learned from then on are kept as long as the generation stays.
  confirm("pn-3");
  cache_.on_adopt(realms_, true, 7);
  EXPECT_NE(cache_.may_use(now_), nullptr);
}

TEST_F(NonceCacheTest, ARemovedRegistrarForgetsBothNonces) {
  confirm("pn-1");
  cache_.record_answer(nonce_tag("pn-2"), challenge("pn-2"), realm_a_);
  cache_.on_adopt(realms_, false, 0);
  EXPECT_EQ(cache_.current().tag, 0u);
  EXPECT_EQ(cache_.candidate().tag, 0u);
}

// Strikes and hold-off belong to the registrar slot, not to a nonce: a snapshot keeps them,
// even one that gives the slot to another registrar (as the engine has always done).
TEST_F(NonceCacheTest, ASnapshotKeepsStrikesAndHoldOff) {
  const auto strike = [&](int i) {
    const std::uint64_t tag = confirm("ot-" + std::to_string(i));
    ASSERT_EQ(use(), tag);
    cache_.on_refused(tag, now_);
  };
  strike(1);
  strike(2);
  cache_.on_adopt(realms_, true, 3);
  EXPECT_EQ(cache_.strikes(), 2u);
  strike(3);
  const std::uint64_t until = cache_.holdoff_until();
  EXPECT_EQ(until, now_ + kHoldoffMs);
  cache_.on_adopt(realms_, true, 4);
  EXPECT_EQ(cache_.holdoff_until(), until);
}

}  // namespace
}  // namespace regfront::reg
