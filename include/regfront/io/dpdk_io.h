// regfront/io/dpdk_io.h — one worker's DPDK I/O: its RX/TX queue on every port, its NetStack,
// the adapter from the engine's TxQueue to NetStack::send_udp, TX flushing on a TSC deadline,
// and the hand-off rings that carry what arrived on the wrong worker to its owner.
//
// Ownership by UDP port: worker i speaks from listen_port + i, so every response is addressed
// to its owner. rte_flow rules steer each port to its worker's queue where the NIC can; where it
// cannot (RSS, vdevs), a datagram classified on worker j for worker i is copied into an mbuf
// and passed on the SP/SC ring j→i (counted: handoff_out / handoff_in).
//
// Neighbours: ARP replies, gratuitous ARP and NDP advertisements arrive on one queue, but every
// worker resolves its own next hops (NetStack tables are per worker). Such frames are copied to
// every other worker over the same rings before classification, so all tables learn them.
// Requests (ARP request, NS) are not copied: the worker that got one answers it once.
//
//   HandoffFabric fabric;  fabric.create(workers, 1024, tag);               // control thread
//   DpdkIo io(opts, plan.net, pool, &fabric);  io.init();
//   // loop: io.rx(now_tsc, on_datagram, on_unreachable); engine …; io.flush(txq);
//   //       io.drain(now_tsc); io.poll(now_tsc);
#pragma once

#include <atomic>
#include <iterator>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/common/counter.h"
#include "regfront/common/status.h"
#include "regfront/io/dpdk_plan.h"
#include "regfront/net/stack.h"
#include "regfront/reg/engine.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_ring;

namespace regfront::io {

// The hand-off counters of one worker (X-macro: names for show/metrics).
#define REGFRONT_DPDK_IO_COUNTERS(X)                                                       \
  X(handoff_out, "datagrams/events passed to their owner worker")                          \
  X(handoff_in, "datagrams/events received from another worker")                           \
  X(handoff_drop, "hand-offs lost: ring full or no mbuf")                                  \
  X(handoff_too_big, "datagrams too large to hand off")                                    \
  X(neigh_shared, "ARP/NDP frames copied to the other workers")                            \
  X(neigh_received, "ARP/NDP frames received from another worker")                         \
  X(tx_sent, "frames the NIC accepted")                                                    \
  X(tx_full, "flushes that left frames for later (TX queue full)")                         \
  X(tx_not_sent, "datagrams the stack could not send (no route, unresolved, no mbuf)")     \
  X(rx_bursts, "non-empty RX bursts")                                                      \
  X(tsc_hz, "TSC ticks per second (constant: converts the *_tsc counters)")                \
  X(busy_tsc, "TSC ticks in loop iterations that received, built or sent something")       \
  X(stage_rx_tsc, "busy ticks in RX: rx burst, L2-L4, SIP parse and engine per datagram")  \
  X(stage_rx_burst_tsc, "of stage_rx: rte_eth_rx_burst calls that returned frames")        \
  X(stage_classify_tsc, "of stage_rx: NetStack::classify (L2-L4, checksums)")               \
  X(stage_release_tsc, "of stage_rx: freeing the burst's mbufs")                            \
  X(stage_build_tsc, "busy ticks turning the engine's TxQueue into frames (send_udp)")     \
  X(stage_advance_tsc, "busy ticks in the engine's timers and paced starts")              \
  X(stage_tx_tsc, "busy ticks in rte_eth_tx_burst (drain)")                                \
  X(stage_other_tsc, "busy ticks elsewhere: snapshot pick-up, NetStack poll, QSBR")       \
  X(answer_le_2us, "frames sent while handling an RX burst, <= 2 us after the poll before it") \
  X(answer_le_5us, "... <= 5 us (from the previous rx_burst call: the frame that caused it "    \
                   "arrived no earlier; to the end of the tx_burst that sent it)")              \
  X(answer_le_10us, "... <= 10 us")                                                           \
  X(answer_le_20us, "... <= 20 us")                                                           \
  X(answer_le_30us, "... <= 30 us")                                                           \
  X(answer_le_40us, "... <= 40 us")                                                           \
  X(answer_le_50us, "... <= 50 us")                                                           \
  X(answer_le_100us, "... <= 100 us")                                                         \
  X(answer_le_1ms, "... <= 1 ms")                                                             \
  X(answer_over_1ms, "... > 1 ms")                                                           \
  X(answer_deferred, "RX bursts whose answers could not all leave at once (TX ring full)")

struct alignas(64) DpdkIoCounters {
  REGFRONT_DPDK_IO_COUNTERS(REGFRONT_COUNTER_FIELD)
};
extern const CounterInfo kDpdkIoCounterInfo[];
extern const std::size_t kDpdkIoCounterCount;
std::uint64_t dpdk_io_counter(const DpdkIoCounters& c, std::size_t i);

// SP/SC rings for every ordered pair of workers (from → to), created on the control thread.
class HandoffFabric {
 public:
  HandoffFabric() = default;
  ~HandoffFabric();
  HandoffFabric(const HandoffFabric&) = delete;
  HandoffFabric& operator=(const HandoffFabric&) = delete;
  // `size` slots per ring (rounded up to a power of two). `tag` keeps ring names unique.
  Status create(std::uint32_t workers, std::uint32_t size, const std::string& tag);
  rte_ring* ring(std::uint32_t from, std::uint32_t to) const { return rings_[from * workers_ + to]; }
  std::uint32_t workers() const { return workers_; }

