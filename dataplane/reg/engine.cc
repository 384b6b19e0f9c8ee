// The registration engine of one worker. See regfront/reg/engine.h for the contract.
//
// Order of work per call:
//   on_datagram: parse → match (branch MAC, CSeq, Call-ID) → the binding's state machine, which
//                may queue one request (authenticated retry, 423 retry) into the TxQueue.
//   advance:     timer wheel (retransmissions, timeouts, refreshes, backoff expiry) → paced
//                starts of queued bindings, registrar by registrar, within each token bucket.
// Nothing here allocates after the constructor: bindings, timer nodes, transactions and the
// pacing queues are sized by EngineOptions.
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#include "regfront/reg/engine.h"

#include <netinet/in.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "regfront/common/check.h"
#include "regfront/common/prng.h"
#include "regfront/common/spsc_ring.h"
#include "regfront/reg/nonce_cache.h"
#include "regfront/reg/request.h"
#include "regfront/reg/token_bucket.h"
#include "regfront/reg/trace.h"
#include "regfront/sip/message.h"

namespace regfront::reg {

// ---------------------------------------------------------------------------------------------
// Counter tables

REGFRONT_DEFINE_COUNTER_SET(REGFRONT_REGISTRAR_COUNTERS, RegistrarCounters, kRegistrarCounterInfo,
                            kRegistrarCounterCount, registrar_counter)
REGFRONT_DEFINE_COUNTER_SET(REGFRONT_WORKER_COUNTERS, WorkerCounters, kWorkerCounterInfo, kWorkerCounterCount,
                            worker_counter)

std::string_view state_name(BindingState s) {
  switch (s) {
    case BindingState::idle: return "idle";
    case BindingState::queued: return "queued";
    case BindingState::registering: return "registering";
    case BindingState::registered: return "registered";
    case BindingState::backoff: return "backoff";
    case BindingState::unregistering: return "unregistering";
    case BindingState::unregistered: return "unregistered";
    case BindingState::waiting_dns: return "waiting-dns";
    case BindingState::held: return "held";
  }
  return "?";
}

std::string_view reason_name(FailReason r) {
  switch (r) {
    case FailReason::none: return "none";
    case FailReason::timeout: return "timeout";
    case FailReason::unreachable: return "unreachable";
    case FailReason::rejected: return "rejected";
    case FailReason::auth_failed: return "auth_failed";
    case FailReason::no_credential: return "no_credential";
    case FailReason::response_too_large: return "response_too_large";
    case FailReason::build_error: return "build_error";
    case FailReason::retry_after: return "retry_after";
  }
  return "?";
}

// ---------------------------------------------------------------------------------------------
// Internal state

namespace {

constexpr std::string_view kBranchPrefix = "z9hG4bKrf";  // RFC 3261 §8.1.1.7 cookie + ours
constexpr std::size_t kBranchLength = kBranchPrefix.size() + 2 + 8 + 8 + 16;
constexpr std::size_t kCallIdLength = 16 + 1 + 8 + 2;
constexpr std::size_t kMaxRequest = 1800;  // an authenticated REGISTER with a 256 B nonce fits
constexpr std::uint8_t kMaxRounds = 4;     // challenges + 423s answered per attempt
constexpr double kPaceBatchMs = 5.0;       // a paced queue with a backlog is served this often
// Paced starts per advance() call, all registrars together. The tokens of one millisecond (at
// 30,000/s for six registrars, 180 REGISTERs) would otherwise leave in one burst and come back
// as one burst of 401s, whose last answer waits behind all the others' (~1 us each): answering
// between groups keeps the 401 -> authenticated REGISTER time short. The loop calls advance()
// again at once while starts are pending (next_deadline_ms() says "now").
constexpr std::uint32_t kStartsPerAdvance = 32;
constexpr std::uint32_t kPullBudget = 256;  // down-list bindings moved per registrar per advance()
// Every REGISTER a registrar receives — new transactions, retransmissions (Timer E),
// authenticated and 423 retries — takes a token from its bucket (rate_per_worker). The bucket
// holds kBurstMs of the rate (at least one token); retransmissions and starts wait for a whole
// token, and retransmissions go first. An authenticated or 423 retry answers the registrar at
// once even with no token left: it may take the bucket below zero by kBorrowMs of the rate (at
// least one token), which the following starts pay back; beyond that it waits like the others.
// In any second a worker therefore sends a registrar at most its rate plus kBurstMs + kBorrowMs
// of it, i.e. rate + 10 % (at least 2 requests per worker): the allowance documented in the
// README ("registration rate").
constexpr double kBurstMs = 20.0;
constexpr double kBorrowMs = 80.0;
// OPTIONS keepalives are named in the branch (and Call-ID) by these pseudo slots, one per
// registrar, beyond any binding slot; their MAC is keyed with the registrar's generation.
constexpr std::uint32_t kKeepaliveSlot = 0xffffff00u;
constexpr std::size_t kMaxOptions = 640;

}  // namespace

struct Engine::Binding {
  std::uint32_t endpoint = kNoEntry;  // index in the current snapshot
  std::uint32_t generation = 0;
  std::uint32_t cseq = 0;
  std::uint32_t txn = kNoEntry;       // in-flight transaction slot
  std::uint32_t granted = 0;          // seconds granted by the registrar
  std::uint32_t requested = 0;        // seconds to ask for (raised by 423)
  std::uint64_t registered_until = 0; // ms; 0 = not registered
  std::uint64_t nonce = 0;            // tag of the last nonce answered in this attempt
  std::uint32_t credential = kNoEntry;
  std::uint32_t realm = kNoRealm;
  std::uint32_t wait_next = kNoEntry; // pacing queue link
  std::uint32_t down_next = kNoEntry; // link on the registrar's list of transport failures
  std::uint16_t last_code = 0;
  std::uint8_t registrar = 0;
  BindingState state = BindingState::idle;
  std::uint8_t failures : 5 = 0;      // consecutive failed attempts (backoff doubles up to 16)
  std::uint8_t sent_to : 3 = kNoAddress;  // StatusTables::address id of the last request
  std::uint8_t rounds : 3 = 0;
  std::uint8_t challenge_alg : 3 = 0; // of the last challenge: 1 + auth::Algorithm, 0 = none
  FailReason reason = FailReason::none;  // why the last attempt failed
  bool unregister : 1 = false;        // the queued/in-flight request is Expires: 0
  bool linked : 1 = false;            // on a pacing queue (possibly as a superseded entry)
  bool down_linked : 1 = false;       // on a down list (possibly as a superseded entry)
  bool transport_failed : 1 = false;  // backing off after a timeout or ICMP unreachable
  bool preemptive : 1 = false;        // the attempt in flight used the registrar's cached nonce
  // This attempt answered a stale=true challenge already (RFC 7616 §3.3 allows one more answer
  // for a realm whose credential was just sent; see on_challenge).
  bool stale_answered : 1 = false;
  bool refresh_planned : 1 = false;   // queued by its refresh timer (refresh lateness)
};

struct Engine::Txn {
  std::uint32_t binding = kNoEntry;
  std::uint32_t next_free = kNoEntry;
  std::uint64_t started_ms = 0;
  std::uint64_t attempt_ms = 0;  // the attempt's first REGISTER, the binding not registered (0: it was)
  std::uint32_t interval_ms = 0;
  std::uint16_t len = 0;
  std::uint8_t retransmits = 0;
  bool unreachable = false;  // an ICMP unreachable quoted this request: fails at the next advance()
  // Waiting for a token of the registrar's bucket on its deferred-send queue (a retransmission,
  // or with `unsent` a retry not sent yet). `deferred` is cleared when the transaction ends; the
  // queue entry stays linked until popped (`deferred_linked`) and is skipped then.
  bool deferred = false;
  bool deferred_linked = false;
  bool unsent = false;
  std::uint32_t deferred_next = kNoEntry;  // the queue's link (transaction slots)
  char data[kMaxRequest];
};

struct Engine::Pacer {
  TokenBucket bucket;                // at the registrar's rate_per_worker
  std::uint32_t head = kNoEntry;
  std::uint32_t tail = kNoEntry;
  std::uint32_t length = 0;
  // Bindings backing off after a timeout or ICMP unreachable, newest first (a binding that
  // left that state stays linked until popped and is skipped then). `down`: the last outcome
  // heard of this registrar was such a failure; the next 2xx/401/407 sets `pull`, and the
  // paced starts then move the list's bindings to the pacing queue, a budget per advance().
  std::uint32_t down_head = kNoEntry;
  bool down = false;
  bool pull = false;
  // Transactions whose next request (a retransmission, or a retry beyond the borrowing limit)
  // waits for a token: served before new transactions start, oldest first.
  std::uint32_t deferred_head = kNoEntry;
  std::uint32_t deferred_tail = kNoEntry;
  // ms: registrations accepted before then came out of a storm, a backlog of at least half a
  // second of the rate on this queue (start-up, a recovery): see refresh_delay.
  std::uint64_t storm_until = 0;
};

// The OPTIONS keepalive of one registrar (RFC 3261 §11), run by one worker only
// (SnapRegistrar::keepalive_worker): a non-INVITE client transaction (Timer E retransmissions,
// Timer F = 64·T1) every up-interval while the registrar answers; `retry` unanswered ones in a
// row (Timer F, ICMP unreachable, 503, 408) mark it down, then one every down-interval until
// any other final response marks it up again.
namespace {
struct Keepalive {
  bool active = false;       // this worker pings the registrar
  bool down = false;
  bool in_flight = false;
  bool unreachable = false;  // an ICMP unreachable quoted the OPTIONS in flight
  std::uint8_t misses = 0;   // unanswered in a row
  std::uint8_t retry = 0;
  std::uint16_t len = 0;
  std::uint32_t generation = 0;  // the registrar generation it runs for (keys the MAC)
  std::uint32_t up_ms = 0;
  std::uint32_t down_ms = 0;
  std::uint32_t cseq = 0;
  std::uint32_t interval_ms = 0;
  std::uint64_t started_ms = 0;
  std::uint64_t due_ms = 0;  // the next OPTIONS, or the next timer of the one in flight
  char data[kMaxOptions];
};
}  // namespace

namespace {

// A realm name as the worker hands it to the control thread: fixed size, so that the ring
// copies it as bytes and never allocates.
struct RealmName {
  std::uint8_t len = 0;
  std::uint8_t registrar = 0;  // the registrar slot (0..5) that challenged with it
  char name[auth::kMaxRealmLength];

  // Copies `realm` in; false (nothing copied) when it is longer than a slot.
  bool assign(std::string_view realm) {
    if (realm.size() > sizeof name) return false;
    std::memcpy(name, realm.data(), realm.size());
    len = static_cast<std::uint8_t>(realm.size());
    return true;
  }
  std::string_view view() const { return {name, len}; }
};
static_assert(auth::kMaxRealmLength <= 255, "RealmName::len is one byte");

// The value of the first Via header in a message's raw text (header lines up to the first empty
// one); empty when there is none. For what the parser never saw whole: a datagram it refused
// for size, and the prefix of one of our requests that an ICMP message quotes (which may end
// anywhere). Folded lines are not followed (RFC 3261 §7.3.1 allows them; a Via we wrote has
// none, and a registrar echoes ours).
std::string_view raw_top_via(std::string_view d) {
  std::size_t pos = d.find('\n');
  while (pos != std::string_view::npos && pos + 1 < d.size()) {
    const std::size_t start = pos + 1;
    const std::size_t end = d.find('\n', start);
    std::string_view line = d.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) return {};
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && (name.back() == ' ' || name.back() == '\t')) name.remove_suffix(1);
      if (sip::iequals(name, "via") || sip::iequals(name, "v")) {
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        std::size_t p = 0;
        std::string_view el;
        sip::Via via;
        if (!sip::next_list_element(value, p, el) || !sip::parse_via(el, via)) return {};
        return via.branch;
      }
    }
    pos = end;
  }
  return {};
}

bool same_address(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    const auto& x = reinterpret_cast<const sockaddr_in&>(a);
    const auto& y = reinterpret_cast<const sockaddr_in&>(b);
    return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
  }
  if (a.ss_family != AF_INET6) return false;
  const auto& x = reinterpret_cast<const sockaddr_in6&>(a);
  const auto& y = reinterpret_cast<const sockaddr_in6&>(b);
  return x.sin6_port == y.sin6_port && std::memcmp(&x.sin6_addr, &y.sin6_addr, sizeof x.sin6_addr) == 0;
}

