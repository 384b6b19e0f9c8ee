// One worker's DPDK I/O (see regfront/io/dpdk_io.h).
//
// Everything here after init() runs on the worker's lcore and never allocates from the heap,
// locks or logs: mbufs come from the shared pool (per-lcore cache), rings are SP/SC, counters
// are this worker's.
#include "regfront/io/dpdk_io.h"

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <algorithm>

namespace regfront::io {

REGFRONT_DEFINE_COUNTER_SET(REGFRONT_DPDK_IO_COUNTERS, DpdkIoCounters, kDpdkIoCounterInfo, kDpdkIoCounterCount,
                            dpdk_io_counter)

// ---- hand-off fabric ----
HandoffFabric::~HandoffFabric() {
  for (rte_ring* r : rings_) {
    if (r == nullptr) continue;
    void* m;
    while (rte_ring_dequeue(r, &m) == 0) rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
  }
}

Status HandoffFabric::create(std::uint32_t workers, std::uint32_t size, const std::string& tag) {
  workers_ = workers;
  rings_.assign(std::size_t(workers) * workers, nullptr);
  const unsigned slots = rte_align32pow2(std::max<std::uint32_t>(size, 64));
  for (std::uint32_t f = 0; f < workers; ++f) {
    for (std::uint32_t t = 0; t < workers; ++t) {
      if (f == t) continue;
      const std::string name = "rfh" + tag + "_" + std::to_string(f) + "_" + std::to_string(t);
      rte_ring* r = rte_ring_create(name.c_str(), slots, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
      if (r == nullptr) {
        return Status::resource_exhausted("cannot create hand-off ring " + name + ": " + rte_strerror(rte_errno));
      }
      rings_[f * workers + t] = r;
    }
  }
  return {};
}

// ---- set-up ----
DpdkIo::DpdkIo(const DpdkIoOptions& o, net::NetConfig cfg, rte_mempool* pool, HandoffFabric* fabric)
    : opts_(o),
      workers_(fabric != nullptr ? fabric->workers() : 1),
      pool_(pool),
      fabric_(fabric),
      stack_(std::move(cfg), pool) {}

DpdkIo::~DpdkIo() = default;

Status DpdkIo::init() {
  if (Status s = stack_.init(); !s.ok()) return s;
  struct Hook {
    static void flush(void* ctx, std::uint16_t port, net::TxBatch& b) { static_cast<DpdkIo*>(ctx)->send(port, b); }
  };
  stack_.set_flush_hook(&Hook::flush, this);
  scratch_.resize(kMaxHandoff + sizeof(sockaddr_storage));
  const std::uint64_t hz = rte_get_tsc_hz();
  drain_ticks_ = hz / 1000000 * opts_.tx_drain_us;
  poll_ticks_ = hz / 10000;  // 100 µs
  retry_ticks_ = hz / 1000000;  // 1 µs: a 1024-slot ring drains ~100 frames in that time
  const std::uint64_t us[] = {2, 5, 10, 20, 30, 40, 50, 100, 1000};
  for (std::size_t i = 0; i < std::size(us); ++i) answer_ticks_[i] = hz / 1000000 * us[i];
  c_.tsc_hz.set(hz);
  return {};
}

// ---- receive ----
std::size_t DpdkIo::rx_port(std::uint16_t port, std::uint64_t now_tsc) {
  rte_mbuf* pkts[kBurst];
  const std::uint64_t t0 = opts_.stage_timing ? rte_rdtsc() : 0;
  const std::uint16_t n = rte_eth_rx_burst(port, opts_.worker, pkts, kBurst);
  if (n == 0) return 0;
  const std::uint64_t t1 = opts_.stage_timing ? rte_rdtsc() : 0;
  c_.rx_bursts.inc();
  if (workers_ > 1) share_neighbour_frames(pkts, n);
  const std::size_t k = stack_.classify(pkts, n, now_tsc, dgrams_, kBurst);
  if (opts_.stage_timing) {
    const std::uint64_t t2 = rte_rdtsc();
    c_.stage_rx_burst_tsc.inc(t1 - t0);
    c_.stage_classify_tsc.inc(t2 - t1);
  }
  return k;
}

// True for the frames that teach a neighbour without asking us anything: ARP replies and
// gratuitous ARP (RFC 5227 §3: sender = target), and ICMPv6 neighbour advertisements (the
// usual NDP packet has no extension headers; one that has is left to the worker that got it).
static bool teaches_neighbour(const rte_mbuf* m) {
  std::uint8_t buf[48];
  const std::uint32_t len = rte_pktmbuf_pkt_len(m);
  if (len < 14) return false;
  const auto* eth = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 0, 14, buf));
  std::uint32_t l2 = 14;
  std::uint16_t type = std::uint16_t(eth[12] << 8 | eth[13]);
  if (type == 0x8100) {
    if (len < 18) return false;
    const auto* tag = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, 14, 4, buf));
    type = std::uint16_t(tag[2] << 8 | tag[3]);
    l2 = 18;
  }
  if (type == 0x0806) {
    if (len < l2 + 28) return false;
    const auto* a = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, 28, buf));
    const std::uint16_t op = std::uint16_t(a[6] << 8 | a[7]);
    return op == 2 || (op == 1 && std::memcmp(a + 14, a + 24, 4) == 0);
  }
  if (type == 0x86dd) {
    if (len < l2 + 41) return false;
    const auto* h = static_cast<const std::uint8_t*>(rte_pktmbuf_read(m, l2, 41, buf));
    return h[6] == 58 && h[40] == 136;
  }
  return false;
}

