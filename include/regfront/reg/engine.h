// regfront/reg/engine.h — the registration engine of one worker.
//
// A binding is (endpoint, registrar). The engine owns the bindings its worker was given by the
// snapshot's plan and runs, for each, REGISTER client transactions (RFC 3261 §17.1.2), the
// REGISTER rules of §10.2, digest answers (credential order F4, realm scoping F7), refresh at
// each binding's phase of the refresh period (spread evenly, also after a storm), backoff with
// jitter and Retry-After, per-registrar pacing, and unregistration.
// Refreshes answer the registrar's last accepted nonce without waiting for a challenge
// (EngineOptions::preemptive_auth), and a registrar answering again after timeouts gets its
// backed-off bindings back through its pacer, not when their timers expire.
//
// It is I/O-free and clock-free: the worker hands it received datagrams and the current time,
// and flushes the datagrams it queued in its TxQueue. Tests drive it with a manual clock and
// read the TxQueue directly (tests/unit/reg).
//
// Every operation that reads the snapshot takes a SnapshotPin (regfront/reg/snapshot_pin.h):
// proof that the caller is between picking the snapshot up and its next quiescent report, so
// the engine cannot be made to read a snapshot the control plane may already have freed.
//
//   Engine eng(opts, tx);
//   {
//     worker::ReadSection pin(reader);       // tests: reg::OwnedSnapshotPin pin(snapshot)
//     eng.adopt(pin, now);                   // the pinned snapshot, when it is new
//     eng.on_datagram(pin, bytes, now);      // for each received datagram
//     eng.advance(pin, now);                 // timers and paced starts
//     io.flush(tx);                          // send what was queued
//     wake = eng.next_deadline_ms(pin);      // before the pin (the read section) ends
//   }
//
// The engine never allocates, locks, logs or blocks after construction: every table is sized
// by EngineOptions (bindings, in-flight transactions), and counters are per worker.
//
// Ownership of identifiers: the Via branch is z9hG4bK + "rf" + worker + slot + CSeq + MAC, the
// Call-ID and From tag derive from (worker, slot, generation) with a keyed hash, so a response
// finds its binding in O(1) and a forged or stale one fails the MAC check and is counted.
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/auth/digest.h"
#include "regfront/common/counter.h"
#include "regfront/common/siphash.h"
#include "regfront/reg/snapshot.h"
#include "regfront/reg/snapshot_pin.h"
#include "regfront/reg/timer_wheel.h"
#include "regfront/sip/message.h"

namespace regfront::reg {

class Tracer;  // regfront/reg/trace.h

// ---- Outgoing datagrams, flushed by the I/O backend ----
//
// Items do not copy the request: `data` points into the engine's transaction slot, which keeps
// the bytes for retransmission anyway. A slot is given to another transaction only by
// advance() (paced starts), adopt() and begin_shutdown(), so the backend flushes after each
// burst of on_datagram() calls and after each advance() — before calling any of those again.
class TxQueue {
 public:
  struct Item {
    sockaddr_storage dst;
    socklen_t dst_len;
    std::uint16_t len;
    const char* data;  // the engine's transaction slot; see above for how long it is valid
  };
  // `flush` is called (one indirect call per batch, never per packet) when the queue is full.
  using FlushFn = void (*)(void* ctx, TxQueue& q);
  explicit TxQueue(std::size_t capacity, FlushFn flush = nullptr, void* ctx = nullptr)
      : items_(capacity), flush_(flush), ctx_(ctx) {}

  // Returns an item to fill, flushing first when full; nullptr when full and no flusher is set.
  Item* reserve() {
    if (count_ == items_.size()) {
      if (flush_ == nullptr) return nullptr;
      flush_(ctx_, *this);
      if (count_ == items_.size()) return nullptr;
    }
    return &items_[count_];
  }
  void commit() { ++count_; }
  std::size_t size() const { return count_; }
  Item& operator[](std::size_t i) { return items_[i]; }
  // Emptied by the backend once sent; `cleared()` counts it, so a producer whose items point
  // into buffers of its own knows when they are free again.
  void clear() {
    count_ = 0;
    ++cleared_;
  }
  std::uint64_t cleared() const { return cleared_; }
  // Sends what is queued now (through the flush hook; nothing without one).
  void flush() {
    if (flush_ != nullptr && count_ != 0) flush_(ctx_, *this);
  }