// Single-producer (worker) single-consumer (control) ring of realm names.
using RealmRing = SpscRing<RealmName, 16>;

// Worker side (the single producer): queues `realm` for the control thread. Returns false,
// dropping it, when it is longer than a slot or the ring is full (the control thread is behind).
bool push_realm(RealmRing& ring, std::string_view realm, std::uint8_t registrar = 0) {
  RealmName n{};  // the bytes past the name are copied too: zero, not indeterminate
  n.registrar = registrar;
  return n.assign(realm) && ring.push(n);
}

// Control side (the single consumer): the oldest realm name into `out` (and the registrar slot
// that challenged with it into `registrar`); false when none.
bool pop_realm(RealmRing& ring, std::string& out, std::uint8_t* registrar = nullptr) {
  RealmName n;
  if (!ring.pop(n)) return false;
  out.assign(n.view());
  if (registrar != nullptr) *registrar = n.registrar;
  return true;
}

// A learned realm is reported as used at most this often per (realm, registrar) and worker:
// the control plane evicts the least recently used one of a registrar's learned realms.
constexpr std::uint64_t kRealmUseReportMs = 10000;

}  // namespace

class Engine::Impl {
  // One cache line per binding: the table is the engine's largest (capacity × this).
  static_assert(sizeof(Binding) == 64);

 public:
  Impl(Engine& e, const EngineOptions& o, TxQueue& tx)
      : eng_(e), opts_(o), tx_(tx), bindings_(o.capacity), wheel_(o.capacity, 0), expiry_(o.capacity, 0),
        txns_(o.max_inflight), prng_(o.seed) {
    for (std::uint32_t i = 0; i < txns_.size(); ++i) {
      txns_[i].next_free = i + 1 < txns_.size() ? i + 1 : kNoEntry;
    }
    free_txn_ = txns_.empty() ? kNoEntry : 0;
    for (NonceCache& c : auth_cache_) c = NonceCache(o.preemptive_holdoff_ms);
  }

  Engine& eng_;
  EngineOptions opts_;
  TxQueue& tx_;
  std::vector<Binding> bindings_;
  std::uint32_t used_slots_ = 0;  // slots [0, used_slots_) may be in use
  TimerWheel wheel_;
  // One timer per registration, at registered_until: its lapse is counted when it fires
  // (BindingCounts::live); armed exactly while the registration is live.
  TimerWheel expiry_;
  // adopt() recounts every binding at its end; transitions it makes on the way are not counted.
  bool counting_ = true;

  std::vector<Txn> txns_;
  std::uint32_t free_txn_ = kNoEntry;
  std::uint32_t inflight_ = 0;
  Pacer pacers_[kSnapRegistrarSlots];
  Keepalive ka_[kRegistrarSlots];
  // The registrar's keepalive has it down (its own verdict on the keepalive worker, the
  // snapshot's on the others): nothing is sent to it but the keepalive.
  bool held_[kSnapRegistrarSlots] = {};
  // start_paced() does its work once per millisecond (tokens accrue by the millisecond), or
  // again within one when something was queued or the plan changed since: a poll-mode loop
  // calls advance() every few hundred ns, and re-running the twelve token buckets for nothing
  // was 30 % of an idle DPDK worker's samples.
  std::uint64_t paced_at_ = ~std::uint64_t{0};
  bool pace_dirty_ = true;
  bool starts_pending_ = false;  // the last start_paced() stopped at kStartsPerAdvance
  std::uint8_t pace_first_ = 0;  // registrar slot served first next time (round robin)
  NonceCache auth_cache_[kSnapRegistrarSlots];  // per registrar slot: preemptive credentials
  Prng prng_;
  auth::Hasher hasher_;
  auth::CnonceSource cnonces_;
  bool shutting_down_ = false;
  bool clock_started_ = false;
  RealmRing unknown_realms_;
  RealmRing sha_realms_;  // realms challenging with a SHA algorithm the snapshot has no HA1 for
  RealmRing used_realms_;  // learned realms answered (see note_learned_realm_use)
  std::uint64_t adopted_from_ = 0;  // version of the snapshot the bindings' ids refer to
  std::uint8_t counter_index_[kSnapRegistrarSlots] = {0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5};  // slot → index - 1
  // When each (snapshot, realm id, registrar) was last reported used; direct-mapped, so a
  // collision only costs an early report, never a missed one.
  struct RealmUse {
    std::uint64_t version = 0;
    std::uint32_t realm = kNoRealm;
    std::uint8_t registrar = 0;
    std::uint64_t at_ms = 0;
  };
  std::array<RealmUse, 32> realm_use_{};
  // Each registrar slot's `expires` in the snapshot adopted last. Kept here because that
  // snapshot may already be freed when the next one is adopted (a worker that slept offline
  // did not hold up the RCU grace period).
  std::uint32_t adopted_expires_[kSnapRegistrarSlots] = {};
  // "ip:port" strings per registrar slot, recomputed on adopt().
  struct HostText {
    char text[64];
    std::uint8_t len = 0;
    std::string_view view() const { return {text, len}; }
  };
  HostText via_host_[kSnapRegistrarSlots];
  HostText contact_host_[kSnapRegistrarSlots];

  static void set_host(HostText& h, std::string_view ip, std::uint16_t port) {
    char digits[5];
    int n = 0;
    do {
      digits[n++] = static_cast<char>('0' + port % 10);
      port = static_cast<std::uint16_t>(port / 10);
    } while (port != 0);
    if (ip.size() + 1 + static_cast<std::size_t>(n) > sizeof h.text) {
      h.len = 0;
      return;
    }
    std::memcpy(h.text, ip.data(), ip.size());
    std::size_t len = ip.size();
    h.text[len++] = ':';
    while (n > 0) h.text[len++] = digits[--n];
    h.len = static_cast<std::uint8_t>(len);
  }

  const Snapshot& snap() const { return *eng_.snap_; }
  WorkerCounters& wc() { return *eng_.counters_; }

  // ---- debug ccsip (regfront/reg/trace.h): one relaxed load per call while nothing is traced ----
  bool traced(const Binding& b, std::uint8_t kind, std::string_view& number) {
    Tracer* t = opts_.tracer;
    if (t == nullptr || !t->wants(kind) || b.endpoint >= snap().endpoints.size()) return false;
    number = snap().number(snap().endpoints[b.endpoint]);
    return t->matches(kind, number, counter_index_[b.registrar]);
  }
  void trace_message(const Binding& b, std::uint8_t direction, std::string_view text, std::uint64_t now) {
    std::string_view number;
    if (traced(b, kTraceMessages, number)) {
      opts_.tracer->record(kTraceMessages, direction, counter_index_[b.registrar], number, now, text);
    }
  }
  // "REGISTERING -> REGISTERED (200)": the binding's state before and after, its last code.
  void trace_state(const Binding& b, BindingState to, std::uint64_t now) {
    std::string_view number;
    if (!traced(b, kTraceEvents, number)) return;
    char line[96];
    std::size_t n = 0;
    const auto put = [&](std::string_view v) {
      for (const char c : v) {
        if (n < sizeof line) line[n++] = c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
      }
    };
    put(state_name(b.state));
    put(" -> ");
    put(state_name(to));
    if (b.last_code != 0 && n + 6 <= sizeof line) {
      line[n++] = ' ';
      line[n++] = '(';
      for (int d = 100; d > 0; d /= 10) line[n++] = static_cast<char>('0' + b.last_code / d % 10);
      line[n++] = ')';
    }
    opts_.tracer->record(kTraceEvents, kTraceEvent, counter_index_[b.registrar], number, now, {line, n});
  }
  // A binding's counters are its registrar index's, whichever slot it is in (a leaving one
  // may be in any ghost slot 6..11; counter_index_ is set on adopt).
  RegistrarCounters& rc(const Binding& b) { return eng_.counters_->registrar[counter_index_[b.registrar]]; }