  // Shutdown: a worker whose own unregistrations are done keeps receiving and handing off —
  // responses for another worker's bindings may still land on its queue — until every worker
  // has said it is done (or its deadline passes).
  void mark_finished() { finished_.fetch_add(1, std::memory_order_acq_rel); }
  bool all_finished() const { return finished_.load(std::memory_order_acquire) >= workers_; }

 private:
  std::atomic<std::uint32_t> finished_{0};
  std::uint32_t workers_ = 0;
  std::vector<rte_ring*> rings_;  // [from * workers + to]; the diagonal is null
};

struct DpdkIoOptions {
  std::uint16_t worker = 0;                 // also the RX/TX queue id on every port
  std::uint16_t listen_port = 5060;         // worker i owns listen_port + i
  std::vector<std::uint16_t> ports;         // ports to poll
  std::uint32_t tx_drain_us = 50;           // TX flush deadline
  net::IpAddr source4, source6;             // SIP source addresses (bind interface)
  // Stage timing (stage_*_tsc): an rdtsc at each stage boundary of RX and of the worker's loop
  // (regfront/worker/loop_stats.h). Off unless asked for (regfrontd --stage-timing).
  bool stage_timing = false;
};

class DpdkIo {
 public:
  static constexpr std::uint16_t kBurst = 32;
  static constexpr std::uint32_t kMaxHandoff = 65536;  // largest datagram handed off (with its source)

  DpdkIo(const DpdkIoOptions& o, net::NetConfig cfg, rte_mempool* pool, HandoffFabric* fabric);
  ~DpdkIo();
  DpdkIo(const DpdkIo&) = delete;
  DpdkIo& operator=(const DpdkIo&) = delete;

  Status init();  // set-up: NetStack tables, scratch