void DpdkIo::share_neighbour_frames(rte_mbuf** pkts, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!teaches_neighbour(pkts[i])) continue;
    for (std::uint32_t to = 0; to < workers_; ++to) {
      if (to == opts_.worker) continue;
      rte_mbuf* copy = rte_pktmbuf_copy(pkts[i], pool_, 0, UINT32_MAX);
      if (copy == nullptr) {
        c_.handoff_drop.inc();
        continue;
      }
      copy->hash.usr = kHandoffFrame;
      if (rte_ring_sp_enqueue(fabric_->ring(opts_.worker, to), copy) != 0) {
        rte_pktmbuf_free(copy);
        c_.handoff_drop.inc();
        continue;
      }
      c_.neigh_shared.inc();
    }
  }
}

bool DpdkIo::hand_off_datagram(const net::RxDatagram& d) {
  if (d.len > kMaxHandoff) {
    c_.handoff_too_big.inc();
    return true;  // dropped (counted): it cannot be the owner's response we could parse anyway
  }
  sockaddr_storage src;
  to_sockaddr(d.src, src);
  hand_off(owner_of(d.dst.port), kHandoffDatagram, &src, sizeof src, d.payload, d.len);
  return true;
}

bool DpdkIo::hand_off_request(std::uint32_t to, std::string_view datagram, const sockaddr_storage& src) {
  if (to >= workers_ || to == opts_.worker || fabric_ == nullptr) return false;
  if (datagram.size() > kMaxHandoff) {
    c_.handoff_too_big.inc();
    return false;
  }
  return hand_off(to, kHandoffDatagram, &src, sizeof src, datagram.data(), datagram.size());
}

bool DpdkIo::hand_off_event(const net::UnreachableEvent& e) {
  sockaddr_storage ss;
  to_sockaddr(e.dst, ss);
  hand_off(owner_of(e.src.port), kHandoffEvent, &ss, sizeof ss, e.quoted, e.quoted_len);
  return true;
}

// Copies the bytes into a chain of pool mbufs and enqueues it on the ring to `to`.
bool DpdkIo::hand_off(std::uint32_t to, std::uint32_t kind, const void* a, std::size_t alen, const void* b,
                      std::size_t blen) {
  rte_mbuf* head = rte_pktmbuf_alloc(pool_);
  if (head == nullptr) {
    c_.handoff_drop.inc();
    return false;
  }
  head->hash.usr = kind;
  rte_mbuf* last = head;
  const std::uint8_t* parts[2] = {static_cast<const std::uint8_t*>(a), static_cast<const std::uint8_t*>(b)};
  const std::size_t lens[2] = {alen, blen};
  for (int p = 0; p < 2; ++p) {
    std::size_t done = 0;
    while (done < lens[p]) {
      std::uint16_t room = rte_pktmbuf_tailroom(last);
      if (room == 0) {
        rte_mbuf* seg = rte_pktmbuf_alloc(pool_);
        if (seg == nullptr || rte_pktmbuf_chain(head, seg) != 0) {
          if (seg != nullptr) rte_pktmbuf_free(seg);
          rte_pktmbuf_free(head);
          c_.handoff_drop.inc();
          return false;
        }
        last = seg;
        room = rte_pktmbuf_tailroom(last);
      }
      const std::uint16_t k = std::uint16_t(std::min<std::size_t>(room, lens[p] - done));
      std::memcpy(rte_pktmbuf_mtod_offset(last, std::uint8_t*, last->data_len), parts[p] + done, k);
      last->data_len = std::uint16_t(last->data_len + k);
      head->pkt_len += k;
      done += k;
    }
  }
  if (rte_ring_sp_enqueue(fabric_->ring(opts_.worker, to), head) != 0) {
    rte_pktmbuf_free(head);
    c_.handoff_drop.inc();
    return false;
  }
  c_.handoff_out.inc();
  return true;
}