  // ---- bindings by state (BindingCounts): every state change and registration goes here ----
  void set_state(Binding& b, BindingState to) {
    if (counting_) {
      BindingCounts& c = eng_.counters_->bindings[b.registrar];
      c.state[static_cast<std::size_t>(b.state)].dec();
      c.state[static_cast<std::size_t>(to)].inc();
    }
    b.state = to;
  }
  // The registration runs until `until` (0 or the past: it does not run any more).
  void set_registered_until(std::uint32_t slot, Binding& b, std::uint64_t until, std::uint64_t now) {
    b.registered_until = until;
    Counter& live = eng_.counters_->bindings[b.registrar].live;
    if (until <= now) {
      if (!expiry_.armed(slot)) return;
      expiry_.cancel(slot);
      if (counting_) live.dec();
      return;
    }
    if (!expiry_.armed(slot) && counting_) live.inc();
    expiry_.schedule(slot, until);
  }
  // A registration ran out without a refresh accepted in time.
  void on_lapse(std::uint32_t slot) {
    if (counting_) eng_.counters_->bindings[bindings_[slot].registrar].live.dec();
  }
  // How registrar slot ri's queued bindings show (status()).
  BindingState queued_as(int ri) const {
    if (snap().registrars[ri].addr_len == 0) return BindingState::waiting_dns;
    return held_[ri] ? BindingState::held : BindingState::queued;
  }
  // All counts from the bindings themselves (after adopt() moved them between slots).
  void recount() {
    std::uint64_t n[kSnapRegistrarSlots][kBindingStates] = {};
    std::uint64_t live[kSnapRegistrarSlots] = {};
    for (std::uint32_t slot = 0; slot < used_slots_; ++slot) {
      const Binding& b = bindings_[slot];
      if (b.state == BindingState::idle) continue;
      ++n[b.registrar][static_cast<std::size_t>(b.state)];
      if (expiry_.armed(slot)) ++live[b.registrar];
    }
    for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) {
      BindingCounts& c = eng_.counters_->bindings[ri];
      for (std::size_t st = 0; st < kBindingStates; ++st) c.state[st].set(n[ri][st]);
      c.live.set(live[ri]);
      c.queued_as.set(static_cast<std::uint64_t>(queued_as(ri)));
    }
  }

  // ---- what status rows' ids mean (StatusTables) ----
  StatusTables tables_;
  std::uint8_t address_id_[kSnapRegistrarSlots] = {kNoAddress, kNoAddress, kNoAddress, kNoAddress, kNoAddress, kNoAddress,
                                                   kNoAddress, kNoAddress, kNoAddress, kNoAddress, kNoAddress, kNoAddress};
  std::uint8_t address_next_[kRegistrarSlots] = {};  // the ring's next entry to reuse

  // A new snapshot's registrar addresses get their ids: the same address keeps its entry, a new
  // one takes the oldest entry that no slot of that index uses now.
  void note_addresses(const Snapshot& s) {
    for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) address_id_[ri] = kNoAddress;
    for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) {
      const SnapRegistrar& r = s.registrars[ri];
      if (!r.present || r.addr_len == 0) continue;
      const int x = counter_index_[ri];
      std::uint8_t id = kNoAddress;
      for (std::uint8_t i = 0; i < kAddressIds && id == kNoAddress; ++i) {
        if (tables_.address_len[x][i] == r.addr_len && std::memcmp(&tables_.address[x][i], &r.addr, r.addr_len) == 0) id = i;
      }
      for (int tries = 0; id == kNoAddress && tries < kAddressIds; ++tries) {
        const std::uint8_t i = address_next_[x];
        address_next_[x] = static_cast<std::uint8_t>((i + 1) % kAddressIds);
        bool used = false;
        for (int o = 0; o < kSnapRegistrarSlots; ++o) used |= counter_index_[o] == x && address_id_[o] == i;
        if (used) continue;
        std::memcpy(&tables_.address[x][i], &r.addr, r.addr_len);
        tables_.address_len[x][i] = r.addr_len;
        id = i;
      }
      address_id_[ri] = id;
    }
  }

  // ---- clear sip-ua registration: re-register now, through the registrar's pacer ----
  // A sweep over the slots for registrars in `sweep_mask_` (bit = index - 1), kSweepBudget
  // slots per advance(): the command never makes one poll scan every binding.
  static constexpr std::uint32_t kSweepBudget = 4096;
  std::uint8_t sweep_mask_ = 0;
  std::uint32_t sweep_next_ = 0;

  // Queues the binding in `slot` for a REGISTER now when it is a configured one of a registrar
  // in `mask` that is registered or waiting for a retry (queued or in flight: already going;
  // leaving or unregistering: not re-registered).
  void kick(std::uint32_t slot, std::uint8_t mask) {
    Binding& b = bindings_[slot];
    if (b.registrar >= kRegistrarSlots || ((mask >> counter_index_[b.registrar]) & 1u) == 0 || b.unregister) return;
    if (b.state != BindingState::registered && b.state != BindingState::backoff) return;
    const std::vector<PlanEntry>& plan = snap().plans[opts_.worker];
    if (slot >= plan.size() || plan[slot].leaving || shutting_down_) return;
    wheel_.cancel(slot);
    rc(b).reregistered.inc();
    enqueue(slot, b);
  }
  void sweep() {
    const std::uint32_t end = std::min(used_slots_, sweep_next_ + kSweepBudget);
    for (; sweep_next_ < end; ++sweep_next_) kick(sweep_next_, sweep_mask_);
    if (sweep_next_ >= used_slots_) sweep_mask_ = 0;
  }

  // The binding's registrar challenged with a realm nobody configured: kept as received (the
  // last one per registrar index), and the binding's realm says "that one".
  std::uint32_t note_unknown_realm(const Binding& b, std::string_view realm) {
    const int x = counter_index_[b.registrar];
    const std::size_t n = std::min(realm.size(), sizeof tables_.unknown_realm[x]);
    std::memcpy(tables_.unknown_realm[x], realm.data(), n);
    tables_.unknown_realm_len[x] = static_cast<std::uint8_t>(n);
    return kUnknownRealm;
  }

  // ---- identifiers ----
  std::uint64_t mac(std::uint32_t slot, std::uint32_t generation, std::uint32_t cseq) const {
    return siphash24(opts_.key, (std::uint64_t{opts_.worker} << 32) | slot,
                     (std::uint64_t{generation} << 32) | cseq);
  }
  // The Via branch of every request of ours: worker, slot and CSeq in clear, MAC'd with the
  // generation (a response whose branch does not verify is forged).
  void put_branch(std::uint32_t slot, std::uint32_t generation, std::uint32_t cseq, char* out) const {
    std::memcpy(out, kBranchPrefix.data(), kBranchPrefix.size());
    char* p = out + kBranchPrefix.size();
    put_hex(opts_.worker, 2, p);
    put_hex(slot, 8, p + 2);
    put_hex(cseq, 8, p + 10);
    put_hex(mac(slot, generation, cseq), 16, p + 18);
  }
  void make_branch(std::uint32_t slot, const Binding& b, char* out) const { put_branch(slot, b.generation, b.cseq, out); }
  void make_call_id(std::uint32_t slot, const Binding& b, char* out) const {
    put_hex(siphash24(opts_.key, 0x43414c4c49440000ull | opts_.worker,
                      (std::uint64_t{b.generation} << 32) | slot),
            16, out);
    out[16] = '-';
    put_hex(slot, 8, out + 17);
    put_hex(opts_.worker, 2, out + 25);
  }
  void make_from_tag(std::uint32_t slot, const Binding& b, char* out) const {
    put_hex(siphash24(opts_.key, 0x46524f4d54414700ull | opts_.worker,
                      (std::uint64_t{b.generation} << 32) | slot),
            12, out);
  }

  // ---- transactions ----
  std::uint32_t alloc_txn(std::uint32_t slot) {
    const std::uint32_t t = free_txn_;
    if (t == kNoEntry) return kNoEntry;
    free_txn_ = txns_[t].next_free;
    txns_[t].binding = slot;
    ++inflight_;
    return t;
  }
  void free_txn(Binding& b) {
    if (b.txn == kNoEntry) return;
    txns_[b.txn].binding = kNoEntry;
    txns_[b.txn].deferred = false;  // a queue entry left behind is skipped when popped
    txns_[b.txn].next_free = free_txn_;
    free_txn_ = b.txn;
    b.txn = kNoEntry;
    --inflight_;
  }

  void send_bytes(const SnapRegistrar& r, const char* data, std::size_t len) {
    TxQueue::Item* it = tx_.reserve();
    if (it == nullptr) {
      wc().tx_overflow.inc();
      return;  // Timer E retransmits it
    }
    std::memcpy(&it->dst, &r.addr, r.addr_len);
    it->dst_len = r.addr_len;
    it->len = static_cast<std::uint16_t>(len);
    it->data = data;  // the transaction slot: no copy (TxQueue's contract)
    tx_.commit();
    wc().tx_datagrams.inc();
  }

  // What a request is to the registrar's bucket: the first of a transaction (its token was
  // taken by start_paced), or a retry continuing one (401/407 answered, 423), which takes its
  // own, borrowing if need be.
  enum class Send : std::uint8_t { start, retry };

  // Builds the binding's next request into its transaction slot and sends it. `auth` is the
  // Authorization to include (nullptr for the first request of an attempt). A retry that finds
  // no token within the borrowing limit is kept built and sent when one comes.
  bool send_request(std::uint32_t slot, Binding& b, const AuthorizationFields* auth,
                    std::uint64_t now, Send kind) {
    const Snapshot& s = snap();
    const SnapRegistrar& r = s.registrars[b.registrar];
    const SnapEndpoint& ep = s.endpoints[b.endpoint];
    Txn& t = txns_[b.txn];
    b.sent_to = address_id_[b.registrar];
    ++b.cseq;  // §10.2.4: CSeq +1 per request within the Call-ID
    // A challenge repeating the nonce we answered means our credentials were refused — but
    // only if the challenged request carried them: one without (a first attempt, a retry
    // after 423) may well be challenged with that same nonce.
    if (auth == nullptr) {
      b.nonce = 0;
      b.preemptive = false;
    }
    char branch[kBranchLength];
    char call_id[kCallIdLength];
    char from_tag[12];
    make_branch(slot, b, branch);
    make_call_id(slot, b, call_id);
    make_from_tag(slot, b, from_tag);
    RegisterRequest req;
    req.request_uri = r.request_uri;
    req.domain = r.domain;
    req.via_host = via_host_[b.registrar].view();
    req.contact_host = contact_host_[b.registrar].view();
    req.number = s.number(ep);
    req.branch = {branch, sizeof branch};
    req.call_id = {call_id, sizeof call_id};
    req.from_tag = {from_tag, sizeof from_tag};
    req.cseq = b.cseq;
    req.expires = b.unregister ? 0 : b.requested;
    req.user_agent = opts_.user_agent;
    req.auth = auth;
    const std::size_t n = build_register(req, t.data, sizeof t.data);
    if (n == 0) {
      wc().build_errors.inc();
      return false;
    }
    t.len = static_cast<std::uint16_t>(n);
    t.started_ms = now;
    t.interval_ms = s.t1_ms;
    t.retransmits = 0;
    t.unreachable = false;
    t.deferred = false;
    t.unsent = false;
    if (kind == Send::retry && !take_retry_token(b, now)) {
      t.unsent = true;
      rc(b).retry_deferred.inc();
      defer(b);
      wheel_.schedule(slot, now + 64ull * s.t1_ms);  // Timer F still bounds the transaction
      return true;
    }
    send_bytes(r, t.data, n);
    trace_message(b, kTraceSent, {t.data, n}, now);
    wheel_.schedule(slot, now + t.interval_ms);  // Timer E
    return true;
  }

  // ---- the registrar's budget for requests other than starts (see kBorrowMs) ----
  static double burst_depth(const SnapRegistrar& r) { return std::max(1.0, r.rate_per_worker * kBurstMs / 1000.0); }
  static double borrow_limit(const SnapRegistrar& r) { return std::max(1.0, r.rate_per_worker * kBorrowMs / 1000.0); }

  // Adds the tokens earned up to `now` (someone is waiting to send: they count as demand).
  void refill(Pacer& p, const SnapRegistrar& r, std::uint64_t now) {
    if (now > p.bucket.last_ms()) p.bucket.refill(now, r.rate_per_worker, burst_depth(r));
  }

  // A retransmission may go now: a whole token, and none deferred before it.
  bool take_retransmit_token(const Binding& b, std::uint64_t now) {
    Pacer& p = pacers_[b.registrar];
    const SnapRegistrar& r = snap().registrars[b.registrar];
    if (r.rate_per_worker <= 0) return true;
    refill(p, r, now);
    if (p.deferred_head != kNoEntry || !p.bucket.has_token()) return false;
    p.bucket.take();
    return true;
  }

  // An authenticated or 423 retry may go now: a token, borrowed within the limit if need be.
  bool take_retry_token(const Binding& b, std::uint64_t now) {
    Pacer& p = pacers_[b.registrar];
    const SnapRegistrar& r = snap().registrars[b.registrar];
    if (r.rate_per_worker <= 0) return true;
    refill(p, r, now);
    return p.bucket.take_borrowing(borrow_limit(r));
  }

  // Puts the binding's transaction on its registrar's deferred-send queue (keeping its place
  // when an old entry of the same slot is still linked).
  void defer(Binding& b) {
    Txn& t = txns_[b.txn];
    t.deferred = true;
    pace_dirty_ = true;
    if (t.deferred_linked) return;
    t.deferred_linked = true;
    t.deferred_next = kNoEntry;
    Pacer& p = pacers_[b.registrar];
    if (p.deferred_tail == kNoEntry) {
      p.deferred_head = b.txn;
    } else {
      txns_[p.deferred_tail].deferred_next = b.txn;
    }
    p.deferred_tail = b.txn;
  }

  std::uint32_t pop_deferred(Pacer& p) {
    const std::uint32_t ti = p.deferred_head;
    if (ti == kNoEntry) return kNoEntry;
    Txn& t = txns_[ti];
    p.deferred_head = t.deferred_next;
    if (p.deferred_head == kNoEntry) p.deferred_tail = kNoEntry;
    t.deferred_next = kNoEntry;
    t.deferred_linked = false;
    return ti;
  }

  // The binding whose transaction `ti` still waits on a queue, or nullptr (ended meanwhile).
  Binding* deferred_binding(std::uint32_t ti) {
    Txn& t = txns_[ti];
    if (!t.deferred || t.binding == kNoEntry) return nullptr;
    Binding& b = bindings_[t.binding];
    if (b.txn != ti || (b.state != BindingState::registering && b.state != BindingState::unregistering)) {
      t.deferred = false;
      return nullptr;
    }
    return &b;
  }

  // Sends the request a deferred transaction waited with (its token taken).
  void send_deferred(std::uint32_t slot, Binding& b, std::uint64_t now) {
    Txn& t = txns_[b.txn];
    t.deferred = false;
    if (!t.unsent) return retransmit(slot, b, now);
    t.unsent = false;
    const Snapshot& s = snap();
    send_bytes(s.registrars[b.registrar], t.data, t.len);
    trace_message(b, kTraceSent, {t.data, t.len}, now);
    wheel_.schedule(slot, std::min<std::uint64_t>(now + t.interval_ms, t.started_ms + 64ull * s.t1_ms));
  }

  // Timer E: the request again, byte for byte, and the next interval.
  void retransmit(std::uint32_t slot, Binding& b, std::uint64_t now) {
    Txn& t = txns_[b.txn];
    const Snapshot& s = snap();
    ++t.retransmits;
    rc(b).retransmitted.inc();
    send_bytes(s.registrars[b.registrar], t.data, t.len);
    trace_message(b, kTraceSent, {t.data, t.len}, now);
    // Timer E doubles up to T2, and is T2 once a provisional response arrived.
    t.interval_ms = std::min<std::uint32_t>(t.interval_ms * 2, opts_.t2_ms);
    const std::uint64_t timer_f = t.started_ms + 64ull * s.t1_ms;
    wheel_.schedule(slot, std::min<std::uint64_t>(now + t.interval_ms, timer_f));
  }

  // ---- pacing ----
  void enqueue(std::uint32_t slot, Binding& b) {
    set_state(b, BindingState::queued);
    pace_dirty_ = true;
    if (b.linked) return;  // still on a queue: keeps its place (moved if the registrar differs)
    b.linked = true;
    b.wait_next = kNoEntry;
    Pacer& p = pacers_[b.registrar];
    if (p.tail == kNoEntry) {
      p.head = slot;
    } else {
      bindings_[p.tail].wait_next = slot;
    }
    p.tail = slot;
    ++p.length;
  }

  std::uint32_t dequeue(Pacer& p) {
    const std::uint32_t slot = p.head;
    if (slot == kNoEntry) return kNoEntry;
    p.head = bindings_[slot].wait_next;
    if (p.head == kNoEntry) p.tail = kNoEntry;
    bindings_[slot].wait_next = kNoEntry;
    bindings_[slot].linked = false;
    --p.length;
    return slot;
  }

  void start_paced(std::uint64_t now) {
    if (now == paced_at_ && !pace_dirty_) return;
    paced_at_ = now;
    pace_dirty_ = false;
    starts_pending_ = false;
    const Snapshot& s = snap();
    std::uint32_t budget = kStartsPerAdvance;
    const int first = pace_first_;
    pace_first_ = static_cast<std::uint8_t>((pace_first_ + 1) % kSnapRegistrarSlots);
    for (int k = 0; k < kSnapRegistrarSlots; ++k) {
      const int ri = (first + k) % kSnapRegistrarSlots;
      Pacer& p = pacers_[ri];
      const SnapRegistrar& r = s.registrars[ri];
      if (p.pull) pull_forward(ri, p);
      if (p.head == kNoEntry && p.deferred_head == kNoEntry) {
        p.bucket.skip(now);  // empty queues earn no tokens
        continue;
      }
      if (!r.present) {
        // Deferred sends of bindings now on another slot move there; the rest end by Timer F.
        while (p.deferred_head != kNoEntry) {
          const std::uint32_t ti = pop_deferred(p);
          Binding* b = deferred_binding(ti);
          if (b != nullptr && b->registrar != ri) defer(*b);
        }
        // The registrar was removed: nothing starts here any more, but its queue may hold
        // bindings that now leave through its ghost slot (a refresh that was waiting for a
        // token): move them to the queue of the slot they belong to; drop the rest.
        while (p.head != kNoEntry) {
          const std::uint32_t slot = dequeue(p);
          Binding& b = bindings_[slot];
          if (b.state == BindingState::queued && b.registrar != ri) enqueue(slot, b);
        }
        continue;
      }
      if (r.addr_len == 0) continue;  // waits for DNS
      if (held_[ri]) {
        // The keepalive has the registrar down: its queue waits (earning no tokens) and goes
        // through the bucket when it is up again. Unregistrations at shutdown are dropped:
        // they could not be answered, and the bindings expire there.
        p.bucket.skip(now);
        if (shutting_down_) {
          while (p.head != kNoEntry) {
            const std::uint32_t slot = dequeue(p);
            Binding& b = bindings_[slot];
            if (b.state == BindingState::queued && b.registrar == ri) {
              set_registered_until(slot, b, 0, now);
              set_state(b, BindingState::unregistered);
            }
          }
        }
        continue;
      }
      // Token bucket: rate per worker, depth of kBurstMs (at least one), so a registrar never
      // sees more than its rate (and the allowance, see kBorrowMs) over any second and no burst
      // beyond a few milliseconds' worth.
      p.bucket.refill(now, r.rate_per_worker, burst_depth(r));
      // Deferred retransmissions and retries first, oldest first; a retry may borrow as it
      // could have when it was deferred.
      while (p.deferred_head != kNoEntry) {
        const std::uint32_t ti = p.deferred_head;
        Binding* b = deferred_binding(ti);
        if (b == nullptr) {
          pop_deferred(p);
          continue;
        }
        if (b->registrar != ri) {  // slot given to a binding of another registrar meanwhile
          pop_deferred(p);
          defer(*b);
          continue;
        }
        if (budget == 0) {  // the rest on the next call
          pace_dirty_ = true;
          starts_pending_ = true;
          break;
        }
        const bool retry = txns_[ti].unsent;
        if (retry ? !p.bucket.take_borrowing(borrow_limit(r)) : !p.bucket.has_token()) break;
        if (!retry) p.bucket.take();
        --budget;
        pop_deferred(p);
        send_deferred(txns_[ti].binding, *b, now);
      }
      if (p.deferred_head != kNoEntry) continue;  // no new transaction ahead of them
      while (p.bucket.has_token() && p.head != kNoEntry) {
        if (budget == 0) {  // the rest of the tokens on the next call
          pace_dirty_ = true;
          starts_pending_ = true;
          break;
        }
        if (free_txn_ == kNoEntry) {
          wc().txn_pool_empty.inc();
          pace_dirty_ = true;  // try again when a transaction ends
          return;
        }
        const std::uint32_t slot = dequeue(p);
        Binding& b = bindings_[slot];
        if (b.state != BindingState::queued) continue;  // superseded while queued
        if (b.registrar != ri) {  // slot reused for another registrar while queued here
          enqueue(slot, b);
          continue;
        }
        p.bucket.take();
        --budget;
        if (r.rate_per_worker > 0 && p.length >= r.rate_per_worker / 2) {
          // Those still waiting are a storm until they are through (two REGISTERs each if
          // challenged) and answered (2 s for the rounds and some retransmissions).
          const auto drain_ms = static_cast<std::uint64_t>(2000.0 * p.length / r.rate_per_worker);
          p.storm_until = std::max(p.storm_until, now + drain_ms + 2000);
        }
        start_attempt(slot, b, now);
      }
    }
  }

  // ---- recovery of a registrar: backed-off bindings come back through the pacer ----
  void link_down(std::uint32_t slot, Binding& b) {
    b.transport_failed = true;
    if (b.down_linked) return;  // keeps its place
    Pacer& p = pacers_[b.registrar];
    b.down_linked = true;
    b.down_next = p.down_head;
    p.down_head = slot;
  }

  // After fail(): the registrar did not answer (Timer F, retry limit, ICMP unreachable).
  void note_transport_failure(std::uint32_t slot, Binding& b) {
    Pacer& p = pacers_[b.registrar];
    p.down = true;
    p.pull = false;  // failing again: whatever was not pulled yet waits for its own timer
    if (b.state == BindingState::backoff) link_down(slot, b);
  }

  // A final response that shows the registrar works again (2xx, 401, 407).
  void note_alive(Binding& b) {
    Pacer& p = pacers_[b.registrar];
    if (!p.down) return;
    p.down = false;
    p.pull = p.down_head != kNoEntry;
    pace_dirty_ = true;
  }

  // Moves up to kPullBudget bindings of the down list to the pacing queue: the token bucket
  // then starts them at the registrar's rate. Each binding is visited once per recovery.
  void pull_forward(int ri, Pacer& p) {
    for (std::uint32_t n = 0; n < kPullBudget && p.down_head != kNoEntry; ++n) {
      const std::uint32_t slot = p.down_head;
      Binding& b = bindings_[slot];
      p.down_head = b.down_next;
      b.down_next = kNoEntry;
      b.down_linked = false;
      if (b.state != BindingState::backoff || !b.transport_failed) continue;  // moved on since
      if (b.registrar != ri) {  // slot given to a binding of another registrar meanwhile
        link_down(slot, b);
        continue;
      }
      wheel_.cancel(slot);
      rc(b).pulled_forward.inc();
      enqueue(slot, b);
    }
    if (p.down_head == kNoEntry) p.pull = false;
  }

  void start_attempt(std::uint32_t slot, Binding& b, std::uint64_t now) {
    // A refresh its timer queued: how late against the planned point, which the wheel still
    // holds as that timer's due time (nothing re-armed it while the binding waited).
    if (b.refresh_planned && !b.unregister && !wheel_.armed(slot) && now >= wheel_.due(slot)) {
      rc(b).refresh_lateness.observe(kRefreshLatenessMs, now - wheel_.due(slot));
    }
    b.refresh_planned = false;
    b.txn = alloc_txn(slot);
    // The first REGISTER of a registration (the binding not registered: at start, after a
    // failure or a lapse), kept through its challenge rounds until the 2xx.
    txns_[b.txn].attempt_ms = !b.unregister && b.registered_until <= now ? now : 0;
    b.rounds = 0;
    b.sent_to = address_id_[b.registrar];
    b.transport_failed = false;
    b.preemptive = false;
    b.stale_answered = false;
    trace_state(b, b.unregister ? BindingState::unregistering : BindingState::registering, now);
    set_state(b, b.unregister ? BindingState::unregistering : BindingState::registering);
    rc(b).sent.inc();
    // A refresh or an unregistration (the registration is still valid) may answer the
    // registrar's last nonce now: 2 datagrams instead of 4, which at shutdown halves what the
    // registrar receives and the time N bindings take to leave at its rate.
    if (b.registered_until > now && send_preemptive(slot, b, now)) return;
    if (!send_request(slot, b, nullptr, now, Send::start)) fail(slot, b, 0, 0, now, FailReason::build_error);
  }

  // ---- digest answers ----
  // Computes the (Proxy-)Authorization for `cred` against `d` with nonce count `nc` and sends
  // the request.
  bool send_authorized(std::uint32_t slot, Binding& b, const SnapCredential& cred, const auth::Ha1View& ha1set,
                       const DigestParams& d, std::uint32_t nc_value, std::uint64_t now, Send kind) {
    const SnapRegistrar& r = snap().registrars[b.registrar];
    DigestAnswer answer;
    answer_digest(hasher_, cnonces_, d, snap().username(cred), ha1set, nc_value, "REGISTER", r.request_uri, {},
                  answer);
    const AuthorizationFields& a = answer.fields;
    rc(b).authenticated.inc();
    return send_request(slot, b, &a, now, kind);
  }

  // A refresh with credentials for the registrar's confirmed nonce, when allowed: the nonce's
  // realm is the one this binding last answered, the registrar's auth-realm (if pinned) and the
  // F4 order give a credential for it (F7: never another realm's). Returns false when the
  // request is to go without credentials.
  bool send_preemptive(std::uint32_t slot, Binding& b, std::uint64_t now) {
    if (!opts_.preemptive_auth) return false;
    NonceCache& cache = auth_cache_[b.registrar];
    const CachedNonce* c = cache.may_use(now);
    if (c == nullptr || b.realm == kNoRealm || c->realm != b.realm) return false;
    const Snapshot& s = snap();
    const SnapRegistrar& r = s.registrars[b.registrar];
    if (r.auth_realm != kNoRealm && r.auth_realm != c->realm) return false;
    const Snapshot::Choice ch = s.choose_credential(b.endpoint, c->realm);
    if (ch.cred == nullptr || !ch.ha1.has_algorithm(c->algorithm)) return false;
    const DigestParams d = c->params();
    b.credential = static_cast<std::uint32_t>(ch.cred - s.credentials.data());
    b.preemptive = true;
    rc(b).preemptive.inc();
    if (ch.cred->realm == kNoRealm) note_learned_realm_use(s, c->realm, b.registrar, now);
    if (!send_authorized(slot, b, *ch.cred, ch.ha1, d, cache.use_current(), now, Send::start)) {
      fail(slot, b, 0, 0, now, FailReason::build_error);
      return true;
    }
    b.nonce = c->tag;  // after send_request, which clears it only for requests without
    return true;
  }

  // A 2xx to an authenticated request: the nonce it answered is good.
  void note_accepted(Binding& b) {
    if (b.nonce == 0) return;
    auth_cache_[b.registrar].on_accepted(b.nonce, b.preemptive);
    b.preemptive = false;
  }

  // A challenge (or a refusal) of a preemptive request: forget that nonce, and hold off when
  // the registrar keeps refusing nonces at their first reuse (one-time nonces: preemption
  // would only make the first request bigger).
  void note_preemptive_challenged(Binding& b, std::uint64_t now) {
    b.preemptive = false;
    rc(b).preemptive_challenged.inc();
    auth_cache_[b.registrar].on_refused(b.nonce, now);  // answering it again continues its nc
    b.nonce = 0;  // the challenge is answered once, even if it repeats the nonce we reused
  }

  // ---- outcomes ----
  void fail(std::uint32_t slot, Binding& b, std::uint16_t code, std::uint32_t retry_after_s,
            std::uint64_t now, FailReason reason) {
    free_txn(b);
    b.last_code = code;
    b.reason = reason;
    if (retry_after_s > 0) {
      b.reason = FailReason::retry_after;
      tables_.retry_after_s[counter_index_[b.registrar]] = retry_after_s;
    }
    rc(b).last_failure_code.set(code);
    rc(b).last_failure_ms.set(now);
    if (b.failures < 31) b.failures = b.failures + 1;
    const unsigned shift = std::min<unsigned>(b.failures - 1, 16);
    const std::uint64_t cap = std::min<std::uint64_t>(opts_.backoff_max_ms, std::uint64_t{opts_.backoff_base_ms} << shift);
    // "Full jitter" in the upper half: spread retries of bindings that failed together.
    std::uint64_t delay = prng_.between(cap / 2, cap);
    if (b.unregister) {
      // A removed binding's Expires: 0 that went unanswered (timeout, ICMP) or met 408/5xx is
      // sent again after the same backoff, while the registration it removes is still held
      // there: a contact left behind would keep a removed (or moved to another shard) number
      // reachable here beside its new home. A refusal (other 4xx, 6xx), a registration that
      // lapses before the retry, and shutdown (its budget is the stop timeout) end it: the
      // binding then expires at the registrar.
      const bool answerless = reason == FailReason::timeout || reason == FailReason::unreachable;
      const bool transient = code == 408 || (code >= 500 && code < 600);
      const std::uint64_t at = now + std::max<std::uint64_t>(delay, std::uint64_t{retry_after_s} * 1000);
      if (shutting_down_ || !(answerless || transient) || b.registered_until <= at) {
        finish_unregister(slot, b);
        return;
      }
      rc(b).unregister_retried.inc();
      trace_state(b, BindingState::backoff, now);
      set_state(b, BindingState::backoff);
      wheel_.schedule(slot, at);
      return;
    }
    if (retry_after_s > 0) {
      // Honour Retry-After (RFC 3261 §20.33), plus up to 10 % so that every binding told the
      // same value does not come back in the same millisecond.
      const std::uint64_t ra = std::uint64_t{retry_after_s} * 1000;
      delay = std::max(delay, ra + prng_.between(0, ra / 10));
      rc(b).retry_after.inc();
    }
    trace_state(b, BindingState::backoff, now);
    set_state(b, BindingState::backoff);
    wheel_.schedule(slot, now + delay);
  }

  void registered(std::uint32_t slot, Binding& b, std::uint32_t granted, std::uint64_t now) {
    const std::uint64_t attempt_ms = b.txn != kNoEntry ? txns_[b.txn].attempt_ms : 0;
    free_txn(b);
    const bool refresh = b.registered_until > now;  // the previous registration still held
    b.failures = 0;
    b.reason = FailReason::none;
    b.granted = granted;
    set_registered_until(slot, b, now + std::uint64_t{granted} * 1000, now);
    if (attempt_ms != 0) rc(b).register_duration.observe(kRegisterDurationMs, now - attempt_ms);
    trace_state(b, BindingState::registered, now);
    set_state(b, BindingState::registered);
    rc(b).accepted.inc();
    wheel_.schedule(slot, now + refresh_delay(slot, b, granted, refresh, now));
  }

  // When to refresh a registration accepted at `now` for `granted` s. The refresh point is
  // refresh-ratio of the granted time (at: 48 s of 60 s at 80 %), and nothing goes later.
  // Each binding slot has a phase in [0, at): refreshes go at the last instant up to the
  // refresh point whose clock time modulo at is that phase. The phases of a worker's slots are
  // a golden-ratio (Kronecker) sequence, and the builder gives a registrar's bindings every
  // R-th slot (R registrars per endpoint; consecutive ones with one registrar), which keeps
  // that sequence even; slots reused after changes are random at worst. So a registrar's
  // phases fill the period evenly without a byte of per-binding state, and bindings on their
  // phase refresh at a flat N / at a second, each once per period.
  //  - A registration out of a storm (its registrar's pacing queue held half a second of the
  //    rate or more, see Pacer::storm_until): the first refresh goes at the phase, anywhere
  //    from 1 s to the refresh point. That is the one early refresh a binding pays, so that
  //    the storm does not come back as a wave: from the second cycle on every second carries
  //    its share.
  //  - Any other registration that was not a refresh (a new binding, a retry, a few bindings
  //    started together): the first refresh is anywhere from half the granted time to the
  //    refresh point, as random as the time it registered, and nothing is sent soon after.
  //  - A refresh: its phase, which is exactly at ahead when the refresh went on time, so the
  //    period is kept and the even spread lasts; never sooner than at - 10 % (the jitter
  //    window refreshes had before), so a refresh that went late (its pacing queue, challenge
  //    rounds, retransmissions) or a binding off its phase is never early again: it moves to
  //    its phase by up to 10 % of at per period.
  //  - Never sooner than 1 s after the 2xx.
  std::uint64_t refresh_delay(std::uint32_t slot, const Binding& b, std::uint32_t granted, bool refresh,
                              std::uint64_t now) {
    const SnapRegistrar& r = snap().registrars[b.registrar];
    const std::uint64_t at = std::uint64_t{granted} * 10 * r.refresh_ratio;  // ms
    if (at == 0) return 1000;
    const std::uint64_t small = at - at / 10;
    if (!refresh && now >= pacers_[b.registrar].storm_until) {
      const std::uint64_t lo = std::min<std::uint64_t>(std::uint64_t{granted} * 500, small);
      return std::max<std::uint64_t>(1000, prng_.between(lo, at));
    }
    // Fibonacci hashing: the upper bits of slot x 2^64/phi, plus an offset per worker so that
    // the workers' equal slot numbers do not refresh in the same millisecond.
    const std::uint64_t h =
        std::uint64_t{slot} * 0x9e3779b97f4a7c15ull + std::uint64_t{opts_.worker} * 0x6a09e667f3bcc909ull;
    const auto phase = static_cast<std::uint64_t>((static_cast<unsigned __int128>(h) * at) >> 64);
    const std::uint64_t end = now + at;  // the refresh point
    // The last instant up to it in the phase: (0, at] ahead, now + delay = phase (mod at).
    std::uint64_t delay = at - (end % at + at - phase) % at;
    if (refresh) delay = std::max(delay, small);
    return std::max<std::uint64_t>(1000, delay);
  }

  // The binding leaves (removed from the configuration, or shutdown): a registered one — or
  // one whose first REGISTER may have been accepted unbeknown to us — is unregistered, paced;
  // the others are done. Idempotent.
  void leave(std::uint32_t slot, Binding& b, std::uint64_t now) {
    if (b.unregister || b.state == BindingState::idle || b.state == BindingState::unregistered) return;
    wheel_.cancel(slot);
    free_txn(b);
    if (b.registered_until > now || b.state == BindingState::registering) {
      b.unregister = true;
      enqueue(slot, b);
    } else {
      set_state(b, BindingState::unregistered);
    }
  }

  void finish_unregister(std::uint32_t slot, Binding& b) {
    free_txn(b);
    wheel_.cancel(slot);
    set_registered_until(slot, b, 0, wheel_.now());
    set_state(b, BindingState::unregistered);
  }

  // ---- matching ----
  enum class Match : std::uint8_t { ok, forged, misrouted, keepalive };
  // The binding slot and CSeq that a branch of ours names, its MAC checked against the slot's
  // current generation.
  Match match_branch(std::string_view br, std::uint32_t& slot_out, std::uint32_t& cseq_out) const {
    std::uint64_t worker, slot, cseq, macv;
    if (br.size() != kBranchLength || br.substr(0, kBranchPrefix.size()) != kBranchPrefix ||
        !sip::parse_hex(br.substr(kBranchPrefix.size(), 2), worker) ||
        !sip::parse_hex(br.substr(kBranchPrefix.size() + 2, 8), slot) ||
        !sip::parse_hex(br.substr(kBranchPrefix.size() + 10, 8), cseq) ||
        !sip::parse_hex(br.substr(kBranchPrefix.size() + 18, 16), macv)) {
      return Match::forged;
    }
    if (worker != opts_.worker) return Match::misrouted;
    if (slot >= kKeepaliveSlot && slot < kKeepaliveSlot + kRegistrarSlots) {
      // An OPTIONS keepalive: slot_out is the registrar slot.
      const auto ri = static_cast<std::uint32_t>(slot - kKeepaliveSlot);
      if (!ka_[ri].active ||
          macv != mac(static_cast<std::uint32_t>(slot), ka_[ri].generation, static_cast<std::uint32_t>(cseq))) {
        return Match::forged;
      }
      slot_out = ri;
      cseq_out = static_cast<std::uint32_t>(cseq);
      return Match::keepalive;
    }
    if (slot >= used_slots_) return Match::forged;
    const auto s32 = static_cast<std::uint32_t>(slot);
    if (macv != mac(s32, bindings_[s32].generation, static_cast<std::uint32_t>(cseq))) return Match::forged;
    slot_out = s32;
    cseq_out = static_cast<std::uint32_t>(cseq);
    return Match::ok;
  }
  // The binding's transaction for `cseq` is still running.
  static bool in_flight(const Binding& b, std::uint32_t cseq) {
    return b.txn != kNoEntry && b.cseq == cseq &&
           (b.state == BindingState::registering || b.state == BindingState::unregistering);
  }

  // ---- ICMP (see Engine::on_unreachable) ----
  bool on_unreachable(const sockaddr_storage& dst, std::string_view quoted, std::uint64_t now) {
    std::uint32_t slot = 0, cseq = 0;
    const Match mt = match_branch(raw_top_via(quoted), slot, cseq);
    if (mt == Match::keepalive) {
      Keepalive& k = ka_[slot];
      if (!k.in_flight || k.cseq != cseq || quoted.size() > k.len ||
          std::memcmp(quoted.data(), k.data, quoted.size()) != 0 ||
          !same_address(snap().registrars[slot].addr, dst)) {
        return false;
      }
      k.unreachable = true;  // fails at the next advance()
      k.due_ms = now;
      return true;
    }
    if (mt != Match::ok) return false;
    Binding& b = bindings_[slot];
    if (!in_flight(b, cseq)) return false;  // late: about a request whose transaction ended
    Txn& t = txns_[b.txn];
    // The quote is the start of what we sent (a retransmission sends the same bytes), to the
    // registrar we sent it to.
    if (quoted.size() > t.len || std::memcmp(quoted.data(), t.data, quoted.size()) != 0) return false;
    if (!same_address(snap().registrars[b.registrar].addr, dst)) return false;
    if (!t.unreachable) {
      // Failed by the timer, at the next advance(): a slot is freed only there (TxQueue).
      t.unreachable = true;
      wheel_.schedule(slot, now);
    }
    return true;
  }

  // ---- a response the parser refused for its size (see Engine::on_oversized) ----
  void on_oversized(std::string_view d, std::uint64_t now) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase (RFC 3261 §7.2).
    if (d.size() < 12 || d.substr(0, 8) != "SIP/2.0 " || d[11] != ' ' ||
        !std::all_of(d.begin() + 8, d.begin() + 11, [](char c) { return c >= '0' && c <= '9'; })) {
      return;
    }
    const auto code = static_cast<unsigned>((d[8] - '0') * 100 + (d[9] - '0') * 10 + (d[10] - '0'));
    if (code < 200 || code >= 700) return;  // a provisional one changes nothing
    std::uint32_t slot = 0, cseq = 0;
    if (match_branch(raw_top_via(d), slot, cseq) != Match::ok) return;
    Binding& b = bindings_[slot];
    if (!in_flight(b, cseq)) return;
    const auto status = static_cast<std::uint16_t>(code);
    b.last_code = status;
    if (status < 300 || status == 401 || status == 407) note_alive(b);  // it answers
    if (status >= 300) rc(b).by_code[status - 300].inc();
    rc(b).response_too_large.inc();
    if (b.preemptive) note_preemptive_challenged(b, now);
    fail(slot, b, status, 0, now, FailReason::response_too_large);
  }

  // ---- response handling ----
  void on_response(const sip::Message& m, std::uint64_t now) {
    const sip::Header* via_h = m.first(sip::HeaderId::via);
    std::string_view via_value;
    std::size_t pos = 0;
    sip::Via via;
    if (via_h == nullptr || !sip::next_list_element(via_h->value, pos, via_value) ||
        !sip::parse_via(via_value, via)) {
      wc().forged.inc();
      return;
    }
    std::uint32_t s32 = 0, cseq = 0;
    switch (match_branch(via.branch, s32, cseq)) {
      case Match::ok: break;
      case Match::misrouted: wc().misrouted.inc(); return;
      case Match::forged: wc().forged.inc(); return;
      case Match::keepalive: return on_keepalive_response(s32, cseq, m, now);
    }
    Binding& b = bindings_[s32];
    // §17.1.3: the branch matched; the CSeq method must be REGISTER and the number ours.
    const sip::Header* cseq_h = m.first(sip::HeaderId::cseq);
    sip::CSeq cs;
    if (cseq_h == nullptr || !sip::parse_cseq(cseq_h->value, cs) || cs.number != cseq ||
        cs.method != "REGISTER") {
      wc().forged.inc();
      return;
    }
    const sip::Header* cid_h = m.first(sip::HeaderId::call_id);
    char call_id[kCallIdLength];
    make_call_id(s32, b, call_id);
    if (cid_h == nullptr || cid_h->value != std::string_view(call_id, sizeof call_id)) {
      wc().forged.inc();
      return;
    }
    if (b.txn == kNoEntry || b.cseq != cseq ||
        (b.state != BindingState::registering && b.state != BindingState::unregistering)) {
      rc(b).stray.inc();  // a retransmitted or late response of a finished transaction
      return;
    }
    trace_message(b, kTraceReceived, m.text, now);
    if (m.status < 200) {
      // §17.1.2.2 Proceeding: keep retransmitting, at T2.
      txns_[b.txn].interval_ms = opts_.t2_ms;
      return;
    }
    b.last_code = m.status;
    if (m.status < 300 || m.status == 401 || m.status == 407) note_alive(b);
    if (m.status >= 300 && m.status < 700) rc(b).by_code[m.status - 300].inc();
    if (m.status < 300) return on_success(s32, b, m, now);
    if (m.status == 401 || m.status == 407) return on_challenge(s32, b, m, now);
    if (m.status == 423) return on_too_brief(s32, b, m, now);
    rc(b).rejected.inc();
    // A registrar may refuse a reused nonce outright (400, 403…) instead of challenging: the
    // retry, and the next refreshes, go without it.
    if (b.preemptive) note_preemptive_challenged(b, now);
    std::uint32_t retry_after = 0;
    if (const sip::Header* ra = m.first(sip::HeaderId::retry_after)) {
      if (!sip::parse_delta_seconds(ra->value, retry_after)) retry_after = 0;
    }
    if (retry_after > kMaxRetryAfterS) {  // honoured up to the documented maximum, not beyond
      rc(b).retry_after_capped.inc();
      retry_after = kMaxRetryAfterS;
    }
    fail(s32, b, m.status, retry_after, now, FailReason::rejected);
  }

  void on_success(std::uint32_t slot, Binding& b, const sip::Message& m, std::uint64_t now) {
    note_accepted(b);
    if (b.unregister) {
      rc(b).unregistered.inc();
      finish_unregister(slot, b);
      return;
    }
    // §10.2.4: the expiry granted is our Contact's `expires`, else the Expires header, else
    // what we asked for.
    std::uint32_t granted = 0;
    bool found = false;
    const Snapshot& s = snap();
    const std::string_view number = s.number(s.endpoints[b.endpoint]);
    for (std::uint16_t i = 0; i < m.header_count && !found; ++i) {
      if (m.headers[i].id != sip::HeaderId::contact) continue;
      std::size_t pos = 0;
      std::string_view el;
      while (!found && sip::next_list_element(m.headers[i].value, pos, el)) {
        sip::NameAddr na;
        if (!sip::parse_name_addr(el, na) || !contact_is_ours(na.uri, number, contact_host_[b.registrar].view())) continue;
        std::size_t ppos = 0;
        std::string_view pn, pv;
        while (sip::next_param(na.params, ppos, pn, pv)) {
          if (sip::iequals(pn, "expires") && sip::parse_delta_seconds(pv, granted)) {
            found = true;
            break;
          }
        }
      }
    }
    if (!found) {
      if (const sip::Header* e = m.first(sip::HeaderId::expires)) found = sip::parse_delta_seconds(e->value, granted);
    }
    if (!found) granted = b.requested;
    if (granted == 0) {
      // A 2xx that grants nothing did not register us.
      rc(b).rejected.inc();
      fail(slot, b, m.status, 0, now, FailReason::rejected);
      return;
    }
    registered(slot, b, granted, now);
  }

  static bool contact_is_ours(std::string_view uri, std::string_view number, std::string_view host) {
    // sip:NUMBER@HOST, possibly followed by URI parameters the registrar added.
    if (uri.size() < 4 || !sip::iequals(uri.substr(0, 4), "sip:")) return false;
    uri.remove_prefix(4);
    if (uri.substr(0, number.size()) != number || uri.size() <= number.size() || uri[number.size()] != '@') return false;
    uri.remove_prefix(number.size() + 1);
    if (!sip::iequals(uri.substr(0, host.size()), host)) return false;
    return uri.size() == host.size() || uri[host.size()] == ';';
  }

  void on_too_brief(std::uint32_t slot, Binding& b, const sip::Message& m, std::uint64_t now) {
    rc(b).interval_too_brief.inc();
    std::uint32_t min_expires = 0;
    const sip::Header* h = m.first(sip::HeaderId::min_expires);
    // §10.2.8: retry with an expiry ≥ Min-Expires. Without a usable one, it is a failure.
    if (h == nullptr || !sip::parse_delta_seconds(h->value, min_expires) ||
        min_expires <= b.requested || (b.rounds = b.rounds + 1) > kMaxRounds) {
      rc(b).rejected.inc();
      fail(slot, b, 423, 0, now, FailReason::rejected);
      return;
    }
    b.requested = min_expires;
    if (!send_request(slot, b, nullptr, now, Send::retry)) fail(slot, b, 0, 0, now, FailReason::build_error);
  }

  void on_challenge(std::uint32_t slot, Binding& b, const sip::Message& m, std::uint64_t now) {
    const std::uint64_t received = opts_.ticks != nullptr ? opts_.ticks() : 0;
    rc(b).challenged.inc();
    if (b.preemptive) note_preemptive_challenged(b, now);
    const bool proxy = m.status == 407;
    const Snapshot& s = snap();
    const SnapRegistrar& r = s.registrars[b.registrar];
    const ChallengeChoice cc = choose_challenge(s, b.endpoint, r.auth_realm, m);
    const bool have = cc.have, refused_realm = cc.refused_realm;
    const std::string_view unknown_realm = cc.unknown_realm, sha_realm = cc.sha_realm;
    const auth::Challenge& best = cc.challenge;
    const Snapshot::Choice& choice = cc.choice;
    const std::uint32_t best_realm = cc.realm_id;
    if (cc.seen) b.challenge_alg = 1 + static_cast<std::uint8_t>(cc.have ? best.algorithm : cc.seen_algorithm);
    // A realm challenged with SHA-256 or SHA-512/256 and the snapshot keeps only the MD5 HA1 of
    // its credentials (SHA ones are computed only for realms that use them): ask the control
    // plane for them (even after failures: it ignores repeats), also when another challenge of
    // the same response (MD5) can be answered now, so that the stronger one is chosen next time
    // (RFC 8760 §2.4).
    if (sha_realm.size() > 0 && !push_realm(sha_realms_, sha_realm)) wc().realm_reports_dropped.inc();
    if (!have) {
      // Nothing to answer with: retry in about a second, as for F4.4 below. The credential is
      // the realm's own (F7), only its HA1 is missing; a second miss counts as a failure.
      if (sha_realm.size() > 0 && b.failures == 0) {
        rc(b).sha_learning.inc();
        free_txn(b);
        b.failures = 1;
        trace_state(b, BindingState::backoff, now);
        set_state(b, BindingState::backoff);
        wheel_.schedule(slot, now + prng_.between(800, 1200));
        return;
      }
      if (!refused_realm && unknown_realm.size() > 0 && s.has_anyrealm(b.endpoint) &&
          b.failures == 0) {
        // F4.4 for a realm no snapshot names yet: ask the control plane for its HA1 and retry
        // in about a second, without counting a failure (the next snapshot will have it). A
        // second miss counts as a failure, so a registrar changing realms cannot loop us.
        rc(b).realm_learning.inc();
        // A report dropped (the control thread is behind) is not this binding's failure: it
        // reports again at its retry.
        const bool reported = push_realm(unknown_realms_, unknown_realm, b.registrar);
        if (!reported) wc().realm_reports_dropped.inc();
        free_txn(b);
        b.failures = reported ? 1 : 0;
        trace_state(b, BindingState::backoff, now);
        set_state(b, BindingState::backoff);
        wheel_.schedule(slot, now + prng_.between(800, 1200));
        return;
      }
      // F4.5: nothing configured may answer; terminate, no blind retry (F7). The row names the
      // realm challenged, also one nobody configured (no id: kept per registrar as received).
      if (cc.seen) b.realm = cc.seen_realm_id != kNoRealm ? cc.seen_realm_id : note_unknown_realm(b, cc.seen_realm);
      if (refused_realm) rc(b).realm_refused.inc();
      rc(b).no_credential.inc();
      fail(slot, b, m.status, 0, now, FailReason::no_credential);
      return;
    }
    const std::uint64_t tag = nonce_tag(best.nonce);
    // F7: a realm is answered once per attempt. Challenged for it again right after a request
    // that carried its credentials (b.nonce is set only then; a preemptive request's challenge
    // cleared it above) — with a fresh nonce or the same one — the registrar refused the
    // credential: stop, back off, say why. Answering again would only add wrong digests (4 per
    // attempt against a registrar that makes a new nonce for every 401), and providers lock
    // accounts for less. A stale=true challenge says the digest was right and only the nonce
    // old (RFC 7616 §3.3): it is answered once more per attempt.
    const bool again = b.nonce != 0 && (best_realm == b.realm || tag == b.nonce);
    if (again && (!best.stale || b.stale_answered)) {
      rc(b).auth_failed.inc();
      b.realm = best_realm;  // the realm that refused it, for the status row
      fail(slot, b, m.status, 0, now, FailReason::auth_failed);
      return;
    }
    b.rounds = b.rounds + 1;
    if (b.rounds > kMaxRounds) {
      rc(b).auth_failed.inc();
      fail(slot, b, m.status, 0, now, FailReason::auth_failed);
      return;
    }
    if (best.stale) rc(b).stale.inc();
    if (again) b.stale_answered = true;
    b.nonce = tag;
    b.credential = static_cast<std::uint32_t>(choice.cred - s.credentials.data());
    b.realm = best_realm;
    if (choice.cred->realm == kNoRealm) note_learned_realm_use(s, best_realm, b.registrar, now);

    const DigestParams d = cc.params(proxy);
    // Counted over every use of that nonce by the registrar's bindings; a nonce new to the cache
    // becomes its candidate for preemptive use.
    const std::uint32_t nc = auth_cache_[b.registrar].record_answer(tag, d, best_realm);
    if (!send_authorized(slot, b, *choice.cred, choice.ha1, d, nc, now, Send::retry)) {
      fail(slot, b, 0, 0, now, FailReason::build_error);
      return;
    }
    // The answer queued now (not waiting for a token of the registrar's rate): how long it took.
    if (received != 0 && !txns_[b.txn].unsent) {
      const std::uint64_t ticks = opts_.ticks() - received;
      rc(b).challenge_answer.observe(kChallengeAnswerNs, ticks * 1000 / std::max<std::uint64_t>(1, opts_.ticks_per_us));
    }
  }

  // A realm-less credential answered `realm` for registrar slot `registrar`: when the realm is
  // one the control plane learned, tell it (at most every kRealmUseReportMs), so that it evicts
  // that registrar's least recently used learned realm, not one still in use.
  void note_learned_realm_use(const Snapshot& s, std::uint32_t realm, std::uint8_t registrar, std::uint64_t now) {
    if (realm >= s.learned_realm.size() || !s.learned_realm[realm]) return;
    RealmUse& u = realm_use_[(realm * 8u + registrar) % realm_use_.size()];
    if (u.version == s.version && u.realm == realm && u.registrar == registrar && now - u.at_ms < kRealmUseReportMs) return;
    if (!push_realm(used_realms_, s.realms.names[realm], registrar)) {  // full: the next answer retries
      wc().realm_reports_dropped.inc();
      return;
    }
    u = RealmUse{s.version, realm, registrar, now};
  }

  // ---- OPTIONS keepalive (see struct Keepalive) ----
  void make_keepalive_ids(int ri, const Keepalive& k, char* branch, char* call_id, char* from_tag) const {
    const std::uint32_t slot = kKeepaliveSlot + static_cast<std::uint32_t>(ri);
    put_branch(slot, k.generation, k.cseq, branch);
    put_hex(siphash24(opts_.key, 0x4f5054494f4e5300ull | opts_.worker, (std::uint64_t{k.generation} << 32) | k.cseq),
            16, call_id);
    call_id[16] = '-';
    put_hex(slot, 8, call_id + 17);
    put_hex(opts_.worker, 2, call_id + 25);
    put_hex(siphash24(opts_.key, 0x4b41464f4d544700ull | opts_.worker, (std::uint64_t{k.generation} << 32) | slot),
            12, from_tag);
  }

  RegistrarCounters& krc(int ri) { return eng_.counters_->registrar[ri]; }

  // (Re)starts, keeps or stops registrar ri's keepalive for the snapshot being adopted.
  void adopt_keepalive(int ri, std::uint64_t now) {
    const SnapRegistrar& r = snap().registrars[ri];
    Keepalive& k = ka_[ri];
    const bool active = r.present && r.keepalive_up_ms != 0 && r.keepalive_worker == opts_.worker;
    if (!active) {
      if (k.active) {
        k.active = false;
        k.in_flight = false;
        k.down = false;
        krc(ri).keepalive_state.set(static_cast<std::uint64_t>(KeepaliveState::none));
      }
      return;
    }
    if (!k.active || k.generation != r.generation) {
      // A registrar new to the keepalive (or re-addressed) is presumed up, and pinged now.
      const std::uint32_t cseq = k.cseq;
      k.active = true;
      k.down = false;
      k.in_flight = false;
      k.misses = 0;
      k.cseq = cseq;
      k.generation = r.generation;
      k.due_ms = now;
      krc(ri).keepalive_state.set(static_cast<std::uint64_t>(KeepaliveState::up));
      krc(ri).keepalive_since_ms.set(now);
      krc(ri).keepalive_last_code.set(0);
    }
    k.up_ms = r.keepalive_up_ms;
    k.down_ms = r.keepalive_down_ms;
    k.retry = std::max<std::uint8_t>(1, r.keepalive_retry);
  }

  // Whether registrar ri's REGISTERs wait (see held_); its backed-off bindings are pulled
  // through its pacer when it comes back.
  void update_held(int ri) {
    const SnapRegistrar& r = snap().registrars[ri];
    const bool held = ri < kRegistrarSlots && r.present && r.keepalive_up_ms != 0 &&
                      (ka_[ri].active ? ka_[ri].down : r.keepalive_down);
    if (held == held_[ri]) return;
    held_[ri] = held;
    eng_.counters_->bindings[ri].queued_as.set(static_cast<std::uint64_t>(queued_as(ri)));
    pace_dirty_ = true;
    if (!held) {
      Pacer& p = pacers_[ri];
      p.down = false;
      p.pull = p.down_head != kNoEntry;
    }
  }

  void set_keepalive_down(int ri, Keepalive& k, bool down, std::uint64_t now) {
    k.down = down;
    RegistrarCounters& c = krc(ri);
    c.keepalive_state.set(static_cast<std::uint64_t>(down ? KeepaliveState::down : KeepaliveState::up));
    c.keepalive_since_ms.set(now);
    (down ? c.keepalive_down : c.keepalive_up).inc();
    update_held(ri);
  }

  void send_keepalive(int ri, Keepalive& k, std::uint64_t now) {
    const Snapshot& s = snap();
    const SnapRegistrar& r = s.registrars[ri];
    ++k.cseq;
    char branch[kBranchLength];
    char call_id[kCallIdLength];
    char from_tag[12];
    make_keepalive_ids(ri, k, branch, call_id, from_tag);
    OptionsRequest req;
    req.request_uri = r.request_uri;
    req.via_host = via_host_[ri].view();
    req.branch = {branch, sizeof branch};
    req.call_id = {call_id, sizeof call_id};
    req.from_tag = {from_tag, sizeof from_tag};
    req.cseq = k.cseq;
    req.user_agent = opts_.user_agent;
    const std::size_t n = build_options(req, k.data, sizeof k.data);
    if (n == 0) {
      wc().build_errors.inc();
      k.due_ms = now + k.up_ms;
      return;
    }
    k.len = static_cast<std::uint16_t>(n);
    k.in_flight = true;
    k.unreachable = false;
    k.started_ms = now;
    k.interval_ms = s.t1_ms;
    k.due_ms = now + k.interval_ms;  // Timer E
    krc(ri).options_sent.inc();
    send_bytes(r, k.data, n);
  }

  // The OPTIONS in flight ended unanswered (408: Timer F; 503: ICMP unreachable; or a 503, 505
  // or 408 response): one more miss; `retry` of them in a row put the registrar down.
  void keepalive_missed(int ri, Keepalive& k, std::uint16_t code, bool answered, std::uint64_t now) {
    k.in_flight = false;
    (answered ? krc(ri).options_failed : krc(ri).options_timed_out).inc();
    krc(ri).keepalive_last_code.set(code);
    if (k.misses < 255) ++k.misses;
    if (!k.down && k.misses >= k.retry) set_keepalive_down(ri, k, true, now);
    // Unanswered: the next one after down-interval (from this one's start), not up-interval.
    k.due_ms = std::max(now, k.started_ms + k.down_ms);
  }

  void run_keepalives(std::uint64_t now) {
    const Snapshot& s = snap();
    for (int ri = 0; ri < kRegistrarSlots; ++ri) {
      Keepalive& k = ka_[ri];
      if (!k.active || now < k.due_ms) continue;
      const SnapRegistrar& r = s.registrars[ri];
      if (r.addr_len == 0) {  // waits for DNS
        k.in_flight = false;
        k.due_ms = now + 1000;
        continue;
      }
      if (!k.in_flight) {
        send_keepalive(ri, k, now);
        continue;
      }
      const std::uint64_t timer_f = k.started_ms + 64ull * s.t1_ms;
      if (k.unreachable) {
        keepalive_missed(ri, k, 503, false, now);
        continue;
      }
      if (now >= timer_f) {
        keepalive_missed(ri, k, 408, false, now);
        continue;
      }
      krc(ri).options_retransmitted.inc();
      send_bytes(r, k.data, k.len);
      k.interval_ms = std::min<std::uint32_t>(k.interval_ms * 2, opts_.t2_ms);
      k.due_ms = std::min<std::uint64_t>(now + k.interval_ms, timer_f);
    }
  }

  void on_keepalive_response(std::uint32_t ri, std::uint32_t cseq, const sip::Message& m, std::uint64_t now) {
    Keepalive& k = ka_[ri];
    const sip::Header* cseq_h = m.first(sip::HeaderId::cseq);
    sip::CSeq cs;
    char branch[kBranchLength];
    char call_id[kCallIdLength];
    char from_tag[12];
    const std::uint32_t keep = k.cseq;
    k.cseq = cseq;  // the ids of the OPTIONS this response names
    make_keepalive_ids(static_cast<int>(ri), k, branch, call_id, from_tag);
    k.cseq = keep;
    const sip::Header* cid_h = m.first(sip::HeaderId::call_id);
    if (cseq_h == nullptr || !sip::parse_cseq(cseq_h->value, cs) || cs.number != cseq || cs.method != "OPTIONS" ||
        cid_h == nullptr || cid_h->value != std::string_view(call_id, sizeof call_id)) {
      wc().forged.inc();
      return;
    }
    if (!k.in_flight || cseq != k.cseq) {
      krc(static_cast<int>(ri)).stray.inc();
      return;
    }
    if (m.status < 200) {
      k.interval_ms = opts_.t2_ms;  // Proceeding: retransmit at T2 (§17.1.2.2)
      return;
    }
    // RFC 3261 §11.2: the registrar answers OPTIONS as it would an INVITE; any final response
    // says it is there and processing requests (a 405 or 404 too). As CUBE's OPTIONS ping, 503
    // (it cannot serve now, §21.5.4) and 505 count as unanswered; so does 408, unlike CUBE: a
    // registrar does not time out its own OPTIONS, a proxy in front of it that could not reach
    // it does.
    if (m.status == 503 || m.status == 505 || m.status == 408) {
      keepalive_missed(static_cast<int>(ri), k, static_cast<std::uint16_t>(m.status), true, now);
      return;
    }
    k.in_flight = false;
    k.misses = 0;
    krc(static_cast<int>(ri)).options_answered.inc();
    krc(static_cast<int>(ri)).keepalive_last_code.set(m.status);
    if (k.down) set_keepalive_down(static_cast<int>(ri), k, false, now);
    k.due_ms = std::max(now, k.started_ms + k.up_ms);
  }

  // ---- timers ----
  void on_timer(std::uint32_t slot, std::uint64_t now) {
    Binding& b = bindings_[slot];
    switch (b.state) {
      case BindingState::registering:
      case BindingState::unregistering: {
        Txn& t = txns_[b.txn];
        const Snapshot& s = snap();
        if (t.unreachable) {
          rc(b).unreachable.inc();  // ICMP quoted this request: the registrar is not there
          fail(slot, b, 503, 0, now, FailReason::unreachable);
          note_transport_failure(slot, b);
          return;
        }
        // Timer F (64·T1) or the `retry register` cap ends the transaction (§17.1.2.2).
        if (now - t.started_ms >= 64ull * s.t1_ms || t.retransmits >= s.retry_register) {
          rc(b).timed_out.inc();
          fail(slot, b, 408, 0, now, FailReason::timeout);
          note_transport_failure(slot, b);
          return;
        }
        if (t.deferred) {  // already waiting for a token (its timer is Timer F)
          wheel_.schedule(slot, t.started_ms + 64ull * s.t1_ms);
          return;
        }
        if (held_[b.registrar]) {  // the keepalive has the registrar down: Timer F ends it
          rc(b).keepalive_held.inc();
          wheel_.schedule(slot, t.started_ms + 64ull * s.t1_ms);
          return;
        }
        if (!take_retransmit_token(b, now)) {
          // Waits for a token of the registrar's bucket, not dropped; Timer F still ends it.
          rc(b).retransmit_deferred.inc();
          defer(b);
          wheel_.schedule(slot, t.started_ms + 64ull * s.t1_ms);
          return;
        }
        retransmit(slot, b, now);
        return;
      }
      case BindingState::registered:
      case BindingState::backoff:
        b.refresh_planned = b.state == BindingState::registered;
        if (held_[b.registrar]) rc(b).keepalive_held.inc();  // waits in the queue until up
        enqueue(slot, b);  // refresh or retry, paced
        return;
      default:
        return;
    }
  }
};