  // RX: one burst from each port's queue (neighbour frames shared, then classified), then what
  // the other workers handed over. on_datagram(std::string_view, const sockaddr_storage& src,
  // socklen_t) for each datagram this worker owns, on_unreachable(const sockaddr_storage& dst,
  // std::string_view quoted) for each ICMP event (the quoted UDP payload); views end at the
  // next rx.
  // Returns the number of datagrams and events delivered.
  template <class D, class U>
  std::size_t rx(std::uint64_t now_tsc, D&& on_datagram, U&& on_unreachable) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < opts_.ports.size(); ++i) {
      const std::size_t k = rx_port(opts_.ports[i], now_tsc);
      for (std::size_t j = 0; j < k; ++j) {
        if (owner_of(dgrams_[j].dst.port) != opts_.worker && hand_off_datagram(dgrams_[j])) continue;
        sockaddr_storage src;
        const socklen_t src_len = to_sockaddr(dgrams_[j].src, src);
        on_datagram(std::string_view(reinterpret_cast<const char*>(dgrams_[j].payload), dgrams_[j].len), src, src_len);
        ++n;
      }
      for (const net::UnreachableEvent& e : stack_.events()) {
        if (owner_of(e.src.port) != opts_.worker && hand_off_event(e)) continue;
        sockaddr_storage ss;
        to_sockaddr(e.dst, ss);
        on_unreachable(ss, e.quoted_payload());
        ++n;
      }
      if (k != 0 && opts_.stage_timing) {
        const std::uint64_t t = rte_rdtsc();
        stack_.release();
        c_.stage_release_tsc.inc(rte_rdtsc() - t);
      } else {
        stack_.release();
      }
    }
    if (fabric_ != nullptr && fabric_->workers() > 1) {
      n += rx_handoff(now_tsc, on_datagram, on_unreachable);
    }
    return n;
  }

  // A request this worker received for a call another worker owns (the relay says which):
  // copied with its source onto the hand-off ring to `to`. False (counted) when it cannot be.
  bool hand_off_request(std::uint32_t to, std::string_view datagram, const sockaddr_storage& src);

  // The engine's TxQueue → NetStack::send_udp from our port, then empties the queue. Frames go
  // to the per-port TX batches; drain() sends them.
  void flush(reg::TxQueue& q, std::uint64_t now_tsc);
  static void flush_hook(void* ctx, reg::TxQueue& q);
  // Sends the TX batches to the NIC when `force`, when a batch holds a burst, or when the
  // oldest frame waited tx_drain_us.
  // `force` is also what the worker passes after an iteration that received datagrams: the
  // answers a burst produced leave with it (one rte_eth_tx_burst per RX burst), so an answer
  // to a challenge does not wait for the deadline.
  std::uint32_t drain(std::uint64_t now_tsc, bool force = false);  // returns the frames sent
  // Neighbour retries, fragment timeouts (NetStack::poll), at most every 100 µs.
  void poll(std::uint64_t now_tsc);
  void announce(std::uint64_t now_tsc) { stack_.announce(now_tsc); }

  const DpdkIoCounters& counters() const { return c_; }
  // True once every port reports link up (rte_eth_link_get_nowait); sticky, so it costs
  // nothing afterwards.
  bool links_up() {
    if (links_up_) return true;
    for (std::uint16_t port : opts_.ports) {
      rte_eth_link link{};
      if (rte_eth_link_get_nowait(port, &link) != 0 || link.link_status != RTE_ETH_LINK_UP) return false;
    }
    return links_up_ = true;
  }
  std::uint32_t tx_backlog() {  // frames waiting in the TX batches
    std::uint32_t n = 0;
    for (std::uint16_t port : opts_.ports) n += stack_.tx(port).count;
    return n;
  }
  // Histogram (answer_* counters) of `frames` sent `ticks` after the poll preceding the RX
  // burst that produced them: an upper bound of "request arrived -> answer left" per frame.
  void record_answers(std::uint64_t ticks, std::uint32_t frames) {
    if (frames == 0) return;
    Counter* const buckets[] = {&c_.answer_le_2us,  &c_.answer_le_5us,  &c_.answer_le_10us,
                                &c_.answer_le_20us, &c_.answer_le_30us, &c_.answer_le_40us,
                                &c_.answer_le_50us, &c_.answer_le_100us, &c_.answer_le_1ms};
    for (std::size_t i = 0; i < std::size(buckets); ++i) {
      if (ticks <= answer_ticks_[i]) {
        buckets[i]->inc(frames);
        return;
      }
    }
    c_.answer_over_1ms.inc(frames);
  }
  DpdkIoCounters& counters() { return c_; }
  const net::NetCounters& net_counters() const { return stack_.counters(); }
  net::NetStack& stack() { return stack_; }
  std::uint16_t owner_of(std::uint16_t udp_port) const {
    const std::uint32_t off = std::uint16_t(udp_port - opts_.listen_port);
    return off < workers_ ? std::uint16_t(off) : opts_.worker;
  }

 private:
  std::size_t rx_port(std::uint16_t port, std::uint64_t now_tsc);
  static constexpr std::uint16_t kTxBurstMax = 256;  // frames per rte_eth_tx_burst call
  std::uint32_t send(std::uint16_t port, net::TxBatch& b);
  void share_neighbour_frames(rte_mbuf** pkts, std::size_t n);
  bool hand_off_datagram(const net::RxDatagram& d);
  bool hand_off_event(const net::UnreachableEvent& e);
  bool hand_off(std::uint32_t to, std::uint32_t kind, const void* a, std::size_t alen, const void* b,
                std::size_t blen);
  // Reads one hand-off message: kind, and a view of its body (linearised into scratch_).
  std::string_view open_message(rte_mbuf* m, std::uint32_t& kind);
  static void free_message(rte_mbuf* m);
  void classify_shared(rte_mbuf** frames, std::size_t n, std::uint64_t now_tsc);

  template <class D, class U>
  std::size_t rx_handoff(std::uint64_t now_tsc, D& on_datagram, U& on_unreachable);
  std::uint32_t dequeue(std::uint32_t from, rte_mbuf** out, std::uint32_t max);

  DpdkIoOptions opts_;
  std::uint32_t workers_;
  rte_mempool* pool_;
  HandoffFabric* fabric_;
  net::NetStack stack_;
  net::RxDatagram dgrams_[kBurst];
  std::vector<char> scratch_;  // a handed-off datagram, linearised
  std::uint64_t drain_ticks_ = 0, poll_ticks_ = 0, last_drain_ = 0, last_poll_ = 0;
  std::uint64_t retry_ticks_ = 0, tx_retry_at_ = 0;  // TX ring was full: next try not before
  bool links_up_ = false;
  std::uint64_t answer_ticks_[9] = {};                // 2, 5, 10, 20, 30, 40, 50, 100, 1000 µs
  DpdkIoCounters c_;
};