std::uint32_t DpdkIo::dequeue(std::uint32_t from, rte_mbuf** out, std::uint32_t max) {
  return rte_ring_sc_dequeue_burst(fabric_->ring(from, opts_.worker), reinterpret_cast<void**>(out), max, nullptr);
}

std::string_view DpdkIo::open_message(rte_mbuf* m, std::uint32_t& kind) {
  kind = m->hash.usr;
  if (kind == kHandoffFrame) return {};
  const std::uint32_t len = std::min<std::uint32_t>(rte_pktmbuf_pkt_len(m), std::uint32_t(scratch_.size()));
  const void* p = rte_pktmbuf_read(m, 0, len, scratch_.data());
  return {static_cast<const char*>(p), p != nullptr ? len : 0};
}

void DpdkIo::free_message(rte_mbuf* m) { rte_pktmbuf_free(m); }

void DpdkIo::classify_shared(rte_mbuf** frames, std::size_t n, std::uint64_t now_tsc) {
  c_.neigh_received.inc(n);
  for (std::size_t i = 0; i < n; ++i) frames[i]->hash.usr = 0;
  stack_.classify(frames, n, now_tsc, dgrams_, kBurst);
  stack_.release();
}

// ---- transmit ----
void DpdkIo::flush_hook(void* ctx, reg::TxQueue& q) { static_cast<DpdkIo*>(ctx)->flush(q, rte_rdtsc()); }

void DpdkIo::flush(reg::TxQueue& q, std::uint64_t now_tsc) {
  const std::uint16_t src_port = std::uint16_t(opts_.listen_port + opts_.worker);
  for (std::size_t i = 0; i < q.size(); ++i) {
    const reg::TxQueue::Item& it = q[i];
    const net::Endpoint dst = to_endpoint(it.dst);
    const net::IpAddr& src = dst.addr.is_v4() ? opts_.source4 : opts_.source6;
    const net::SendResult r =
        stack_.send_udp(src_port, dst, it.data, it.len, now_tsc, src.family != 0 ? &src : nullptr);
    if (r != net::SendResult::sent && r != net::SendResult::queued) c_.tx_not_sent.inc();
  }
  q.clear();
}

// Hands the batch to the NIC in bursts until it takes no more, then drops the sent frames
// from the batch with one move: the batch is deep (a cold start's whole window of paced
// REGISTERs can wait there while the NIC's ring is full), so it is not shifted per burst.
std::uint32_t DpdkIo::send(std::uint16_t port, net::TxBatch& b) {
  std::uint32_t done = 0;
  while (done < b.count) {
    const std::uint16_t want = std::uint16_t(std::min<std::uint32_t>(b.count - done, kTxBurstMax));
    const std::uint16_t sent = rte_eth_tx_burst(port, opts_.worker, b.pkts + done, want);
    done += sent;
    if (sent < want) {
      c_.tx_full.inc();
      break;
    }
  }
  c_.tx_sent.inc(done);
  b.consumed(std::uint16_t(done));
  return done;
}

std::uint32_t DpdkIo::drain(std::uint64_t now_tsc, bool force) {
  std::uint32_t total = 0;
  const bool due = force || now_tsc - last_drain_ >= drain_ticks_;
  // After the NIC refused frames its ring frees slots only as fast as the wire (or memif's
  // peer) drains it: asking again on every loop iteration costs a call per iteration (a read of
  // the ring's shared indices) for nothing. Wait a little before the next try.
  const bool ring_full = now_tsc < tx_retry_at_;
  for (std::uint16_t port : opts_.ports) {
    net::TxBatch& b = stack_.tx(port);
    if (b.count == 0 || (!due && b.count < kBurst) || ring_full) continue;
    const std::uint16_t before = b.count;
    const std::uint32_t sent = send(port, b);
    total += sent;
    if (sent < before) tx_retry_at_ = now_tsc + retry_ticks_;
  }
  if (due) last_drain_ = now_tsc;
  return total;
}

void DpdkIo::poll(std::uint64_t now_tsc) {
  if (now_tsc - last_poll_ < poll_ticks_) return;
  last_poll_ = now_tsc;
  stack_.poll(now_tsc);
}

}  // namespace regfront::io