// ---------------------------------------------------------------------------------------------

Engine::Engine(const EngineOptions& opts, TxQueue& tx)
    : impl_(std::make_unique<Impl>(*this, opts, tx)), counters_(std::make_unique<WorkerCounters>()) {}

Engine::~Engine() = default;

void Engine::check_pin(const SnapshotPin& pin) const {
  REGFRONT_DCHECK(pin.get() == snap_ || snap_ == nullptr);
}

void Engine::adopt(const SnapshotPin& pin, std::uint64_t now_ms) {
  const Snapshot* snap = pin.get();
  // The same snapshot again (comparing the version too: a new snapshot may reuse a freed one's
  // address).
  if (snap == nullptr || (snap == snap_ && snap->version == adopted_version_)) return;
  adopted_version_ = snap->version;
  Impl& m = *impl_;
  m.pace_dirty_ = true;
  if (!m.clock_started_) {
    m.wheel_ = TimerWheel(m.opts_.capacity, now_ms);  // set-up: the wheel starts at our clock
    m.expiry_ = TimerWheel(m.opts_.capacity, now_ms);
    m.clock_started_ = true;
  }
  const bool had_snapshot = snap_ != nullptr;
  m.counting_ = false;
  // What each binding last used, in the new snapshot's ids: mapped when it was built right
  // after ours, else forgotten (a status row then shows none until the next request; no realm
  // is wrongly taken as already answered).
  const bool map_ids = had_snapshot && snap->previous_version == m.adopted_from_;
  m.adopted_from_ = snap->version;
  snap_ = snap;
  for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) {
    const SnapRegistrar& r = snap->registrars[ri];
    m.counter_index_[ri] = static_cast<std::uint8_t>(r.index >= 1 && r.index <= kRegistrarSlots ? r.index - 1 : ri % kRegistrarSlots);
    m.set_host(m.contact_host_[ri], r.local_ip, snap->listen_port);
    m.set_host(m.via_host_[ri], r.local_ip, m.opts_.via_port ? m.opts_.via_port : snap->listen_port);
  }
  m.note_addresses(*snap);
  const std::vector<PlanEntry>* plan =
      m.opts_.worker < snap->plans.size() ? &snap->plans[m.opts_.worker] : nullptr;
  const std::uint32_t n = plan ? static_cast<std::uint32_t>(plan->size()) : 0;
  if (n > m.opts_.capacity) counters_->plan_overflow.inc(n - m.opts_.capacity);
  const std::uint32_t limit = std::min(n, m.opts_.capacity);
  for (std::uint32_t slot = 0; slot < std::max(limit, m.used_slots_); ++slot) {
    Binding& b = m.bindings_[slot];
    const PlanEntry* pe = slot < limit ? &(*plan)[slot] : nullptr;
    if (pe != nullptr && pe->endpoint != kNoEntry && b.state != BindingState::idle &&
        b.generation == pe->generation) {
      // The same binding; the endpoint table may have moved, and the credential and realm ids.
      b.endpoint = pe->endpoint;
      b.registrar = pe->registrar;
      if (!map_ids) {
        b.credential = kNoEntry;
        b.realm = kNoRealm;
      } else {
        if (b.credential != kNoEntry) {
          b.credential = b.credential < snap->credential_from_previous.size() ? snap->credential_from_previous[b.credential]
                                                                             : kNoEntry;
        }
        if (b.realm != kNoRealm && b.realm != kUnknownRealm) {
          b.realm = b.realm < snap->realm_from_previous.size() ? snap->realm_from_previous[b.realm] : kNoRealm;
        }
      }
      if (pe->leaving) {
        m.leave(slot, b, now_ms);
      } else if (had_snapshot && m.adopted_expires_[pe->registrar] != snap->registrars[pe->registrar].expires) {
        b.requested = snap->registrars[pe->registrar].expires;  // used from the next refresh on
      }
      continue;
    }
    // The slot was given to another binding, or emptied: drop what ran there.
    if (b.state != BindingState::idle) {
      m.wheel_.cancel(slot);
      m.expiry_.cancel(slot);
      m.free_txn(b);
      b.state = BindingState::idle;  // a queued entry is skipped when popped
    }
    if (pe == nullptr || pe->endpoint == kNoEntry || pe->leaving || m.shutting_down_) continue;
    const std::uint32_t keep_next = b.wait_next, keep_down_next = b.down_next;
    const bool keep_linked = b.linked, keep_down_linked = b.down_linked;
    b = Binding{};
    b.wait_next = keep_next;  // a queue may still link through this slot
    b.linked = keep_linked;
    b.down_next = keep_down_next;  // and a down list
    b.down_linked = keep_down_linked;
    b.endpoint = pe->endpoint;
    b.generation = pe->generation;
    b.registrar = pe->registrar;
    b.requested = snap->registrars[pe->registrar].expires;
    m.enqueue(slot, b);
  }
  m.used_slots_ = std::max(limit, m.used_slots_);
  for (int ri = 0; ri < kRegistrarSlots; ++ri) m.adopt_keepalive(ri, now_ms);
  for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) m.update_held(ri);
  // Bindings moved between registrar slots above: count them again, then by each transition.
  m.recount();
  m.counting_ = true;
  for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) {
    const SnapRegistrar& r = snap->registrars[ri];
    m.adopted_expires_[ri] = r.expires;
    // Cached nonces belong to the registrar they came from, and name their realm by the id of
    // the snapshot they were learned with: re-resolve it, forget them if the registrar changed.
    m.auth_cache_[ri].on_adopt(snap->realms, r.present, r.generation);
  }
}

