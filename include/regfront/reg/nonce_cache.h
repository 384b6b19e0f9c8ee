// regfront/reg/nonce_cache.h — a registrar's most recent digest nonce, for preemptive credentials.
//
// A refresh may carry credentials computed against the registrar's last nonce instead of
// waiting to be challenged (the nonce count, nc, of RFC 7616 lets a client answer one nonce
// many times), so a refresh is 2 datagrams instead of 4. One NonceCache per worker and
// registrar slot, never per binding: every binding of the registrar shares its nonce and its
// nonce count.
//
// It holds two nonces. `candidate` is the last nonce answered after a challenge; `current` is
// confirmed: a request answering it got a 2xx, and only it is used preemptively. A preemptive
// request that is challenged or refused sends `current` back to `candidate` (answering that
// nonce again continues its count). A registrar with one-time nonces challenges every nonce at
// its first reuse: after kStrikes such nonces in a row the cache holds off, giving no
// preemptive credentials for a while, since they would only make the first request bigger.
//
// A cached nonce names its realm by the id of the snapshot it was learned with: on_adopt()
// re-resolves it in every new snapshot, and forgets the nonces of a registrar that changed.
// Nothing allocates: the nonce, opaque and realm are copied into fixed arrays. The clock is
// passed in, so tests own time.
//
//   NonceCache cache(opts.preemptive_holdoff_ms);
//   // A 401 with nonce N: answer it with the nonce count the cache gives.
//   const std::uint64_t tag = nonce_tag(N);
//   send(params, cache.record_answer(tag, params, realm_id));
//   cache.on_accepted(tag, /*preemptive=*/false);       // its 2xx: N is confirmed
//   // A later refresh answers N before being asked:
//   if (const CachedNonce* c = cache.may_use(now_ms)) send(c->params(), cache.use_current());
//   cache.on_accepted(tag, /*preemptive=*/true);        // its 2xx, or if it was challenged:
//   cache.on_refused(tag, now_ms);
#pragma once

#include <cstdint>
#include <string_view>

#include "regfront/auth/digest.h"
#include "regfront/reg/digest_answer.h"
#include "regfront/reg/snapshot.h"

namespace regfront::reg {

// Names a nonce in 64 bits, never 0 (0 means "no nonce"). Not a MAC: two nonces may share a
// tag, which at worst makes one refresh go out with a nonce the registrar then challenges.
inline std::uint64_t nonce_tag(std::string_view nonce) { return RealmTable::hash(nonce) | 1; }

// One cached nonce, with what a preemptive answer to it needs.
struct CachedNonce {
  std::uint64_t tag = 0;            // nonce_tag(nonce); 0 = empty
  std::uint32_t nc = 0;             // last nonce count sent with it, over all bindings
  std::uint32_t realm = kNoRealm;   // realm id in the snapshot adopted last
  std::uint32_t accepted = 0;       // preemptive requests accepted with it
  auth::Algorithm algorithm = auth::Algorithm::md5;
  auth::Qop qop = auth::Qop::none;
  bool proxy = false;
  bool userhash = false;
  bool opaque_present = false;
  std::uint16_t nonce_len = 0;
  std::uint16_t opaque_len = 0;
  std::uint8_t realm_len = 0;
  char nonce[auth::kMaxNonceLength];
  char opaque[auth::kMaxOpaqueLength];
  char realm_text[auth::kMaxRealmLength];

  std::string_view nonce_view() const { return {nonce, nonce_len}; }
  std::string_view opaque_view() const { return {opaque, opaque_len}; }
  std::string_view realm_view() const { return {realm_text, realm_len}; }

  // The parameters to answer this nonce with; the views point into this object.
  DigestParams params() const {
    DigestParams d;
    d.proxy = proxy;
    d.realm = realm_view();
    d.nonce = nonce_view();
    d.opaque = opaque_view();
    d.opaque_present = opaque_present;
    d.userhash = userhash;
    d.algorithm = algorithm;
    d.qop = qop;
    return d;
  }
};

class NonceCache {
 public:
  // Confirmed nonces challenged at their first preemptive use, in a row, that start a hold-off.
  static constexpr std::uint8_t kStrikes = 3;

