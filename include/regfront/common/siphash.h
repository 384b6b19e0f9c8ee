// regfront/common/siphash.h — SipHash-2-4 (Aumasson & Bernstein, 2012) over two 64-bit words.
//
// Used to make Via branches, Call-IDs and From tags that carry a binding's identity plus a MAC,
// so a response finds its binding in O(1) and a forged one (off-path guess) is dropped.
// Written here rather than taken from OpenSSL: EVP_MAC needs a context set-up per key and costs
// several hundred nanoseconds for a 16-byte input; this is ~20 ns and allocation-free.
//
//   SipKey k{rand1, rand2};
//   std::uint64_t mac = siphash24(k, binding_id, cseq);
#pragma once

#include <cstdint>
#include <initializer_list>

namespace regfront {

struct SipKey {
  std::uint64_t k0 = 0;
  std::uint64_t k1 = 0;
};

namespace detail {
inline std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }
inline void sip_round(std::uint64_t& v0, std::uint64_t& v1, std::uint64_t& v2, std::uint64_t& v3) {
  v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
  v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
  v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
  v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
}
}  // namespace detail

// SipHash-2-4 of the 16-byte message (m0 little-endian, then m1), as in the reference.
inline std::uint64_t siphash24(const SipKey& key, std::uint64_t m0, std::uint64_t m1) {
  std::uint64_t v0 = 0x736f6d6570736575ull ^ key.k0;
  std::uint64_t v1 = 0x646f72616e646f6dull ^ key.k1;
  std::uint64_t v2 = 0x6c7967656e657261ull ^ key.k0;
  std::uint64_t v3 = 0x7465646279746573ull ^ key.k1;
  for (std::uint64_t m : {m0, m1}) {
    v3 ^= m;
    detail::sip_round(v0, v1, v2, v3);
    detail::sip_round(v0, v1, v2, v3);
    v0 ^= m;
  }
  const std::uint64_t b = std::uint64_t{16} << 56;  // message length in the last block
  v3 ^= b;
  detail::sip_round(v0, v1, v2, v3);
  detail::sip_round(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; ++i) detail::sip_round(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}

}  // namespace regfront