void Engine::on_datagram(const SnapshotPin& pin, std::string_view datagram, std::uint64_t now_ms) {
  check_pin(pin);
  sip::Header headers[sip::kMaxHeaders];
  sip::Message msg;
  const bool parsed = sip::parse(datagram, msg, headers) == sip::ParseStatus::ok;
  count_datagram(parsed);
  if (!parsed) {
    if (msg.error == sip::ParseError::limit) on_oversized(pin, datagram, now_ms);
    return;
  }
  if (msg.is_request) {
    count_ignored_request();
    return;
  }
  on_response(pin, msg, now_ms);
}

void Engine::count_datagram(bool parsed) {
  counters_->rx_datagrams.inc();
  if (!parsed) counters_->parse_errors.inc();
}

void Engine::count_ignored_request() { counters_->requests_ignored.inc(); }

void Engine::on_response(const SnapshotPin& pin, const sip::Message& msg, std::uint64_t now_ms) {
  check_pin(pin);
  if (snap_ == nullptr) return;
  impl_->on_response(msg, now_ms);
}

void Engine::on_oversized(const SnapshotPin& pin, std::string_view datagram, std::uint64_t now_ms) {
  check_pin(pin);
  if (snap_ == nullptr) return;
  impl_->on_oversized(datagram, now_ms);
}