 private:
  std::vector<Item> items_;
  std::size_t count_ = 0;
  std::uint64_t cleared_ = 0;
  FlushFn flush_;
  void* ctx_;
};

// ---- Counters: declared once (X-macro) so enum, names, CLI and metrics agree ----
#define REGFRONT_REGISTRAR_COUNTERS(X)                                                      \
  X(sent, "REGISTER transactions started")                                                  \
  X(retransmitted, "REGISTER retransmissions (Timer E)")                                    \
  X(retransmit_deferred, "retransmissions that waited for a token of the registrar's rate")   \
  X(challenged, "401/407 challenges received")                                              \
  X(authenticated, "REGISTER requests sent with credentials")                               \
  X(retry_deferred, "authenticated/423 retries that waited: rate and allowance spent")       \
  X(stale, "challenges with stale=true answered again")                                     \
  X(accepted, "2xx responses to REGISTER")                                                  \
  X(rejected, "final non-2xx responses other than 401/407/423")                             \
  X(interval_too_brief, "423 Interval Too Brief answered with Min-Expires")                 \
  X(timed_out, "transactions ended by Timer F or the retry limit")                          \
  X(no_credential, "challenges no configured credential may answer (F4.5)")                 \
  X(realm_refused, "challenges for a realm other than the registrar's auth-realm")          \
  X(auth_failed, "a realm challenged again after its credentials were sent (refused)")     \
  X(retry_after, "failures whose Retry-After was honoured")                                 \
  X(retry_after_capped, "Retry-After values above kMaxRetryAfterS, honoured as that maximum")  \
  X(response_too_large, "responses to our transactions the parser refused for size")         \
  X(unregistered, "bindings removed with Expires: 0")                                       \
  X(unregister_retried, "Expires: 0 sent again after a timeout or 408/5xx (old contact still held)") \
  X(stray, "late or duplicated responses of finished transactions")                        \
  X(realm_learning, "challenges for a realm new to realm-less credentials (HA1 requested)") \
  X(sha_learning, "SHA challenges for a realm without SHA HA1s yet (HA1s requested)")       \
  X(unreachable, "transactions failed fast by an ICMP unreachable quoting their request")     \
  X(preemptive, "refreshes sent with credentials for the registrar's cached nonce")           \
  X(preemptive_challenged, "refreshes with cached-nonce credentials challenged or refused")  \
  X(pulled_forward, "backed-off bindings restarted (paced) when the registrar answered again")    \
  X(options_sent, "OPTIONS keepalives sent (new transactions; the keepalive worker only)")     \
  X(options_retransmitted, "OPTIONS retransmissions (Timer E)")                               \
  X(options_answered, "OPTIONS answered with a final response that means up")                 \
  X(options_failed, "OPTIONS answered 503, 505 or 408: counted as unanswered")                      \
  X(options_timed_out, "OPTIONS ended by Timer F or an ICMP unreachable")                      \
  X(keepalive_down, "times the keepalive marked the registrar down")                          \
  X(keepalive_up, "times the keepalive marked the registrar up again")                        \
  X(keepalive_held, "refreshes, retries and retransmissions held while the registrar was down") \
  X(reregistered, "bindings queued for a REGISTER now by clear sip-ua registration")

#define REGFRONT_WORKER_COUNTERS(X)                                                         \
  X(rx_datagrams, "datagrams received")                                                     \
  X(tx_datagrams, "datagrams queued for sending")                                           \
  X(parse_errors, "malformed datagrams dropped")                                            \
  X(requests_ignored, "SIP requests received (not handled by the registration engine)")     \
  X(forged, "responses matching no transaction of ours (bad branch, MAC, CSeq, Call-ID)")   \
  X(misrouted, "responses for another worker's binding")                                    \
  X(tx_overflow, "requests not sent: transmit queue full")                                  \
  X(txn_pool_empty, "paced starts deferred: no free transaction slot")                      \
  X(build_errors, "requests too large to build")                                            \
  X(icmp_accepted, "ICMP unreachables quoting an in-flight request of ours (its txn failed)") \
  X(icmp_ignored, "ICMP unreachables quoting nothing in flight (forged, late, too short)")   \
  X(plan_overflow, "bindings beyond the worker's capacity (not started)")                    \
  X(realm_reports_dropped, "realm reports for the control plane dropped: its queue was full")

// A latency histogram a worker fills alone (relaxed stores, no allocation, no lock): a count per
// bucket (not cumulative; the control thread sums them into Prometheus' `le` buckets), the
// sum in the histogram's unit, and the bounds in that unit, ascending (the last bucket is +Inf).
template <std::size_t N>
struct Histogram {
  static constexpr std::size_t kBounds = N;
  Counter bucket[N + 1];
  Counter sum;
  void observe(const std::uint64_t (&bounds)[N], std::uint64_t v) {
    std::size_t i = 0;
    while (i < N && v > bounds[i]) ++i;
    bucket[i].inc();
    sum.inc(v);
  }
};
// Time to register, ms: the first REGISTER of an attempt that registers the binding (not
// registered when it went: at start, after a failure or a lapse) to its 2xx, its challenge
// rounds and retransmissions included. Failed attempts are counted by their own counters.
inline constexpr std::uint64_t kRegisterDurationMs[] = {10, 25, 50, 100, 250, 500, 1000, 2500, 5000,
                                                       10000, 30000, 60000, 120000, 300000};
// A 401/407 received to its answer sent (queued for the I/O backend's flush), ns.
inline constexpr std::uint64_t kChallengeAnswerNs[] = {1000,   2000,   5000,    10000,   20000,  50000,
                                                      100000, 200000, 500000, 1000000, 5000000};
// A refresh's REGISTER sent past its planned refresh point (pacing, a held registrar), ms.
inline constexpr std::uint64_t kRefreshLatenessMs[] = {1, 5, 10, 50, 100, 500, 1000, 5000, 10000, 30000, 60000, 300000};

struct RegistrarCounters {
  REGFRONT_REGISTRAR_COUNTERS(REGFRONT_COUNTER_FIELD)
  Counter by_code[400];  // final responses 300..699 (index code - 300)
  // The last failure of a transaction to this registrar (not counters: last values): the
  // final code (408 timeout, 503 ICMP unreachable, or the registrar's) and when (engine ms).
  Counter last_failure_code;
  Counter last_failure_ms;
  // The OPTIONS keepalive as its worker (SnapRegistrar::keepalive_worker) sees it, last values:
  // state (KeepaliveState), since when (engine ms), the last final code (408: Timer F, 503:
  // ICMP unreachable when no response).
  Counter keepalive_state;
  Counter keepalive_since_ms;
  Counter keepalive_last_code;
  Histogram<std::size(kRegisterDurationMs)> register_duration;    // ms
  Histogram<std::size(kChallengeAnswerNs)> challenge_answer;      // ns (EngineOptions::ticks set)
  Histogram<std::size(kRefreshLatenessMs)> refresh_lateness;      // ms
};

enum class KeepaliveState : std::uint8_t { none = 0, up = 1, down = 2 };

enum class BindingState : std::uint8_t {
  idle,           // slot not in use
  queued,         // waiting for its turn under the registrar's rate
  registering,    // REGISTER transaction in flight
  registered,     // refresh timer armed
  backoff,        // failed; retry timer armed
  unregistering,  // Expires: 0 in flight
  unregistered,   // removed at the registrar (shutdown)
  waiting_dns,    // registrar not resolved yet
  held,           // queued; the OPTIONS keepalive has its registrar down (status rows only)
};
inline constexpr std::size_t kBindingStates = 9;
std::string_view state_name(BindingState s);

// A worker's bindings of one registrar slot of the snapshot by state, kept by the engine on
// every transition (gauges; one writer, relaxed): what `show sip-ua register status` rows say
// without walking them. `state[s]` counts the engine's own states (idle, waiting_dns and held
// stay 0: a queued binding shows as waiting-dns or held when its whole registrar is so, which
// `queued_as` says). `live` counts the bindings whose registration has not run out
// (registered_until > now, the rows with seconds left, starred ones included): the engine
// arms an expiry timer per registration and counts the lapse when it fires.
struct BindingCounts {
  Counter state[kBindingStates];
  Counter live;
  Counter queued_as;  // a BindingState: queued, waiting_dns or held
};

struct alignas(64) WorkerCounters {
  REGFRONT_WORKER_COUNTERS(REGFRONT_COUNTER_FIELD)
  RegistrarCounters registrar[kRegistrarSlots];
  // By the snapshot's registrar slot (0..5: registrar index - 1; 6..11: bindings leaving a
  // removed or re-addressed registrar), not by counter index.
  BindingCounts bindings[kSnapRegistrarSlots];
};

// Counter names and help, in declaration order (for show and metrics).
extern const CounterInfo kRegistrarCounterInfo[];
extern const std::size_t kRegistrarCounterCount;
extern const CounterInfo kWorkerCounterInfo[];
extern const std::size_t kWorkerCounterCount;
// Reads counter i of a counter struct in declaration order.
std::uint64_t registrar_counter(const RegistrarCounters& c, std::size_t i);
std::uint64_t worker_counter(const WorkerCounters& c, std::size_t i);


// Why a binding's last attempt failed (the status row's `reason`; none while it is fine).
enum class FailReason : std::uint8_t {
  none,
  timeout,             // Timer F or the retry limit (last code 408)
  unreachable,         // an ICMP unreachable quoted its request (last code 503)
  rejected,            // a final response other than 2xx/401/407 (last code: the registrar's)
  auth_failed,         // the realm in the row challenged again after its credentials were sent
  no_credential,       // nothing configured may answer the realm challenged (F4.5, F7)
  response_too_large,  // the registrar's response was refused by the parser for its size
  build_error,         // the request did not fit a transaction slot
  retry_after,         // refused with a Retry-After (last code: the registrar's), honoured
};
std::string_view reason_name(FailReason r);

// Retry-After is honoured up to this (RFC 3261 §20.33 sets no bound; a registrar saying
// 999999999 would park the binding for 31 years): larger values count as this, and are counted.
inline constexpr std::uint32_t kMaxRetryAfterS = 3600;

// A binding's realm when the last challenge named a realm no snapshot has an id for (nobody
// configured it): the name is StatusTables::unknown_realm of the binding's registrar index.
inline constexpr std::uint32_t kUnknownRealm = 0xfffffffeu;
// Addresses a worker's requests went to, per registrar index: a binding keeps a 3-bit id into
// its index's ring (7 entries, reused oldest first; an id never points at an address the
// current snapshot still uses for another slot of that index).
inline constexpr std::uint8_t kAddressIds = 7;
inline constexpr std::uint8_t kNoAddress = 7;

// What status rows' compact ids mean, per registrar index (0..5), copied out with the rows.
struct StatusTables {
  sockaddr_storage address[kRegistrarSlots][kAddressIds]{};
  socklen_t address_len[kRegistrarSlots][kAddressIds]{};
  // The last challenged realm nobody configured, as received (kUnknownRealm rows).
  char unknown_realm[kRegistrarSlots][auth::kMaxRealmLength]{};
  std::uint8_t unknown_realm_len[kRegistrarSlots]{};
  // The last Retry-After honoured (seconds, capped), for FailReason::retry_after rows.
  std::uint32_t retry_after_s[kRegistrarSlots]{};
};

// One row of `show sip-ua register status`, copied out by the worker (see Engine::status).
struct BindingStatus {
  std::uint32_t endpoint;      // index in the snapshot the engine runs on
  std::uint8_t registrar;      // slot 0..5
  BindingState state;
  std::uint16_t last_code;
  std::uint32_t granted;       // seconds granted by the registrar (0 = none)
  std::int64_t seconds_left;   // until the registration expires at the registrar (≤0: not)
  std::uint32_t credential;    // index in the snapshot's credentials, kNoEntry = none used
  std::uint32_t realm;         // realm id answered, kNoRealm = none
  FailReason reason;           // why the last attempt failed (none: it did not)
  std::uint8_t sent_to;        // StatusTables::address id of the last request; kNoAddress = none
  std::uint8_t algorithm;      // of the last challenge received: 1 + auth::Algorithm, 0 = none
  // Until the next REGISTER starts on its own (refresh or retry), ms: 0 = now (queued behind the
  // registrar's rate), -1 = none planned (in flight, held, waiting for DNS, done).
  std::int64_t next_attempt_ms;
};

struct EngineOptions {
  std::uint32_t worker = 0;
  std::uint32_t capacity = 1u << 16;       // binding slots
  std::uint32_t max_inflight = 8192;       // concurrent transactions
  SipKey key{};                            // secret for branch/Call-ID MACs (random per boot)
  std::uint64_t seed = 1;                  // jitter PRNG seed
  std::uint32_t backoff_base_ms = 4000;    // first retry after a failure: 50–100 % of this,
  std::uint32_t backoff_max_ms = 128000;   // doubling per failure up to this cap
  std::uint32_t t2_ms = 4000;              // RFC 3261 T2
  std::uint16_t via_port = 0;              // port in Via (this worker's socket); 0 = listen port
  // Refreshes carry credentials computed against the registrar's most recent nonce (kept per
  // registrar, not per binding), so a refresh is 2 datagrams instead of 4. A registrar that
  // challenges them anyway at their first use, three nonces in a row (one-time nonces), is
  // sent none for `preemptive_holdoff_ms`.
  bool preemptive_auth = true;
  std::uint32_t preemptive_holdoff_ms = 600000;
  std::string_view user_agent = "regfront/0.1";
  // debug ccsip: the worker's tracer (regfront/reg/trace.h), or none. Not owned.
  Tracer* tracer = nullptr;
  // A fine clock for the challenge-answer latency (RegistrarCounters::challenge_answer): read
  // when a 401/407 arrives and when its answer is queued. DPDK workers give the TSC, socket
  // workers CLOCK_MONOTONIC in ns; none: that histogram stays empty.
  std::uint64_t (*ticks)() = nullptr;
  std::uint64_t ticks_per_us = 1000;
};

class Engine {
 public:
  Engine(const EngineOptions& opts, TxQueue& tx);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Switches to the pinned snapshot when it is not the one the engine runs on (a no-op
  // otherwise, and before the first publication). New bindings are queued for registration.
  void adopt(const SnapshotPin& pin, std::uint64_t now_ms);

  // One received datagram (a response to one of our transactions, normally).
  void on_datagram(const SnapshotPin& pin, std::string_view datagram, std::uint64_t now_ms);
  // The same for a worker that parses datagrams itself (it hands requests to the call relay):
  // count each datagram once, and give the engine the responses that are its own.
  void count_datagram(bool parsed);
  void count_ignored_request();
  void on_response(const SnapshotPin& pin, const sip::Message& response, std::uint64_t now_ms);

  // A datagram the parser refused with ParseError::limit (a header over sip::kMaxHeaderLength,
  // too many headers): when it is a response whose top Via branch names one of our in-flight
  // transactions (MAC checked), that transaction fails now as `response_too_large` with the
  // response's status code, instead of timing out as a 408. Anything else is left as the
  // parse error it was counted as. The datagram is scanned, not parsed; nothing allocates.
  void on_oversized(const SnapshotPin& pin, std::string_view datagram, std::uint64_t now_ms);

  // An ICMP/ICMPv6 destination unreachable. `dst` is the quoted datagram's destination and
  // `quoted` the quoted UDP payload (as much as the ICMP message carried). It counts only when
  // it quotes a request of ours that is in flight (RFC 5927 §4.1-style validation): the quoted
  // top Via branch names the transaction (MAC checked), `dst` is its registrar's address, and
  // the quoted bytes are a prefix of the request sent. That transaction then fails (503,
  // `unreachable`) at the next advance() — never a whole registrar. A quote too short to reach
  // the branch (RFC 792 asks only 8 bytes past the IP header; Linux and RFC 1812 routers quote
  // up to 576 bytes in all) names no transaction and is ignored. Counted: icmp_accepted,
  // icmp_ignored. O(1): a forged ICMP cannot make the worker scan its bindings.
  // Returns true when accepted.
  bool on_unreachable(const SnapshotPin& pin, const sockaddr_storage& dst, std::string_view quoted,
                      std::uint64_t now_ms);

  // Runs timers due by now_ms and starts queued transactions within each registrar's rate.
  void advance(const SnapshotPin& pin, std::uint64_t now_ms);

  // clear sip-ua registration: queues for a REGISTER now (through each registrar's pacer, never
  // faster than its rate) the bindings of the registrars in `registrars` (bit i = index i + 1)
  // that are registered or backing off; only `number`'s when it is not empty (O(registrars):
  // its slots are chained from its endpoint). Without a number the slots are swept a bounded
  // chunk per advance(). Counted per registrar: reregistered.
  void reregister(const SnapshotPin& pin, std::uint8_t registrars, std::string_view number, std::uint64_t now_ms);

  // Unregisters every registered binding (Expires: 0, paced) and stops refreshing.
  void begin_shutdown(const SnapshotPin& pin, std::uint64_t now_ms);
  // True once shutdown was begun and nothing is queued or in flight.
  bool shutdown_done() const;

  // Earliest time advance() has work (for an idle poller's sleep bound). It reads the
  // registrars' rates: compute it before the read section ends, sleep after.
  std::uint64_t next_deadline_ms(const SnapshotPin& pin) const;

  // Copies up to `max` binding rows starting at slot `from` into `out`; returns the count
  // written and sets `next` to the slot to continue from (== slot count when done). Run on the
  // worker thread (the daemon asks for it between bursts).
  std::size_t status(const SnapshotPin& pin, std::uint32_t from, BindingStatus* out, std::size_t max,
                     std::uint32_t& next, std::uint64_t now_ms) const;
  std::uint32_t slot_count() const;
  // What the rows' ids (address, unknown realm, Retry-After) mean; read on the worker thread,
  // copied out with the rows.
  const StatusTables& status_tables() const;

  // Realms that only a realm-less credential (F4.4) could answer but that no snapshot has an
  // HA1 for yet, with the registrar slot (0..5) that challenged with each. The worker pushes
  // them (its binding retries shortly); the control thread pops them (single consumer),
  // computes the HA1s and publishes a snapshot that has them.
  bool pop_unknown_realm(std::string& realm, std::uint8_t& registrar);
  // Learned realms (Snapshot::learned_realm) a realm-less credential answered, with the
  // registrar slot; each (realm, registrar) at most every 10 s. The control thread keeps its
  // learned realms per registrar and evicts the least recently used.
  bool pop_used_realm(std::string& realm, std::uint8_t& registrar);
  // Realms that challenged with SHA-256 or SHA-512/256 while the snapshot has only MD5 HA1s for
  // their credentials (it computes the SHA ones only for realms known to use them). Same path:
  // the worker pushes and retries shortly, the control thread adds the realm to its SHA realms.
  bool pop_sha_realm(std::string& realm);

  const WorkerCounters& counters() const { return *counters_; }
  // Version of the snapshot the engine runs on (0: none yet). Rows from status() index into it.
  std::uint64_t adopted_version() const { return adopted_version_; }
  std::uint32_t registered_count(std::uint64_t now_ms) const;
  // True when the binding in `slot` of this worker's plan is registered now (the registrar
  // granted it and the grant has not run out). The call relay asks it for `session target
  // registrar`; it reads no snapshot.
  bool registered(std::uint32_t slot, std::uint64_t now_ms) const;
  std::uint32_t inflight() const;

 private:
  struct Binding;
  struct Txn;
  struct Pacer;
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<WorkerCounters> counters_;
  // Read only from the operations that take a SnapshotPin (and what they call).
  const Snapshot* snap_ = nullptr;
  std::uint64_t adopted_version_ = 0;
  // Debug builds: the pin passed is for the snapshot adopted last.
  void check_pin(const SnapshotPin& pin) const;
};

}  // namespace regfront::reg