  // An empty cache whose hold-off, once kStrikes nonces were refused, lasts `holdoff_ms`.
  explicit NonceCache(std::uint32_t holdoff_ms = 0) : holdoff_ms_(holdoff_ms) {}

  // The confirmed nonce when preemptive credentials may use it at `now_ms`; nullptr when there
  // is none or a hold-off runs. The caller still checks the realm against the binding's.
  const CachedNonce* may_use(std::uint64_t now_ms) const {
    if (current_.tag == 0 || now_ms < holdoff_until_) return nullptr;
    return &current_;
  }

  // Counts one preemptive use of the confirmed nonce and returns the nonce count to send with
  // it. Only after may_use() returned it.
  std::uint32_t use_current() { return ++current_.nc; }

  // Records that a challenge's nonce (`tag` = nonce_tag(d.nonce)) is being answered, for realm
  // id `realm`, and returns the nonce count to send: the next one for the confirmed nonce or
  // the candidate; 1 for a nonce new to the cache, which becomes the candidate (replacing the
  // previous one) unless `realm` is kNoRealm: such a nonce is not kept, each answer counts
  // from 1.
  std::uint32_t record_answer(std::uint64_t tag, const DigestParams& d, std::uint32_t realm) {
    if (tag == current_.tag) return ++current_.nc;
    if (tag == candidate_.tag) return ++candidate_.nc;
    return remember(tag, d, realm);
  }

  // A 2xx to a request that answered the nonce `tag` (0: none, nothing happens). `preemptive`:
  // the request used the confirmed nonce without being challenged; that ends a run of strikes
  // and counts an acceptance of the nonce. Otherwise the candidate, if `tag` is still it,
  // becomes the confirmed nonce.
  void on_accepted(std::uint64_t tag, bool preemptive) {
    if (tag == 0) return;
    if (preemptive) {
      strikes_ = 0;
      if (current_.tag == tag) ++current_.accepted;
      return;
    }
    if (candidate_.tag == tag) {
      current_ = candidate_;
      current_.accepted = 0;
      candidate_.tag = 0;
    }
  }

  // A preemptive request that used the nonce `tag` was challenged or refused at `now_ms`. If
  // `tag` is still the confirmed nonce it stops being used and becomes the candidate again (a
  // challenge with it continues its nonce count); if it had never been accepted, that is a
  // strike, and the kStrikes-th strike starts a hold-off of holdoff_ms. A `tag` of 0 or of a
  // nonce replaced since changes nothing.
  void on_refused(std::uint64_t tag, std::uint64_t now_ms) {
    if (tag == 0 || current_.tag != tag) return;
    if (current_.accepted == 0 && ++strikes_ >= kStrikes) {
      holdoff_until_ = now_ms + holdoff_ms_;
      strikes_ = 0;
    }
    candidate_ = current_;
    current_.tag = 0;
  }

  // A new snapshot was adopted. The registrar slot is `present` in it with `generation`; a slot
  // that is absent or whose generation changed is another registrar now, and both nonces are
  // forgotten. Otherwise each nonce's realm is looked up in `realms` by name, and a nonce whose
  // realm the snapshot no longer has is forgotten. Strikes and hold-off are kept.
  void on_adopt(const RealmTable& realms, bool present, std::uint32_t generation);

  // The confirmed nonce (tag 0: none).
  const CachedNonce& current() const { return current_; }
  // The last nonce answered and not confirmed yet (tag 0: none).
  const CachedNonce& candidate() const { return candidate_; }
  // Strikes in the current run (below kStrikes).
  std::uint8_t strikes() const { return strikes_; }
  // No preemptive use before this time (ms; 0: no hold-off ever started).
  std::uint64_t holdoff_until() const { return holdoff_until_; }

 private:
  // record_answer() for a nonce new to the cache: copies it into the candidate; returns 1.
  std::uint32_t remember(std::uint64_t tag, const DigestParams& d, std::uint32_t realm);

  CachedNonce current_;
  CachedNonce candidate_;
  std::uint64_t holdoff_until_ = 0;
  std::uint32_t holdoff_ms_ = 0;
  std::uint32_t generation_ = 0;  // of the registrar slot, in the snapshot adopted last
  std::uint8_t strikes_ = 0;
};

}  // namespace regfront::reg