bool Engine::on_unreachable(const SnapshotPin& pin, const sockaddr_storage& dst, std::string_view quoted,
                            std::uint64_t now_ms) {
  check_pin(pin);
  const bool ok = snap_ != nullptr && impl_->on_unreachable(dst, quoted, now_ms);
  (ok ? counters_->icmp_accepted : counters_->icmp_ignored).inc();
  return ok;
}

void Engine::advance(const SnapshotPin& pin, std::uint64_t now_ms) {
  check_pin(pin);
  if (snap_ == nullptr) return;
  Impl& m = *impl_;
  m.wheel_.advance(now_ms, [&](std::uint32_t slot) { m.on_timer(slot, now_ms); });
  m.expiry_.advance(now_ms, [&](std::uint32_t slot) { m.on_lapse(slot); });
  if (m.sweep_mask_ != 0) m.sweep();
  m.run_keepalives(now_ms);
  m.start_paced(now_ms);
}

void Engine::begin_shutdown(const SnapshotPin& pin, std::uint64_t now_ms) {
  check_pin(pin);
  Impl& m = *impl_;
  if (m.shutting_down_) return;
  m.shutting_down_ = true;
  for (auto& p : m.pacers_) {
    const TokenBucket keep = p.bucket;  // what was sent (or borrowed) still counts
    p = Pacer{};
    p.bucket = keep;
  }
  for (auto& t : m.txns_) t.deferred_linked = false;  // those queues were emptied too
  for (std::uint32_t slot = 0; slot < m.used_slots_; ++slot) {
    Binding& b = m.bindings_[slot];
    b.wait_next = kNoEntry;  // the queues were emptied above
    b.linked = false;
    b.down_next = kNoEntry;
    b.down_linked = false;
    if (b.unregister && b.state == BindingState::queued) {
      m.enqueue(slot, b);  // already leaving: back in the (emptied) queue
      continue;
    }
    m.leave(slot, b, now_ms);
  }
  // Unregistrations in flight whose next request waited for a token wait again.
  for (std::uint32_t ti = 0; ti < m.txns_.size(); ++ti) {
    if (Binding* b = m.deferred_binding(ti)) m.defer(*b);
  }
}