// Hand-off message kinds (rte_mbuf::hash.usr of the ring's mbufs).
enum HandoffKind : std::uint32_t { kHandoffFrame = 1, kHandoffDatagram = 2, kHandoffEvent = 3 };

template <class D, class U>
std::size_t DpdkIo::rx_handoff(std::uint64_t now_tsc, D& on_datagram, U& on_unreachable) {
  std::size_t n = 0;
  rte_mbuf* msgs[kBurst];
  rte_mbuf* frames[kBurst];
  for (std::uint32_t from = 0; from < workers_; ++from) {
    if (from == opts_.worker) continue;
    const std::uint32_t k = dequeue(from, msgs, kBurst);
    std::size_t nframes = 0;
    for (std::uint32_t i = 0; i < k; ++i) {
      std::uint32_t kind = 0;
      const std::string_view body = open_message(msgs[i], kind);
      if (kind == kHandoffFrame) {
        frames[nframes++] = msgs[i];  // the stack takes it over
        continue;
      }
      if (kind == kHandoffDatagram && body.size() >= sizeof(sockaddr_storage)) {
        sockaddr_storage src;
        std::memcpy(&src, body.data(), sizeof src);
        on_datagram(body.substr(sizeof src), src,
                    socklen_t(src.ss_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in)));
        ++n;
      } else if (kind == kHandoffEvent && body.size() >= sizeof(sockaddr_storage)) {
        sockaddr_storage ss;  // then the quoted payload
        std::memcpy(&ss, body.data(), sizeof ss);
        on_unreachable(ss, body.substr(sizeof ss));
        ++n;
      }
      c_.handoff_in.inc();
      free_message(msgs[i]);
    }
    if (nframes != 0) classify_shared(frames, nframes, now_tsc);
  }
  return n;
}

}  // namespace regfront::io
