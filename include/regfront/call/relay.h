// regfront/call/relay.h — the call relay of one worker: a transaction-stateful, record-routing
// proxy (RFC 3261 §16) for the calls of the numbers regfront registers, which answers the
// providers' 401/407 challenges itself (docs/rules.md: F3, F4, F7).
//
// Two directions:
//   - outbound, from a trusted session target (the SBC core) to a provider: the called number
//     picks the voip dial peers (destination-pattern, IOS order); `session target registrar`
//     tries the registrars that hold a live binding for the calling number, in index order. A
//     401/407 is ACKed and the INVITE re-sent with the calling number's credential for the
//     challenged realm (F4 order, F7 scoping), a new branch and CSeq + 1; timeouts, 408 and 5xx
//     hunt to the next target (a 503's Retry-After keeps that target out meanwhile), stopped by
//     `huntstop`; the From host follows F6.
//   - inbound, from a provider (a registrar's address) to a registered number: the voip dial
//     peer whose `incoming called-number` matches (else whose destination-pattern does) sends it
//     to its session target. Unknown numbers get 404, untrusted sources 403, OPTIONS to the
//     Contact 200 with Allow (RFC 3261 §11), methods regfront does not relay 405.
//
// Dialogs: ACK for 2xx, BYE, re-INVITE, UPDATE, PRACK, INFO and CANCEL follow the Record-Route.
// Every challenge answered towards a provider adds 1 to the CSeq of the requests from the core
// side of that dialog; the offset is applied to every later request in that direction and
// removed from the responses, so a UAS that enforces RFC 3261 §12.2.2 accepts them. In-dialog
// challenges are answered too.
//
// Like the registration engine it is I/O-free and clock-free (the worker hands it parsed
// messages with their source and the time, and flushes its TxQueue), never allocates after
// construction (calls live in a table sized by RelayOptions::max_calls; a full table answers
// 503 and counts), and reads the snapshot only through a SnapshotPin.
//
//   Relay relay(opts, tx, Liveness::of(engine));
//   relay.adopt(pin, now);
//   relay.on_request(pin, msg, src, src_len, now);     // a request for this worker
//   relay.on_response(pin, msg, src, src_len, now);    // a response whose branch is the relay's
//   relay.advance(pin, now);                           // retransmissions, Timer B/C, idle calls
#pragma once

#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/common/counter.h"
#include "regfront/common/siphash.h"
#include "regfront/reg/engine.h"
#include "regfront/reg/snapshot_pin.h"
#include "regfront/sip/message.h"