bool Engine::shutdown_done() const {
  const Impl& m = *impl_;
  if (!m.shutting_down_ || m.inflight_ != 0) return false;
  for (const auto& p : m.pacers_) {
    if (p.head != kNoEntry) return false;
  }
  return true;
}

std::uint64_t Engine::next_deadline_ms(const SnapshotPin& pin) const {
  check_pin(pin);
  const Impl& m = *impl_;
  // A lapse is counted when it happens (BindingCounts::live), not at the next wake.
  std::uint64_t next = std::min(m.wheel_.next_hint(), m.expiry_.next_hint());
  if (snap_ == nullptr) return next;
  const std::uint64_t now = m.wheel_.now();
  if (m.starts_pending_ || m.sweep_mask_ != 0) return now;  // starts or a sweep left for the next call
  for (const Keepalive& k : m.ka_) {
    if (k.active) next = std::min(next, std::max(now, k.due_ms));
  }
  for (int ri = 0; ri < kSnapRegistrarSlots; ++ri) {
    const Pacer& p = m.pacers_[ri];
    const SnapRegistrar& r = snap_->registrars[ri];
    if (m.held_[ri] && !m.shutting_down_) continue;  // waits for the keepalive
    if (p.pull) return now + 1;  // pulling backed-off bindings forward (kPullBudget a call)
    if (p.head == kNoEntry && p.deferred_head == kNoEntry) continue;
    if (!r.present || r.rate_per_worker <= 0) return now + 1;  // start_paced() tidies it
    if (p.deferred_head != kNoEntry) {
      // A deferred retransmission or retry goes when its token is there: no batching.
      const double need = p.bucket.ms_until_token(r.rate_per_worker);
      next = std::min(next, now + std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(need))));
      continue;
    }
    // A queue with a backlog is served in batches: wake when one token is there, but not
    // before kPaceBatchMs worth of tokens have accrued (the bucket holds 20 ms, so nothing is
    // lost). Waking every millisecond to start one or two REGISTERs cost a loop iteration
    // (and on sockets a wake-up and its system calls) per start; at low rates it woke
    // ~1000 times per start for nothing.
    const double ms_per_token = 1000.0 / r.rate_per_worker;
    const double need = p.bucket.ms_until_token(r.rate_per_worker);
    const double wait = std::max(need, std::min(kPaceBatchMs, ms_per_token * p.length));
    const std::uint64_t at = now + std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::ceil(wait)));
    next = std::min(next, at);
  }
  return next;
}

