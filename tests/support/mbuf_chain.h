// tests/support/mbuf_chain.h — bytes into an mbuf chain whose segments hold at most `seg` bytes
// each (so that every header may straddle segments), for the net unit tests and the classifier's
// fuzz target. Header-only; needs an initialised EAL and a pktmbuf pool.
#pragma once

#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace regfront::test {

// nullptr when the pool runs dry (whatever was taken is given back).
inline rte_mbuf* mbuf_chain(rte_mempool* pool, const std::uint8_t* data, std::size_t len, std::uint16_t port = 0,
                            std::size_t seg = 2048) {
  rte_mbuf* head = nullptr;
  rte_mbuf* last = nullptr;
  std::size_t off = 0;
  do {
    rte_mbuf* m = rte_pktmbuf_alloc(pool);
    if (m == nullptr) {
      if (head != nullptr) rte_pktmbuf_free(head);
      return nullptr;
    }
    const std::size_t n = std::min(seg, len - off);
    char* p = rte_pktmbuf_append(m, static_cast<std::uint16_t>(n));
    if (n) std::memcpy(p, data + off, n);
    off += n;
    if (head == nullptr) {
      head = m;
    } else {
      last->next = m;
      head->nb_segs++;
      head->pkt_len += static_cast<std::uint32_t>(n);
    }
    last = m;
  } while (off < len);
  head->port = port;
  return head;
}

}  // namespace regfront::test