namespace regfront::call {

// Branches of the relay's transactions start with this (the registration engine's with
// "z9hG4bKrf"): the worker hands responses to one or the other by it.
inline constexpr std::string_view kRelayBranchPrefix = "z9hG4bKrc";
// True when a response's top Via branch is the relay's.
bool is_relay_branch(std::string_view branch);

// ---- Counters (X-macro: enum, names, CLI and metrics agree) ----
#define REGFRONT_CALL_COUNTERS(X)                                                             \
  X(calls_out, "outbound calls (from the core) accepted for routing")                         \
  X(calls_in, "inbound calls (from a provider) accepted for routing")                         \
  X(answered, "calls answered (2xx to the initial INVITE)")                                   \
  X(failed, "calls that ended with a final non-2xx response towards the caller")             \
  X(cancelled, "calls cancelled by the caller before an answer")                             \
  X(hunted, "attempts that moved on to the next dial peer or registrar")                      \
  X(challenged, "401/407 received for a relayed request")                                     \
  X(authenticated, "requests re-sent with credentials")                                       \
  X(no_credential, "challenges no configured credential may answer (F4.5, F7)")              \
  X(auth_failed, "challenges repeated for a nonce already answered (bad credentials)")       \
  X(options_answered, "OPTIONS to a Contact answered locally")                                \
  X(untrusted, "requests refused with 403: the source is not trusted")                        \
  X(not_found, "calls refused with 404: unknown number or no dial peer")                      \
  X(not_allowed, "requests refused with 405: a method regfront does not relay")               \
  X(too_many_hops, "requests refused with 483: Max-Forwards reached 0")                       \
  X(table_full, "calls refused with 503: no free call slot")                                  \
  X(too_large, "requests refused with 513 or not relayed: over the relay's buffer")          \
  X(no_dialog, "in-dialog requests for no known call (481)")                                  \
  X(forged, "responses with a relay branch that matches no transaction of ours")             \
  X(stray, "late responses of finished transactions, absorbed")                               \
  X(timeouts, "attempts ended by Timer B or Timer C")                                         \
  X(idle_released, "dialogs released after the idle time without any request")              \
  X(build_errors, "messages that could not be built (malformed input, over a limit)")

// Calls per dial peer, by tag, in a fixed table per worker: the worker claims a row for a tag
// the first time one of its calls tries that dial peer (a release store of the tag after the
// row's counters, which start at 0), and the control plane reads the rows whose tag it sees
// (acquire). Dial peers beyond the table are counted in the row of tag 0.
struct DialPeerCounters {
  static constexpr std::size_t kRows = 256;
  struct Row {
    std::atomic<std::uint32_t> tag{0};  // 0: free (or the overflow row)
    Counter attempts;                   // attempts sent to one of its targets
    Counter answered;                   // calls it answered (2xx)
    Counter failed;                     // calls that ended on it with a final non-2xx
  };
  Row rows[kRows];
  // The row of `tag`, claimed when new; the overflow row when the table is full. Worker only.
  Row& of(std::uint32_t tag);
};

struct alignas(64) CallCounters {
  REGFRONT_CALL_COUNTERS(REGFRONT_COUNTER_FIELD)
  // Calls per registrar slot (0..5) placed through it, and answered through it.
  Counter via_registrar[reg::kRegistrarSlots];
  Counter answered_via_registrar[reg::kRegistrarSlots];
  DialPeerCounters dial_peers;
};
extern const CounterInfo kCallCounterInfo[];
extern const std::size_t kCallCounterCount;
std::uint64_t call_counter(const CallCounters& c, std::size_t i);

enum class CallDirection : std::uint8_t { outbound, inbound };
enum class CallState : std::uint8_t {
  idle,         // slot free
  trying,       // INVITE received, 100 sent, nothing sent downstream yet
  calling,      // INVITE sent downstream, no response yet (Timer A/B)
  proceeding,   // a provisional response came back (Timer C)
  confirmed,    // 2xx forwarded: a dialog
  terminating,  // BYE seen
  completed,    // a final non-2xx sent upstream: absorbing retransmissions, then free
};
std::string_view call_state_name(CallState s);

// One row of `show sip-ua calls`, copied out by the worker (see Relay::status).
struct CallStatus {
  CallDirection direction;
  CallState state;
  std::uint8_t registrar;        // slot 0..5 of the provider side, 0xff = none
  std::uint32_t dial_peer_tag;   // 0 = none
  std::uint32_t cseq_offset;     // challenges answered in this dialog
  std::int64_t age_s;
  char calling[32];              // NUL-terminated, truncated
  char called[32];
  char call_id[64];
};

struct RelayOptions {
  std::uint32_t worker = 0;
  std::uint32_t workers = 1;
  std::uint32_t max_calls = 2048;            // call slots (dialogs and calls being set up)
  SipKey key{};                               // branch MACs (random per boot)
  std::uint64_t seed = 1;
  std::uint16_t via_port = 5060;              // this worker's port (Via, Record-Route)
  std::uint16_t listen_port = 5060;           // worker 0's; worker i speaks from listen_port + i
  std::uint32_t timer_c_ms = 180000;          // RFC 3261 §16.6 step 11: > 3 minutes
  std::uint32_t idle_ms = 2 * 3600 * 1000;    // a dialog without any request for this long ends
  std::string_view user_agent = "regfront/0.1";
};

// Whether the binding in a slot of this worker's plan is registered now: the registration
// engine's answer (reg::Engine::registered), or a test's.
struct Liveness {
  bool (*registered)(const void* ctx, std::uint32_t slot, std::uint64_t now_ms) = nullptr;
  const void* ctx = nullptr;
  // The engine's answer.
  static Liveness of(const reg::Engine& e) {
    return {[](const void* c, std::uint32_t slot, std::uint64_t now) {
              return static_cast<const reg::Engine*>(c)->registered(slot, now);
            },
            &e};
  }
};

class Relay {
 public:
  Relay(const RelayOptions& opts, reg::TxQueue& tx, Liveness liveness);
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Follows a new snapshot (dial peers, targets, trusted sources). Calls in progress keep
  // their targets; a call whose registrar or dial peer went away ends at its next failure.
  void adopt(const reg::SnapshotPin& pin, std::uint64_t now_ms);

  // Which worker owns the call of this request: the worker whose port the top Route names (our
  // Record-Route, in a dialog: a UA that sends everything to the listen port still reaches the
  // call's worker), else for an INVITE, its CANCEL or the ACK of a final answer the worker of
  // its number (the calling number for calls from the core, the called number for calls from a
  // provider), else this worker. The worker hands requests for other workers on.
  std::uint32_t owner(const reg::SnapshotPin& pin, const sip::Message& request, const sockaddr_storage& src) const;

  // A request from `src` (parsed; its datagram stays valid during the call).
  void on_request(const reg::SnapshotPin& pin, const sip::Message& m, const sockaddr_storage& src, socklen_t src_len,
                  std::uint64_t now_ms);
  // A response whose top Via branch is the relay's (is_relay_branch).
  void on_response(const reg::SnapshotPin& pin, const sip::Message& m, std::uint64_t now_ms);
  // Retransmissions (Timer A), timeouts (Timer B, Timer C), idle dialogs, released slots.
  void advance(const reg::SnapshotPin& pin, std::uint64_t now_ms);
  // Earliest time advance() has work.
  std::uint64_t next_deadline_ms(const reg::SnapshotPin& pin) const;

  // Copies up to `max` rows of calls being set up or in a dialog from slot `from` on (see
  // Engine::status); finished calls that only absorb retransmissions are left out.
  std::size_t status(const reg::SnapshotPin& pin, std::uint32_t from, CallStatus* out, std::size_t max,
                     std::uint32_t& next, std::uint64_t now_ms) const;
  std::uint32_t slot_count() const;
  std::uint32_t active_calls() const;

  const CallCounters& counters() const { return *counters_; }

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<CallCounters> counters_;
};

}  // namespace regfront::call