std::uint32_t Engine::slot_count() const { return impl_->used_slots_; }
bool Engine::pop_unknown_realm(std::string& realm, std::uint8_t& registrar) {
  return pop_realm(impl_->unknown_realms_, realm, &registrar);
}
bool Engine::pop_used_realm(std::string& realm, std::uint8_t& registrar) {
  return pop_realm(impl_->used_realms_, realm, &registrar);
}
bool Engine::pop_sha_realm(std::string& realm) { return pop_realm(impl_->sha_realms_, realm); }
std::uint32_t Engine::inflight() const { return impl_->inflight_; }

bool Engine::registered(std::uint32_t slot, std::uint64_t now_ms) const {
  const Impl& m = *impl_;
  return slot < m.used_slots_ && m.bindings_[slot].state != BindingState::idle &&
         m.bindings_[slot].registered_until > now_ms;
}

std::uint32_t Engine::registered_count(std::uint64_t now_ms) const {
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < impl_->used_slots_; ++i) {
    if (impl_->bindings_[i].registered_until > now_ms) ++n;
  }
  return n;
}

const StatusTables& Engine::status_tables() const { return impl_->tables_; }

void Engine::reregister(const SnapshotPin& pin, std::uint8_t registrars, std::string_view number, std::uint64_t now_ms) {
  check_pin(pin);
  (void)now_ms;
  if (snap_ == nullptr || impl_->opts_.worker >= snap_->plans.size()) return;
  Impl& m = *impl_;
  if (number.empty()) {
    m.sweep_mask_ |= registrars;
    m.sweep_next_ = 0;
    return;
  }
  // One number: its bindings are chained from its endpoint in its owner worker's plan.
  const std::uint32_t ep = snap_->find_endpoint(number);
  if (ep == kNoEntry || owner_of(number, static_cast<std::uint32_t>(snap_->plans.size())) != m.opts_.worker) return;
  for (std::uint32_t slot = snap_->endpoints[ep].first_slot, n = 0; slot != kNoEntry && slot < m.used_slots_ && n < kSnapRegistrarSlots;
       slot = snap_->plans[m.opts_.worker][slot].next_slot, ++n) {
    m.kick(slot, registrars);
  }
}

std::size_t Engine::status(const SnapshotPin& pin, std::uint32_t from, BindingStatus* out, std::size_t max,
                           std::uint32_t& next, std::uint64_t now_ms) const {
  check_pin(pin);
  const Impl& m = *impl_;
  std::size_t n = 0;
  std::uint32_t slot = from;
  for (; slot < m.used_slots_ && n < max; ++slot) {
    const Binding& b = m.bindings_[slot];
    if (b.state == BindingState::idle) continue;
    BindingStatus& s = out[n++];
    s.endpoint = b.endpoint;
    s.registrar = b.registrar;
    s.state = b.state;
    if (b.state == BindingState::queued && snap_->registrars[b.registrar].addr_len == 0) {
      s.state = BindingState::waiting_dns;  // queued behind a registrar not resolved yet
    } else if (b.state == BindingState::queued && m.held_[b.registrar]) {
      s.state = BindingState::held;  // waits for the keepalive to find its registrar up
    }
    s.last_code = b.last_code;
    s.granted = b.granted;
    // Rounded up: a row has seconds left exactly while its registration runs (as
    // BindingCounts::live counts it), its last second included.
    s.seconds_left = b.registered_until > now_ms
                         ? static_cast<std::int64_t>((b.registered_until - now_ms + 999) / 1000)
                         : 0;
    s.credential = b.credential;
    s.realm = b.realm;
    s.reason = b.reason;
    s.sent_to = b.sent_to;
    s.algorithm = b.challenge_alg;
    s.next_attempt_ms = -1;
    if (s.state == BindingState::queued) {
      s.next_attempt_ms = 0;
    } else if ((b.state == BindingState::registered || b.state == BindingState::backoff) && m.wheel_.armed(slot)) {
      s.next_attempt_ms = static_cast<std::int64_t>(m.wheel_.due(slot) > now_ms ? m.wheel_.due(slot) - now_ms : 0);
    }
  }
  next = slot;
  return n;
}

}  // namespace regfront::reg
