// The out-of-line parts of NonceCache, which copy or look up strings; see
// regfront/reg/nonce_cache.h.
#include "regfront/reg/nonce_cache.h"

#include <algorithm>
#include <cstring>

namespace regfront::reg {

namespace {

// Copies at most `cap` bytes of `v` to `dst` and sets `len`. The challenge parser refuses
// values longer than the arrays, so nothing is cut in practice.
template <class Len>
void copy_into(char* dst, std::size_t cap, std::string_view v, Len& len) {
  const std::size_t n = std::min(cap, v.size());
  if (n != 0) std::memcpy(dst, v.data(), n);  // an absent opaque is a null view
  len = static_cast<Len>(n);
}

}  // namespace

std::uint32_t NonceCache::remember(std::uint64_t tag, const DigestParams& d, std::uint32_t realm) {
  CachedNonce& c = candidate_;
  c.tag = tag;
  c.nc = 1;
  c.realm = realm;
  c.accepted = 0;
  c.algorithm = d.algorithm;
  c.qop = d.qop;
  c.proxy = d.proxy;
  c.userhash = d.userhash;
  c.opaque_present = d.opaque_present;
  copy_into(c.nonce, sizeof c.nonce, d.nonce, c.nonce_len);
  copy_into(c.opaque, sizeof c.opaque, d.opaque, c.opaque_len);
  copy_into(c.realm_text, sizeof c.realm_text, d.realm, c.realm_len);
  if (realm == kNoRealm) c.tag = 0;  // not answerable preemptively; counted from 1 each time
  return 1;
}

void NonceCache::on_adopt(const RealmTable& realms, bool present, std::uint32_t generation) {
  for (CachedNonce* c : {&current_, &candidate_}) {
    if (c->tag == 0) continue;
    c->realm = realms.find(c->realm_view());
    if (!present || generation != generation_ || c->realm == kNoRealm) c->tag = 0;
  }
  generation_ = generation;
}

}  // namespace regfront::reg
