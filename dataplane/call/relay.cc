// The call relay of one worker. See regfront/call/relay.h for the contract.
//
// Order of work per call:
//   on_request:  trust → Max-Forwards → in-dialog (a To tag): relayed statelessly along the
//                dialog, CSeq offset applied towards the provider, a copy kept in case the
//                provider challenges it | CANCEL: matched to its INVITE | OPTIONS: answered |
//                INVITE: a call slot, 100 Trying, the hunt list (dial peers in IOS order,
//                registrars with a live binding), the first attempt | else 405.
//   on_response: the branch names (worker, slot, attempt) with a MAC → the call → 1xx: proceed
//                (a pending CANCEL leaves now) | 2xx: confirmed, forwarded with the offset
//                removed | 401/407: ACK, answer, re-send (CSeq + 1) | 408/5xx/timeout: next
//                target | other final: forwarded, ACKed.
//   advance:     the timer wheel: Timer A retransmissions, Timer B/C, released slots, idle
//                dialogs.
// Nothing here allocates after the constructor: call slots, the Call-ID index, the timer wheel
// and the scratch buffers are sized by RelayOptions.
//
// Rule numbers (F1–F7, R1–R7) are those of docs/rules.md.
#include "regfront/call/relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "regfront/auth/digest.h"
#include "regfront/common/check.h"
#include "regfront/common/prng.h"
#include "regfront/call/dial_peer_match.h"
#include "regfront/reg/digest_answer.h"
#include "regfront/reg/nonce_cache.h"
#include "regfront/reg/snapshot_calls.h"
#include "regfront/reg/timer_wheel.h"
#include "regfront/sip/builder.h"

namespace regfront::call {

REGFRONT_DEFINE_COUNTER_SET(REGFRONT_CALL_COUNTERS, CallCounters, kCallCounterInfo, kCallCounterCount, call_counter)

DialPeerCounters::Row& DialPeerCounters::of(std::uint32_t tag) {
  // Open addressing by tag; row 0 is the overflow row and never claimed for a tag.
  for (std::size_t n = 0, i = 1 + tag % (kRows - 1); n < kRows - 1; ++n, i = 1 + i % (kRows - 1)) {
    const std::uint32_t t = rows[i].tag.load(std::memory_order_relaxed);  // only this thread writes it
    if (t == tag) return rows[i];
    if (t == 0) {
      rows[i].tag.store(tag, std::memory_order_release);  // the row's zero counters before the tag
      return rows[i];
    }
  }
  return rows[0];
}

bool is_relay_branch(std::string_view branch) {
  return branch.size() > kRelayBranchPrefix.size() && branch.substr(0, kRelayBranchPrefix.size()) == kRelayBranchPrefix;
}

std::string_view call_state_name(CallState s) {
  switch (s) {
    case CallState::idle: return "idle";
    case CallState::trying: return "trying";
    case CallState::calling: return "calling";
    case CallState::proceeding: return "proceeding";
    case CallState::confirmed: return "confirmed";
    case CallState::terminating: return "terminating";
    case CallState::completed: return "completed";
  }
  return "?";
}

namespace {

using reg::kNoEntry;
using reg::kNoRealm;

constexpr std::size_t kCopy = 4096;          // a request the relay keeps (its INVITE, a pending one)
constexpr std::size_t kMaxCallId = 128;
constexpr std::size_t kMaxTag = 64;
constexpr std::size_t kMaxNumber = 32;
constexpr std::size_t kMaxHunt = 12;         // targets one call may try
constexpr std::size_t kScratch = 64;         // one-shot output buffers (responses, ACKs, relays)
constexpr std::uint8_t kMaxRounds = 3;       // challenges answered per attempt
constexpr std::uint32_t kT1Ms = 500, kT2Ms = 4000;
// A failed call absorbs the caller's INVITE retransmissions until its ACK, at most Timer H.
constexpr std::uint32_t kLingerMs = 64 * kT1Ms;
// After a BYE's answer the slot is kept only for that BYE's retransmissions, should the answer
// be lost on its way to the caller: they come at most T2 apart (RFC 3261 §17.1.2.2), so two of
// them fit. Later ones get 481, which ends the caller's BYE just as well (§15.1.1). A dialog thus
// holds its slot 8 s after it ends, not 32 s: --max-calls is sized by calls per second × (call
// length + 8 s).
constexpr std::uint32_t kByeLingerMs = 2 * kT2Ms;
// Branch: prefix, worker (2 hex), slot (8), sequence (4), MAC (12).
constexpr std::size_t kBranchLength = kRelayBranchPrefix.size() + 2 + 8 + 4 + 12;
// Sequence bits: the top bit marks a stateless in-dialog relay, the next its direction.
constexpr std::uint16_t kSeqInDialog = 0x8000, kSeqToProvider = 0x4000, kSeqMask = 0x3fff;
constexpr std::string_view kAllow = "Allow: INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, PRACK, INFO\r\n";

std::uint64_t fnv(std::string_view s) { return reg::RealmTable::hash(s); }

std::string_view value_of(const sip::Message& m, sip::HeaderId id) {
  const sip::Header* h = m.first(id);
  return h == nullptr ? std::string_view() : h->value;
}

bool same_ip(const sockaddr_storage& a, const sockaddr_storage& b) {
  if (a.ss_family != b.ss_family) return false;
  if (a.ss_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in&>(a).sin_addr.s_addr == reinterpret_cast<const sockaddr_in&>(b).sin_addr.s_addr;
  }
  if (a.ss_family == AF_INET6) {
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(a).sin6_addr,
                       &reinterpret_cast<const sockaddr_in6&>(b).sin6_addr, 16) == 0;
  }
  return false;
}

// A literal "ip[:port]" (IPv6 in brackets) into a socket address; false for names.
bool literal_hostport(std::string_view hp, std::uint16_t default_port, sockaddr_storage& ss, socklen_t& len) {
  char host[64];
  std::uint32_t port = default_port;
  std::string_view h = hp;
  if (!hp.empty() && hp.front() == '[') {
    const std::size_t close = hp.find(']');
    if (close == std::string_view::npos) return false;
    h = hp.substr(1, close - 1);
    if (close + 1 < hp.size()) {
      if (hp[close + 1] != ':' || !sip::parse_delta_seconds(hp.substr(close + 2), port)) return false;
    }
  } else if (const std::size_t colon = hp.rfind(':'); colon != std::string_view::npos) {
    h = hp.substr(0, colon);
    if (!sip::parse_delta_seconds(hp.substr(colon + 1), port)) return false;
  }
  if (h.empty() || h.size() >= sizeof host || port == 0 || port > 65535) return false;
  std::memcpy(host, h.data(), h.size());
  host[h.size()] = '\0';
  std::memset(&ss, 0, sizeof ss);
  auto& v4 = reinterpret_cast<sockaddr_in&>(ss);
  if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in);
    return true;
  }
  auto& v6 = reinterpret_cast<sockaddr_in6&>(ss);
  if (inet_pton(AF_INET6, host, &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(static_cast<std::uint16_t>(port));
    len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

void set_port(sockaddr_storage& ss, std::uint16_t port) {
  if (ss.ss_family == AF_INET) reinterpret_cast<sockaddr_in&>(ss).sin_port = htons(port);
  if (ss.ss_family == AF_INET6) reinterpret_cast<sockaddr_in6&>(ss).sin6_port = htons(port);
}

std::uint16_t port_of(const sockaddr_storage& ss) {
  if (ss.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
  return 0;
}

// Where a response goes back to (RFC 3261 §18.2.2 with RFC 3581): the Via's received address
// (else its sent-by when that is a literal) and its rport (else the sent-by port, else 5060).
bool via_destination(std::string_view via_element, sockaddr_storage& ss, socklen_t& len) {
  sip::Via v;
  if (!sip::parse_via(via_element, v)) return false;
  sockaddr_storage sent;
  socklen_t sent_len = 0;
  const bool sent_literal = literal_hostport(v.sent_by, 5060, sent, sent_len);
  std::uint16_t port = sent_literal ? port_of(sent) : 5060;
  std::uint32_t rport = 0;
  if (!v.rport.empty() && sip::parse_delta_seconds(v.rport, rport) && rport > 0 && rport <= 65535) {
    port = static_cast<std::uint16_t>(rport);
  }
  if (!v.received.empty()) {
    if (!literal_hostport(v.received, port, ss, len)) return false;
  } else if (sent_literal) {
    ss = sent;
    len = sent_len;
  } else {
    return false;
  }
  set_port(ss, port);
  return true;
}

// The second Via element of a message (the one after ours), or "".
std::string_view second_via(const sip::Message& m) {
  bool first_seen = false;
  for (std::uint16_t i = 0; i < m.header_count; ++i) {
    if (m.headers[i].id != sip::HeaderId::via) continue;
    std::size_t pos = 0;
    std::string_view el;
    while (sip::next_list_element(m.headers[i].value, pos, el)) {
      if (first_seen) return el;
      first_seen = true;
    }
  }
  return {};
}

// Copies `s` into a fixed array; false when it does not fit.
template <std::size_t N>
bool copy_into(char (&dst)[N], std::uint8_t& len, std::string_view s) {
  if (s.size() > N) return false;
  std::memcpy(dst, s.data(), s.size());
  len = static_cast<std::uint8_t>(s.size());
  return true;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

class Relay::Impl {
 public:
  struct Target {
    std::uint32_t dial_peer = kNoEntry;  // index in SnapCalls::dial_peers
    std::uint8_t registrar = kNoRegistrar;
  };
  static constexpr std::uint8_t kNoRegistrar = 0xff;

  struct Call {
    CallState state = CallState::idle;
    CallDirection dir = CallDirection::outbound;
    bool provisional = false;     // a 1xx came back for the current attempt
    bool cancel_pending = false;  // the caller cancelled before any 1xx: CANCEL at the first one
    bool cancelled = false;
    bool pending_answered = false;  // the pending in-dialog request was already re-sent with credentials
    bool pending_valid = false;
    bool ended_by_bye = false;    // completed by a BYE's final response (not by a failed INVITE)
    bool stale_answered = false;  // this request answered a stale=true challenge already
    std::uint8_t rounds = 0;      // challenges answered in this attempt
    std::uint8_t hunt_count = 0, hunt_pos = 0;
    std::uint8_t registrar = kNoRegistrar;  // the provider side's registrar slot, if any
    std::uint8_t call_id_len = 0, caller_tag_len = 0, calling_len = 0, called_len = 0, pending_branch_len = 0;
    std::uint16_t attempt_seq = 0;  // the current attempt's branch sequence
    std::uint16_t pending_seq = 0;  // the pending in-dialog request's relayed branch sequence
    std::uint16_t copy_len = 0;     // bytes in `copy`
    std::uint16_t auth_len = 0;     // bytes in `auth_line`
    std::uint16_t best_code = 0;
    std::uint32_t generation = 0;
    std::uint32_t next_free = kNoEntry;
    std::uint32_t dial_peer_tag = 0;
    std::uint32_t endpoint = kNoEntry;     // whose credentials answer the provider's challenges
    std::uint32_t attempt_offset = 0;      // challenges answered in the current attempt
    std::uint32_t cseq_offset = 0;         // the dialog's: added towards the provider
    std::uint32_t retransmit_ms = 0;
    std::uint64_t nonce = 0;               // tag of the last nonce answered for the current request
    std::uint64_t answered_realm = 0;      // hash of the realm it answered (0: none yet)
    std::uint64_t nc_nonce = 0;            // the last nonce answered in this call, and its count
    std::uint32_t nc = 0;
    std::uint64_t started_ms = 0, attempt_ms = 0, last_activity_ms = 0;
    sockaddr_storage upstream{}, downstream{}, core{}, provider{};
    socklen_t upstream_len = 0, downstream_len = 0, core_len = 0, provider_len = 0;
    Target hunt[kMaxHunt];
    char call_id[kMaxCallId];
    char caller_tag[kMaxTag];
    char calling[kMaxNumber];
    char called[kMaxNumber];
    char pending_branch[kMaxTag];
    char auth_line[768];   // the current attempt's Authorization line (retransmissions are identical)
    char copy[kCopy];      // the INVITE while the call is set up; then the pending in-dialog
                           // request towards the provider; after a failure, the final response
    std::string_view call_id_view() const { return {call_id, call_id_len}; }
    std::string_view caller_tag_view() const { return {caller_tag, caller_tag_len}; }
    std::string_view calling_view() const { return {calling, calling_len}; }
    std::string_view called_view() const { return {called, called_len}; }
    std::string_view copy_view() const { return {copy, copy_len}; }
  };

  Impl(Relay& r, const RelayOptions& o, reg::TxQueue& tx, Liveness liveness)
      : relay_(r), opts_(o), tx_(tx), liveness_(liveness), calls_(o.max_calls), wheel_(o.max_calls, 0),
        prng_(o.seed), scratch_(kScratch * sip::kMaxBuilt) {
    REGFRONT_CHECK(o.max_calls > 0 && o.max_calls < kNoEntry);
    for (std::uint32_t i = 0; i < calls_.size(); ++i) calls_[i].next_free = i + 1 < calls_.size() ? i + 1 : kNoEntry;
    free_ = 0;
    std::size_t n = 16;
    while (n < 2 * calls_.size()) n <<= 1;
    index_.assign(n, kNoEntry);
    for (auto& b : blocked_until_) b = 0;
  }

  Relay& relay_;
  RelayOptions opts_;
  reg::TxQueue& tx_;
  Liveness liveness_;
  const reg::Snapshot* snap_ = nullptr;
  std::vector<Call> calls_;
  std::vector<std::uint32_t> index_;  // Call-ID hash → slot (open addressing, backward-shift delete)
  std::uint32_t free_ = kNoEntry;
  std::uint32_t active_ = 0;
  std::uint32_t used_slots_ = 0;
  std::uint32_t next_generation_ = 1;
  reg::TimerWheel wheel_;
  bool clock_started_ = false;
  Prng prng_;
  auth::Hasher hasher_;
  auth::CnonceSource cnonces_;
  std::vector<char> scratch_;
  std::uint32_t scratch_next_ = 0, scratch_since_flush_ = 0;
  std::uint64_t scratch_cleared_ = 0;
  // A 503 with Retry-After keeps a registrar (by slot) out of new calls until then.
  std::uint64_t blocked_until_[reg::kRegistrarSlots];

  CallCounters& cc() { return *relay_.counters_; }
  const reg::Snapshot& snap() const { return *snap_; }

  // ---- output ----
  // A buffer for one message that leaves in this burst. The TxQueue keeps pointers to it until
  // it is flushed: before a buffer is reused, everything queued is sent.
  char* scratch() {
    if (tx_.cleared() != scratch_cleared_) {
      scratch_cleared_ = tx_.cleared();
      scratch_since_flush_ = 0;
    }
    if (scratch_since_flush_ == kScratch) {
      tx_.flush();  // every buffer is in the queue: send them, then reuse
      scratch_cleared_ = tx_.cleared();
      scratch_since_flush_ = 0;
    }
    ++scratch_since_flush_;
    char* p = scratch_.data() + std::size_t(scratch_next_) * sip::kMaxBuilt;
    scratch_next_ = (scratch_next_ + 1) % kScratch;
    return p;
  }
  void send(const char* data, std::size_t len, const sockaddr_storage& dst, socklen_t dst_len) {
    if (len == 0 || dst_len == 0) return;
    reg::TxQueue::Item* it = tx_.reserve();
    if (it == nullptr) return;  // the worker's queue counts it (tx_overflow) by its own flush
    it->dst = dst;
    it->dst_len = dst_len;
    it->len = static_cast<std::uint16_t>(len);
    it->data = data;
    tx_.commit();
  }
  // A response of ours to `req`, to where it came from.
  void respond(const sip::Message& req, std::uint16_t code, std::string_view reason, std::string_view extra,
               const sockaddr_storage& to, socklen_t to_len) {
    char* buf = scratch();
    char tag[12];
    sip::put_hex(prng_.next(), 12, tag);
    const std::size_t n = sip::build_response(req, code, reason, {tag, sizeof tag}, extra, buf, sip::kMaxBuilt);
    if (n == 0) {
      cc().build_errors.inc();
      return;
    }
    sockaddr_storage dst;
    socklen_t dst_len = 0;
    const sip::Header* via = req.first(sip::HeaderId::via);
    std::string_view top;
    std::size_t pos = 0;
    if (via != nullptr && sip::next_list_element(via->value, pos, top) && via_destination(top, dst, dst_len)) {
      // The Via's received/rport, which the sender's address confirms (a forged Via must not
      // point our answers elsewhere: a mismatch goes back to the source).
      if (!same_ip(dst, to)) {
        dst = to;
        dst_len = to_len;
      }
    } else {
      dst = to;
      dst_len = to_len;
    }
    send(buf, n, dst, dst_len);
  }

  // ---- identifiers ----
  std::uint64_t mac(std::uint32_t slot, std::uint32_t generation, std::uint16_t seq) const {
    return siphash24(opts_.key, 0x52454c4159000000ull | (std::uint64_t{opts_.worker} << 32) | slot,
                     (std::uint64_t{generation} << 16) | seq);
  }
  // Writes the branch of (slot, seq) to out (kBranchLength bytes).
  void make_branch(std::uint32_t slot, std::uint16_t seq, char* out) const {
    std::memcpy(out, kRelayBranchPrefix.data(), kRelayBranchPrefix.size());
    char* p = out + kRelayBranchPrefix.size();
    sip::put_hex(opts_.worker, 2, p);
    sip::put_hex(slot, 8, p + 2);
    sip::put_hex(seq, 4, p + 10);
    sip::put_hex(mac(slot, calls_[slot].generation, seq) >> 16, 12, p + 14);
  }
  // The call slot and sequence a branch names, when it is ours and its MAC holds.
  bool parse_branch(std::string_view b, std::uint32_t& slot, std::uint16_t& seq) const {
    if (b.size() != kBranchLength || !is_relay_branch(b)) return false;
    std::uint64_t w, s, q, m;
    const std::string_view rest = b.substr(kRelayBranchPrefix.size());
    if (!sip::parse_hex(rest.substr(0, 2), w) || !sip::parse_hex(rest.substr(2, 8), s) || !sip::parse_hex(rest.substr(10, 4), q) ||
        !sip::parse_hex(rest.substr(14, 12), m)) {
      return false;
    }
    if (w != opts_.worker || s >= calls_.size()) return false;
    slot = static_cast<std::uint32_t>(s);
    seq = static_cast<std::uint16_t>(q);
    const Call& c = calls_[slot];
    return c.state != CallState::idle && (mac(slot, c.generation, seq) >> 16) == m;
  }

  // ---- the Call-ID index ----
  std::uint32_t find(std::string_view call_id) const {
    const std::size_t mask = index_.size() - 1;
    for (std::size_t i = fnv(call_id) & mask;; i = (i + 1) & mask) {
      const std::uint32_t s = index_[i];
      if (s == kNoEntry) return kNoEntry;
      if (calls_[s].call_id_view() == call_id) return s;
    }
  }
  void index_insert(std::uint32_t slot) {
    const std::size_t mask = index_.size() - 1;
    std::size_t i = fnv(calls_[slot].call_id_view()) & mask;
    while (index_[i] != kNoEntry) i = (i + 1) & mask;
    index_[i] = slot;
  }
  void index_erase(std::uint32_t slot) {
    const std::size_t mask = index_.size() - 1;
    std::size_t i = fnv(calls_[slot].call_id_view()) & mask;
    while (index_[i] != slot) {
      if (index_[i] == kNoEntry) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion: move up every later entry of the cluster that may sit here.
    for (std::size_t j = (i + 1) & mask; index_[j] != kNoEntry; j = (j + 1) & mask) {
      const std::size_t home = fnv(calls_[index_[j]].call_id_view()) & mask;
      const bool movable = (j > i) ? (home <= i || home > j) : (home <= i && home > j);
      if (movable) {
        index_[i] = index_[j];
        i = j;
      }
    }
    index_[i] = kNoEntry;
  }

  // ---- call slots ----
  std::uint32_t acquire() {
    if (free_ == kNoEntry) return kNoEntry;
    const std::uint32_t slot = free_;
    Call& c = calls_[slot];
    free_ = c.next_free;
    const std::uint32_t gen = next_generation_++;
    c = Call{};
    c.generation = gen;
    ++active_;
    used_slots_ = std::max(used_slots_, slot + 1);
    return slot;
  }
  void release(std::uint32_t slot) {
    Call& c = calls_[slot];
    if (c.state == CallState::idle) return;
    index_erase(slot);
    wheel_.cancel(slot);
    c.state = CallState::idle;
    c.next_free = free_;
    free_ = slot;
    --active_;
  }
  void arm(std::uint32_t slot, std::uint64_t due) { wheel_.schedule(slot, due); }

  // ---- trust and numbers ----
  // Whether a request comes from a provider (a registrar's address) rather than the core: the
  // registrar's address and port, or its address alone when neither a session target nor the
  // trusted list names it (a provider's proxy may send from another port; when the core shares
  // the provider's address, as on one test host, the port tells them apart).
  bool is_registrar(const sockaddr_storage& src, std::uint8_t& slot) const {
    int by_ip = -1;
    for (int r = 0; r < reg::kRegistrarSlots; ++r) {
      const reg::SnapRegistrar& sr = snap().registrars[r];
      if (!sr.present || sr.addr_len == 0 || !same_ip(sr.addr, src)) continue;
      if (port_of(sr.addr) == port_of(src)) {
        slot = static_cast<std::uint8_t>(r);
        return true;
      }
      if (by_ip < 0) by_ip = r;
    }
    if (by_ip < 0 || listed_or_target(src)) return false;
    slot = static_cast<std::uint8_t>(by_ip);
    return true;
  }
  // A session target's address, or in the trusted list: the core's side.
  bool listed_or_target(const sockaddr_storage& src) const {
    for (const reg::SnapDialPeer& dp : snap().calls.dial_peers) {
      if (dp.target == reg::SnapDialPeer::Target::address && dp.addr_len != 0 && same_ip(dp.addr, src)) return true;
    }
    if (src.ss_family == AF_INET) {
      const std::uint32_t a = ntohl(reinterpret_cast<const sockaddr_in&>(src).sin_addr.s_addr);
      for (const reg::TrustedNet& t : snap().calls.trusted) {
        const std::uint32_t mask = t.length == 0 ? 0 : ~std::uint32_t{0} << (32 - t.length);
        if ((a & mask) == (t.address & mask)) return true;
      }
    }
    return false;
  }
  bool trusted_ip(const sockaddr_storage& src) const {
    for (const reg::SnapRegistrar& r : snap().registrars) {
      if (r.present && r.addr_len != 0 && same_ip(r.addr, src)) return true;
    }
    return false;
  }
  // Trusted sources (the IOS toll-fraud list): the registrars, the session targets and the
  // `ip address trusted list`, by address.
  bool trusted(const sockaddr_storage& src) const { return trusted_ip(src) || listed_or_target(src); }
  // The user part of a name-addr header's URI, or of the Request-URI.
  static std::string_view user_of(std::string_view uri) { return sip::uri_user(uri); }

  // ---- building a call's attempt ----
  // The local address facing the current target.
  std::string_view local_ip(const Call& c) const {
    const Target& t = c.hunt[c.hunt_pos];
    if (t.registrar != kNoRegistrar) return snap().registrars[t.registrar].local_ip;
    return snap().calls.dial_peers[t.dial_peer].local_ip;
  }
  // Writes "ip:port" of this worker facing the current target into `out` (64 bytes).
  std::string_view hostport(const Call& c, char* out) const {
    const std::string_view ip = local_ip(c);
    sip::Writer w(out, 64);
    w.put(ip);
    w.put(":");
    w.put_u32(opts_.via_port);
    return w.ok() ? w.written() : std::string_view();
  }

  // Builds the current attempt's INVITE (from the copy of the caller's) into `out`; 0 on error.
  std::size_t build_attempt(std::uint32_t slot, char* out) {
    Call& c = calls_[slot];
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    if (sip::parse(c.copy_view(), m, hs) != sip::ParseStatus::ok) return 0;
    const Target& t = c.hunt[c.hunt_pos];
    const reg::SnapDialPeer& dp = snap().calls.dial_peers[t.dial_peer];
    char ruri[256], via[192], rr[96], hp[64], branch[kBranchLength];
    const std::string_view me = hostport(c, hp);
    if (me.empty()) return 0;
    make_branch(slot, c.attempt_seq, branch);
    sip::Writer u(ruri, sizeof ruri);
    u.put("sip:");
    u.put(c.called_view());
    u.put("@");
    if (t.registrar != kNoRegistrar) {
      const std::string_view request_uri = snap().registrars[t.registrar].request_uri;  // "sip:domain[:port]"
      u.put(request_uri.substr(request_uri.find(':') + 1));
    } else {
      u.put(dp.target_host);
    }
    sip::Writer v(via, sizeof via);
    v.put("SIP/2.0/UDP ");
    v.put(me);
    v.put(";branch=");
    v.put({branch, sizeof branch});
    v.put(";rport");
    sip::Writer r(rr, sizeof rr);
    r.put("<sip:");
    r.put(me);
    r.put(";lr>");
    if (!u.ok() || !v.ok() || !r.ok()) return 0;
    sip::Forward f;
    f.request_uri = u.written();
    f.via = v.written();
    f.record_route = r.written();
    f.decrement_max_forwards = true;
    f.cseq_delta = c.attempt_offset;
    f.drop_credentials = true;  // the caller's credentials never go on (F7)
    f.add_headers = {c.auth_line, c.auth_len};
    if (c.dir == CallDirection::outbound) {
      // F6: the From host of outgoing INVITEs.
      f.from_host = !dp.from_host.empty() ? std::string_view(dp.from_host)
                    : !snap().calls.ua_from_host.empty() ? std::string_view(snap().calls.ua_from_host)
                                                          : local_ip(c);
    }
    return sip::forward(m, out, sip::kMaxBuilt, f);
  }

  void target_address(const Call& c, sockaddr_storage& dst, socklen_t& len) const {
    const Target& t = c.hunt[c.hunt_pos];
    if (t.registrar != kNoRegistrar) {
      dst = snap().registrars[t.registrar].addr;
      len = snap().registrars[t.registrar].addr_len;
    } else {
      dst = snap().calls.dial_peers[t.dial_peer].addr;
      len = snap().calls.dial_peers[t.dial_peer].addr_len;
    }
  }

  // Sends the current attempt (first time or a retransmission).
  bool send_attempt(std::uint32_t slot) {
    Call& c = calls_[slot];
    char* buf = scratch();
    const std::size_t n = build_attempt(slot, buf);
    if (n == 0) {
      cc().build_errors.inc();
      return false;
    }
    send(buf, n, c.downstream, c.downstream_len);
    return true;
  }

  // Starts the attempt at hunt_pos: a new branch, no credentials yet.
  bool start_attempt(std::uint32_t slot, std::uint64_t now) {
    Call& c = calls_[slot];
    const Target& t = c.hunt[c.hunt_pos];
    c.registrar = t.registrar != kNoRegistrar ? t.registrar : c.registrar;
    c.dial_peer_tag = snap().calls.dial_peers[t.dial_peer].tag;
    target_address(c, c.downstream, c.downstream_len);
    c.attempt_seq = static_cast<std::uint16_t>((c.attempt_seq + 1) & kSeqMask);
    c.attempt_offset = 0;
    c.rounds = 0;
    c.auth_len = 0;
    c.nonce = 0;
    c.answered_realm = 0;
    c.stale_answered = false;
    c.provisional = false;
    c.state = CallState::calling;
    c.attempt_ms = now;
    c.retransmit_ms = kT1Ms;
    if (t.registrar != kNoRegistrar) cc().via_registrar[t.registrar].inc();
    cc().dial_peers.of(c.dial_peer_tag).attempts.inc();
    if (!send_attempt(slot)) return false;
    arm(slot, now + c.retransmit_ms);
    return true;
  }

  // The current attempt failed with `code` (0: no response); hunts on or gives up.
  void attempt_failed(std::uint32_t slot, std::uint16_t code, const sip::Message* response, std::uint64_t now) {
    Call& c = calls_[slot];
    if (code != 0 && (c.best_code == 0 || code < c.best_code)) c.best_code = code;
    const bool hunt = !c.cancelled && (code == 0 || code == 408 || (code >= 500 && code < 600));
    const reg::SnapDialPeer& dp = snap().calls.dial_peers[c.hunt[c.hunt_pos].dial_peer];
    if (hunt && !(dp.huntstop && next_is_other_dial_peer(c))) {
      while (c.hunt_pos + 1 < c.hunt_count) {
        ++c.hunt_pos;
        if (blocked(c.hunt[c.hunt_pos], now)) continue;
        cc().hunted.inc();
        if (start_attempt(slot, now)) return;
      }
    }
    // Nothing left: the caller gets the downstream's final response, or ours.
    if (response != nullptr) {
      forward_final(slot, *response);
    } else {
      fail_locally(slot, c.cancelled ? 487 : (c.best_code ? c.best_code : 408), now);
    }
    finish(slot, now);
  }
  bool next_is_other_dial_peer(const Call& c) const {
    return c.hunt_pos + 1 < c.hunt_count && c.hunt[c.hunt_pos + 1].dial_peer != c.hunt[c.hunt_pos].dial_peer;
  }
  bool blocked(const Target& t, std::uint64_t now) const {
    return t.registrar != kNoRegistrar && blocked_until_[t.registrar] > now;
  }

  // A final non-2xx for the caller, from the downstream's response (our Via off, CSeq back to
  // the caller's); kept to answer retransmitted INVITEs.
  void forward_final(std::uint32_t slot, const sip::Message& m) {
    Call& c = calls_[slot];
    sip::Forward f;
    f.pop_via = true;
    f.cseq_delta = -static_cast<std::int64_t>(c.attempt_offset);
    // A challenge we could not answer goes back as it came: the caller may know what to do.
    const std::size_t n = sip::forward(m, c.copy, kCopy, f);
    if (n == 0) {
      cc().build_errors.inc();
      c.copy_len = 0;
      return;
    }
    c.copy_len = static_cast<std::uint16_t>(n);
    send(c.copy, c.copy_len, c.upstream, c.upstream_len);
  }
  void fail_locally(std::uint32_t slot, std::uint16_t code, std::uint64_t now) {
    Call& c = calls_[slot];
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    if (sip::parse(c.copy_view(), m, hs) != sip::ParseStatus::ok) {
      c.copy_len = 0;
      return;
    }
    char tag[12];
    sip::put_hex(prng_.next(), 12, tag);
    const std::string_view reason = code == 487   ? "Request Terminated"
                                    : code == 408 ? "Request Timeout"
                                    : code == 503 ? "Service Unavailable"
                                                  : "Server Internal Error";
    char* buf = scratch();
    const std::size_t n = sip::build_response(m, code, reason, {tag, sizeof tag}, {}, buf, sip::kMaxBuilt);
    if (n == 0 || n > kCopy) {
      c.copy_len = 0;
      return;
    }
    std::memcpy(c.copy, buf, n);
    c.copy_len = static_cast<std::uint16_t>(n);
    send(c.copy, c.copy_len, c.upstream, c.upstream_len);
  }
  // The call ended before a dialog: absorb retransmissions (the caller's INVITE and ACK) a
  // while, then free the slot.
  void finish(std::uint32_t slot, std::uint64_t now) {
    Call& c = calls_[slot];
    if (c.cancelled) {
      cc().cancelled.inc();
    } else {
      cc().failed.inc();
      if (c.dial_peer_tag != 0) cc().dial_peers.of(c.dial_peer_tag).failed.inc();
    }
    c.state = CallState::completed;
    arm(slot, now + kLingerMs);
  }

  // ---- hop-by-hop requests we make ourselves ----
  // ACK for a non-2xx final response to the current attempt.
  void ack_attempt(std::uint32_t slot, const sip::Message& response) {
    in_attempt(slot, [&](const sip::Message& invite, char* out) { return sip::build_ack(invite, response, out, sip::kMaxBuilt); });
  }
  void cancel_attempt(std::uint32_t slot) {
    in_attempt(slot, [](const sip::Message& invite, char* out) { return sip::build_cancel(invite, out, sip::kMaxBuilt); });
  }
  // Sends to the current attempt's target what `build(invite, out)` makes from the INVITE as it
  // went out (rebuilt: the relay keeps the caller's, not its own).
  template <class Build>
  void in_attempt(std::uint32_t slot, Build&& build) {
    Call& c = calls_[slot];
    char* invite = scratch();
    const std::size_t n = build_attempt(slot, invite);
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    char* buf = scratch();
    const std::size_t out =
        n != 0 && sip::parse({invite, n}, m, hs) == sip::ParseStatus::ok ? build(m, buf) : std::size_t{0};
    if (out == 0) {
      cc().build_errors.inc();
      return;
    }
    send(buf, out, c.downstream, c.downstream_len);
  }

  // ---- challenges ----
  // The answer to a provider's challenge for the call's endpoint, as an Authorization line
  // into `out`. False when none may be given (counted).
  bool answer_challenge(Call& c, const sip::Message& m, std::string_view method, std::string_view uri,
                        std::string_view body, char* out, std::size_t cap, std::uint16_t& len) {
    cc().challenged.inc();
    if (c.endpoint == kNoEntry) {
      cc().no_credential.inc();
      return false;
    }
    const std::uint32_t pinned =
        c.registrar != kNoRegistrar ? snap().registrars[c.registrar].auth_realm : kNoRealm;
    const reg::ChallengeChoice ch = reg::choose_challenge(snap(), c.endpoint, pinned, m);
    if (!ch.have) {
      cc().no_credential.inc();
      return false;
    }
    const std::uint64_t tag = reg::nonce_tag(ch.challenge.nonce);
    // F7, as for REGISTER: a realm is answered once per request. Challenged for it again right
    // after the request carried its credentials — fresh nonce or the same — the provider refused
    // them: more answers would only add wrong digests against the account. A stale=true
    // challenge (RFC 7616 §3.3: the digest was right, the nonce old) is answered once more.
    const std::uint64_t realm = fnv(ch.challenge.realm) | 1;
    const bool again = c.nonce != 0 && (realm == c.answered_realm || tag == c.nonce);
    if ((again && (!ch.challenge.stale || c.stale_answered)) || ++c.rounds > kMaxRounds) {
      cc().auth_failed.inc();
      return false;
    }
    if (again) c.stale_answered = true;
    c.answered_realm = realm;
    c.nonce = tag;
    // A nonce answered before in this call (a provider may challenge the BYE with the INVITE's
    // nonce) is answered with the next nonce count (RFC 7616 §3.4.5: a server may refuse a
    // repeated count as a replay).
    c.nc = tag == c.nc_nonce ? c.nc + 1 : 1;
    c.nc_nonce = tag;
    reg::DigestAnswer a;
    reg::answer_digest(hasher_, cnonces_, ch.params(m.status == 407), snap().username(*ch.choice.cred), ch.choice.ha1,
                       c.nc, method, uri, body, a);
    sip::Writer w(out, cap);
    sip::put_authorization(w, a.fields);
    if (!w.ok()) {
      cc().build_errors.inc();
      return false;
    }
    len = static_cast<std::uint16_t>(w.written().size());
    cc().authenticated.inc();
    return true;
  }

  // ---- requests ----
  void on_request(const sip::Message& m, const sockaddr_storage& src, socklen_t src_len, std::uint64_t now) {
    const bool ack = m.method == "ACK";
    if (!trusted(src)) {
      cc().untrusted.inc();
      if (!ack) respond(m, 403, "Forbidden", {}, src, src_len);
      return;
    }
    if (!ack) {
      const sip::Header* mf = m.first(sip::HeaderId::max_forwards);
      std::uint32_t n = 70;
      if (mf != nullptr && sip::parse_delta_seconds(mf->value, n) && n == 0 && m.method != "OPTIONS") {
        cc().too_many_hops.inc();
        respond(m, 483, "Too Many Hops", {}, src, src_len);
        return;
      }
    }
    const std::string_view to_tag = sip::tag_of(value_of(m, sip::HeaderId::to));
    if (m.method == "CANCEL") return on_cancel(m, src, src_len, now);
    if (!to_tag.empty() || ack) return on_in_dialog(m, src, src_len, now);
    if (m.method == "OPTIONS") {
      cc().options_answered.inc();
      respond(m, 200, "OK", kAllow, src, src_len);
      return;
    }
    if (m.method == "INVITE") return on_invite(m, src, src_len, now);
    cc().not_allowed.inc();
    respond(m, 405, "Method Not Allowed", kAllow, src, src_len);
  }

  void on_invite(const sip::Message& m, const sockaddr_storage& src, socklen_t src_len, std::uint64_t now) {
    const std::string_view call_id = value_of(m, sip::HeaderId::call_id);
    const std::string_view from_tag = sip::tag_of(value_of(m, sip::HeaderId::from));
    if (call_id.empty() || call_id.size() > kMaxCallId || from_tag.size() > kMaxTag) {
      cc().build_errors.inc();
      respond(m, 400, "Bad Request", {}, src, src_len);
      return;
    }
    if (const std::uint32_t existing = find(call_id); existing != kNoEntry) {
      // A retransmission (or a second INVITE of a known call before its dialog): answer as we
      // did; 100 while we work on it, the final response once it is known.
      Call& c = calls_[existing];
      if (c.state == CallState::completed && c.copy_len != 0) {
        send(c.copy, c.copy_len, src, src_len);
      } else if (c.state == CallState::trying || c.state == CallState::calling || c.state == CallState::proceeding) {
        respond(m, 100, "Trying", {}, src, src_len);
      }
      return;
    }
    const std::string_view called = user_of(m.request_uri);
    const std::string_view calling = user_of(sip::header_uri(value_of(m, sip::HeaderId::from)));
    if (called.empty() || called.size() > kMaxNumber || calling.size() > kMaxNumber) {
      cc().not_found.inc();
      respond(m, 404, "Not Found", {}, src, src_len);
      return;
    }
    const std::size_t raw = static_cast<std::size_t>(m.consumed);
    if (raw > kCopy) {
      cc().too_large.inc();
      respond(m, 513, "Message Too Large", {}, src, src_len);
      return;
    }
    std::uint8_t from_registrar = kNoRegistrar;
    const CallDirection dir = is_registrar(src, from_registrar) ? CallDirection::inbound : CallDirection::outbound;
    // The hunt list: the dial peers in IOS order and, for `session target registrar`, the
    // registrars holding a live binding for the calling number, in index order.
    Target hunt[kMaxHunt];
    std::uint8_t hunt_count = 0;
    std::uint32_t endpoint = kNoEntry;
    bool matched = false;
    const reg::SnapCalls& calls = snap().calls;
    std::uint32_t ids[kMaxHunt];
    if (dir == CallDirection::outbound) {
      endpoint = snap().find_endpoint(calling);
      std::size_t n = 0;
      if (calls.outbound) n = calls.outbound->match(called, *calls.outbound_scratch[opts_.worker], ids, kMaxHunt);
      matched = n > 0;
      for (std::size_t i = 0; i < n && hunt_count < kMaxHunt; ++i) {
        const reg::SnapDialPeer& dp = calls.dial_peers[ids[i]];
        if (dp.target == reg::SnapDialPeer::Target::registrar) {
          add_registrars(ids[i], endpoint, now, hunt, hunt_count);
        } else if (dp.target == reg::SnapDialPeer::Target::address && dp.addr_len != 0) {
          hunt[hunt_count++] = Target{ids[i], kNoRegistrar};
        }
        if (dp.huntstop) break;
      }
    } else {
      endpoint = snap().find_endpoint(called);
      if (endpoint == kNoEntry) {
        cc().not_found.inc();
        respond(m, 404, "Not Found", {}, src, src_len);
        return;
      }
      std::size_t n = 0;
      if (calls.inbound) n = calls.inbound->match(called, *calls.inbound_scratch[opts_.worker], ids, kMaxHunt);
      if (n == 0 && calls.outbound) {
        n = calls.outbound->match(called, *calls.outbound_scratch[opts_.worker], ids, kMaxHunt);
      }
      matched = n > 0;
      for (std::size_t i = 0; i < n && hunt_count < kMaxHunt; ++i) {
        const reg::SnapDialPeer& dp = calls.dial_peers[ids[i]];
        if (dp.target == reg::SnapDialPeer::Target::address && dp.addr_len != 0) hunt[hunt_count++] = Target{ids[i], kNoRegistrar};
        if (dp.huntstop) break;
      }
    }
    if (hunt_count == 0) {
      if (matched) {
        cc().failed.inc();
        respond(m, 503, "Service Unavailable", {}, src, src_len);  // no target with a live binding
      } else {
        cc().not_found.inc();
        respond(m, 404, "Not Found", {}, src, src_len);
      }
      return;
    }
    const std::uint32_t slot = acquire();
    if (slot == kNoEntry) {
      cc().table_full.inc();
      respond(m, 503, "Service Unavailable", "Retry-After: 5\r\n", src, src_len);
      return;
    }
    Call& c = calls_[slot];
    c.dir = dir;
    c.state = CallState::trying;
    c.endpoint = endpoint;
    c.registrar = from_registrar;
    c.started_ms = c.last_activity_ms = now;
    c.upstream = src;
    c.upstream_len = src_len;
    if (dir == CallDirection::outbound) {
      c.core = src;
      c.core_len = src_len;
    } else {
      c.provider = src;
      c.provider_len = src_len;
    }
    copy_into(c.call_id, c.call_id_len, call_id);
    copy_into(c.caller_tag, c.caller_tag_len, from_tag);
    copy_into(c.calling, c.calling_len, calling);
    copy_into(c.called, c.called_len, called);
    std::memcpy(c.copy, m.text.data(), raw);
    c.copy_len = static_cast<std::uint16_t>(raw);
    std::copy(hunt, hunt + hunt_count, c.hunt);
    c.hunt_count = hunt_count;
    c.hunt_pos = 0;
    index_insert(slot);
    (dir == CallDirection::outbound ? cc().calls_out : cc().calls_in).inc();
    respond(m, 100, "Trying", {}, src, src_len);
    while (blocked(c.hunt[c.hunt_pos], now) && c.hunt_pos + 1 < c.hunt_count) ++c.hunt_pos;
    if (!start_attempt(slot, now)) attempt_failed(slot, 500, nullptr, now);
  }

  void add_registrars(std::uint32_t dp, std::uint32_t endpoint, std::uint64_t now, Target* hunt,
                      std::uint8_t& count) const {
    if (endpoint == kNoEntry) return;
    // In index order (slot = index - 1), those with a live binding for the number.
    for (std::uint8_t r = 0; r < reg::kRegistrarSlots && count < kMaxHunt; ++r) {
      const reg::SnapRegistrar& sr = snap().registrars[r];
      if (!sr.present || sr.addr_len == 0) continue;
      if (!live_binding(endpoint, r, now)) continue;
      hunt[count++] = Target{dp, r};
    }
  }
  bool live_binding(std::uint32_t endpoint, std::uint8_t registrar, std::uint64_t now) const {
    const std::vector<reg::PlanEntry>& plan = snap().plans[opts_.worker];
    for (std::uint32_t slot = snap().endpoints[endpoint].first_slot; slot != kNoEntry; slot = plan[slot].next_slot) {
      if (plan[slot].registrar == registrar && !plan[slot].leaving) return liveness_.registered(liveness_.ctx, slot, now);
    }
    return false;
  }

  void on_cancel(const sip::Message& m, const sockaddr_storage& src, socklen_t src_len, std::uint64_t now) {
    const std::uint32_t slot = find(value_of(m, sip::HeaderId::call_id));
    if (slot == kNoEntry) {
      cc().no_dialog.inc();
      respond(m, 481, "Call/Transaction Does Not Exist", {}, src, src_len);
      return;
    }
    Call& c = calls_[slot];
    respond(m, 200, "OK", {}, src, src_len);
    if (c.cancelled || !(c.state == CallState::trying || c.state == CallState::calling ||
                         c.state == CallState::proceeding)) {
      return;
    }
    c.cancelled = true;
    if (c.provisional) {
      cancel_attempt(slot);  // the 487 comes back and goes on to the caller
    } else {
      c.cancel_pending = true;  // a CANCEL may only follow a provisional response (§9.1)
    }
  }

  // ---- in-dialog requests (and ACKs) ----
  void on_in_dialog(const sip::Message& m, const sockaddr_storage& src, socklen_t src_len, std::uint64_t now) {
    const bool ack = m.method == "ACK";
    const std::uint32_t slot = find(value_of(m, sip::HeaderId::call_id));
    if (slot == kNoEntry) {
      if (!ack) {
        cc().no_dialog.inc();
        respond(m, 481, "Call/Transaction Does Not Exist", {}, src, src_len);
      }
      return;
    }
    Call& c = calls_[slot];
    if (c.state == CallState::completed || c.state == CallState::trying || c.state == CallState::calling ||
        c.state == CallState::proceeding) {
      if (ack) {
        // The caller's ACK for our final non-2xx: the transaction is over.
        if (c.state == CallState::completed) release(slot);
        return;
      }
      // A BYE again after the dialog ended: the caller missed the BYE's final response
      // (RFC 3261 §17.2.2: it retransmits until one arrives). It goes along the dialog once more
      // so the far end's transaction answers it; anything else in a finished call is 481.
      if (c.state == CallState::completed && !(c.ended_by_bye && m.method == "BYE")) {
        respond(m, 481, "Call/Transaction Does Not Exist", {}, src, src_len);
        return;
      }
    }
    c.last_activity_ms = now;
    const bool from_caller = sip::tag_of(value_of(m, sip::HeaderId::from)) == c.caller_tag_view();
    const bool from_core = from_caller == (c.dir == CallDirection::outbound);
    const bool to_provider = from_core;
    const std::string_view in_branch = sip::top_via_branch(m);
    // A retransmission of a request we already re-sent with credentials goes as that one.
    if (to_provider && c.pending_valid && c.pending_answered && !ack &&
        in_branch == std::string_view(c.pending_branch, c.pending_branch_len)) {
      send_pending(slot, now);
      return;
    }
    std::uint16_t seq = static_cast<std::uint16_t>(kSeqInDialog | (to_provider ? kSeqToProvider : 0) |
                                                   (fnv(in_branch) & kSeqMask));
    sockaddr_storage next;
    socklen_t next_len = 0;
    char* buf = scratch();
    const std::size_t n = relay_in_dialog(slot, m, seq, to_provider, 0, {}, buf, next, next_len);
    if (n == 0) {
      cc().build_errors.inc();
      if (!ack) respond(m, 500, "Server Internal Error", {}, src, src_len);
      return;
    }
    if (from_core) {
      c.core = src;
      c.core_len = src_len;
    } else {
      c.provider = src;
      c.provider_len = src_len;
    }
    send(buf, n, next, next_len);
    if (m.method == "BYE" && c.state == CallState::confirmed) c.state = CallState::terminating;
    // Towards the provider a request may be challenged: keep it to answer then.
    if (to_provider && !ack) {
      const std::size_t raw = m.consumed;
      if (raw <= kCopy) {
        std::memcpy(c.copy, m.text.data(), raw);
        c.copy_len = static_cast<std::uint16_t>(raw);
        c.pending_valid = copy_into(c.pending_branch, c.pending_branch_len, in_branch);
        c.pending_seq = seq;
        c.pending_answered = false;
        c.auth_len = 0;
        c.nonce = 0;  // a challenge of this request with an earlier request's nonce is answered
        c.answered_realm = 0;
        c.stale_answered = false;
        c.rounds = 0;
      } else {
        c.pending_valid = false;
      }
    }
  }

  // Relays an in-dialog request along its route: our Route entries off, our Via on, the
  // dialog's CSeq offset towards the provider (+ `extra_offset`), credentials in `auth`.
  // Returns the length written to `out`, and where it goes.
  std::size_t relay_in_dialog(std::uint32_t slot, const sip::Message& m, std::uint16_t seq, bool to_provider,
                              std::uint32_t extra_offset, std::string_view auth, char* out, sockaddr_storage& next,
                              socklen_t& next_len) {
    Call& c = calls_[slot];
    char via[192], hp[64], branch[kBranchLength];
    const std::string_view ip = !to_provider || c.registrar == kNoRegistrar ? std::string_view(local_ip_default(c))
                                                                            : snap().registrars[c.registrar].local_ip;
    sip::Writer h(hp, sizeof hp);
    h.put(ip);
    h.put(":");
    h.put_u32(opts_.via_port);
    make_branch(slot, seq, branch);
    sip::Writer v(via, sizeof via);
    v.put("SIP/2.0/UDP ");
    v.put(h.written());
    v.put(";branch=");
    v.put({branch, sizeof branch});
    v.put(";rport");
    if (!h.ok() || !v.ok()) return 0;
    // The next hop: the first Route that is not ours, else the Request-URI (loose routing,
    // RFC 3261 §16.12); a name we cannot resolve here falls back to the party on that side.
    int ours = 0;
    std::string_view next_uri = m.request_uri;
    for (std::uint16_t i = 0; i < m.header_count && next_uri == m.request_uri; ++i) {
      if (m.headers[i].id != sip::HeaderId::route) continue;
      std::size_t pos = 0;
      std::string_view el;
      while (sip::next_list_element(m.headers[i].value, pos, el)) {
        const std::string_view uri = sip::header_uri(el);
        if (is_ours(uri)) {
          ++ours;
          continue;
        }
        next_uri = uri;
        break;
      }
    }
    if (!literal_hostport(sip::uri_hostport(next_uri), 5060, next, next_len)) {
      next = to_provider ? c.provider : c.core;
      next_len = to_provider ? c.provider_len : c.core_len;
    }
    sip::Forward f;
    f.via = v.written();
    f.pop_route = ours > 0;
    f.decrement_max_forwards = m.method != "ACK";
    f.cseq_delta = to_provider ? std::int64_t{dialog_offset(c)} + extra_offset : 0;
    f.drop_credentials = to_provider;  // the core's credentials never go to a provider (F7)
    f.add_headers = auth;
    return sip::forward(m, out, sip::kMaxBuilt, f);
  }
  // The CSeq offset of requests towards the provider: the dialog's, or while the call is still
  // being set up (PRACK, UPDATE in an early dialog) the current attempt's; after its BYE (a
  // retransmission of that BYE) still the dialog's.
  static std::uint32_t dialog_offset(const Call& c) {
    if (c.state == CallState::confirmed || c.state == CallState::terminating || c.ended_by_bye) return c.cseq_offset;
    return c.dir == CallDirection::outbound ? c.attempt_offset : c.cseq_offset;
  }
  std::string_view local_ip_default(const Call& c) const {
    if (c.hunt_count != 0) return local_ip(c);
    return {};
  }
  // True when a Route URI names this worker (one of our local addresses and our port).
  bool is_ours(std::string_view uri) const { return worker_of_route(uri) == opts_.worker; }
  // The worker a Route URI names (one of our local addresses, a worker's port), or kNoEntry.
  std::uint32_t worker_of_route(std::string_view uri) const {
    const std::string_view hp = sip::uri_hostport(uri);
    sockaddr_storage a;
    socklen_t len;
    if (!literal_hostport(hp, 5060, a, len)) return kNoEntry;
    const std::uint16_t port = port_of(a);
    if (port < opts_.listen_port || std::uint32_t(port - opts_.listen_port) >= opts_.workers) return kNoEntry;
    const auto local = [&](std::string_view ip) {
      sockaddr_storage mine;
      socklen_t ml;
      return literal_hostport(ip, port, mine, ml) && same_ip(mine, a);
    };
    bool found = false;
    for (const reg::SnapRegistrar& r : snap().registrars) found = found || (r.present && local(r.local_ip));
    for (const reg::SnapDialPeer& dp : snap().calls.dial_peers) found = found || local(dp.local_ip);
    return found ? static_cast<std::uint32_t>(port - opts_.listen_port) : kNoEntry;
  }

  // Re-sends the pending in-dialog request with the credentials answered for it.
  void send_pending(std::uint32_t slot, std::uint64_t now) {
    Call& c = calls_[slot];
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    if (sip::parse(c.copy_view(), m, hs) != sip::ParseStatus::ok) return;
    sockaddr_storage next;
    socklen_t next_len = 0;
    char* buf = scratch();
    const std::size_t n = relay_in_dialog(slot, m, c.pending_seq, true, 0, {c.auth_line, c.auth_len}, buf, next, next_len);
    if (n == 0) {
      cc().build_errors.inc();
      return;
    }
    send(buf, n, next, next_len);
  }

  // ---- responses ----
  void on_response(const sip::Message& m, std::uint64_t now) {
    std::uint32_t slot;
    std::uint16_t seq;
    if (!parse_branch(sip::top_via_branch(m), slot, seq)) {
      cc().forged.inc();
      return;
    }
    Call& c = calls_[slot];
    sip::CSeq cs;
    if (!sip::parse_cseq(value_of(m, sip::HeaderId::cseq), cs)) {
      cc().forged.inc();
      return;
    }
    if (seq & kSeqInDialog) return on_in_dialog_response(slot, seq, m, cs, now);
    if (seq != c.attempt_seq) {
      cc().stray.inc();  // an earlier attempt's, or its CANCEL's
      return;
    }
    if (cs.method == "CANCEL") return;  // our CANCEL's 200: the INVITE's 487 follows
    if (cs.method != "INVITE") {
      cc().stray.inc();
      return;
    }
    if (m.status < 200) {
      if (c.state != CallState::calling && c.state != CallState::proceeding) return;
      const bool first = !c.provisional;
      c.provisional = true;
      if (c.state == CallState::calling) {
        c.state = CallState::proceeding;
        arm(slot, now + opts_.timer_c_ms);
      }
      if (first && c.cancel_pending) {
        c.cancel_pending = false;
        cancel_attempt(slot);
      }
      if (m.status > 100) forward_response(slot, m, c.attempt_offset);
      return;
    }
    if (m.status < 300) {
      // Answered. Retransmitted 2xx (until the caller's ACK reaches the callee) go on as well.
      if (c.state == CallState::calling || c.state == CallState::proceeding) {
        c.state = CallState::confirmed;
        c.cseq_offset = c.dir == CallDirection::outbound ? c.attempt_offset : 0;
        c.pending_valid = false;
        c.copy_len = 0;
        if (c.dir == CallDirection::outbound) {
          c.provider = c.downstream;
          c.provider_len = c.downstream_len;
        } else {
          c.core = c.downstream;
          c.core_len = c.downstream_len;
        }
        cc().answered.inc();
        cc().dial_peers.of(c.dial_peer_tag).answered.inc();
        // Per registrar: the calls sent to a provider through it (calls_placed counts those).
        if (c.registrar != kNoRegistrar && c.dir == CallDirection::outbound) {
          cc().answered_via_registrar[c.registrar].inc();
        }
        arm(slot, now + opts_.idle_ms);
      }
      if (c.state == CallState::confirmed || c.state == CallState::terminating) {
        forward_response(slot, m, c.attempt_offset);
      }
      return;
    }
    // A final non-2xx: only while the attempt is open (retransmissions get our ACK again).
    ack_attempt(slot, m);
    if (c.state != CallState::calling && c.state != CallState::proceeding) return;
    if ((m.status == 401 || m.status == 407) && c.dir == CallDirection::outbound && !c.cancelled) {
      char* invite = scratch();
      const std::size_t n = build_attempt(slot, invite);  // the request the challenge is for
      sip::Header hs[sip::kMaxHeaders];
      sip::Message sent;
      if (n != 0 && sip::parse({invite, n}, sent, hs) == sip::ParseStatus::ok &&
          answer_challenge(c, m, "INVITE", sent.request_uri, {}, c.auth_line, sizeof c.auth_line, c.auth_len)) {
        // A new client transaction with credentials: new branch, CSeq + 1 (RFC 3261 §22.2).
        const std::uint8_t rounds = c.rounds;
        const std::uint64_t nonce = c.nonce;
        const std::uint32_t offset = c.attempt_offset + 1;
        c.attempt_seq = static_cast<std::uint16_t>((c.attempt_seq + 1) & kSeqMask);
        c.attempt_offset = offset;
        c.rounds = rounds;
        c.nonce = nonce;
        c.provisional = false;
        c.state = CallState::calling;
        c.attempt_ms = now;
        c.retransmit_ms = kT1Ms;
        if (send_attempt(slot)) {
          arm(slot, now + c.retransmit_ms);
          return;
        }
      }
      attempt_failed(slot, m.status, &m, now);  // not answerable: no hunting on 4xx
      return;
    }
    if (m.status == 503 && c.hunt[c.hunt_pos].registrar != kNoRegistrar) {
      std::uint32_t after = 0;
      const sip::Header* ra = m.first(sip::HeaderId::retry_after);
      if (ra != nullptr && sip::parse_delta_seconds(ra->value, after) && after > 0) {
        after = std::min<std::uint32_t>(after, 3600);
        blocked_until_[c.hunt[c.hunt_pos].registrar] = now + std::uint64_t{after} * 1000;
      }
    }
    attempt_failed(slot, m.status, &m, now);
  }

  // A response for the caller: our Via off, the attempt's CSeq offset removed.
  void forward_response(std::uint32_t slot, const sip::Message& m, std::uint32_t offset) {
    Call& c = calls_[slot];
    sip::Forward f;
    f.pop_via = true;
    f.cseq_delta = -static_cast<std::int64_t>(offset);
    char* buf = scratch();
    const std::size_t n = sip::forward(m, buf, sip::kMaxBuilt, f);
    if (n == 0) {
      cc().build_errors.inc();
      return;
    }
    sockaddr_storage dst;
    socklen_t len;
    if (!via_destination(second_via(m), dst, len)) {
      dst = c.upstream;
      len = c.upstream_len;
    }
    send(buf, n, dst, len);
  }

  void on_in_dialog_response(std::uint32_t slot, std::uint16_t seq, const sip::Message& m, const sip::CSeq& cs,
                             std::uint64_t now) {
    Call& c = calls_[slot];
    const bool to_provider = (seq & kSeqToProvider) != 0;
    c.last_activity_ms = now;
    if (to_provider && (m.status == 401 || m.status == 407) && c.pending_valid && seq == c.pending_seq &&
        !c.pending_answered) {
      sip::Header hs[sip::kMaxHeaders];
      sip::Message req;
      if (sip::parse(c.copy_view(), req, hs) == sip::ParseStatus::ok && cs.method != "ACK") {
        if (cs.method == "INVITE") ack_in_dialog(slot, req, m);
        if (answer_challenge(c, m, req.method, req.request_uri, {}, c.auth_line, sizeof c.auth_line, c.auth_len)) {
          // The dialog's offset grows by one for this and every later request to the provider.
          if (c.state == CallState::confirmed || c.state == CallState::terminating ||
              c.dir == CallDirection::inbound) {
            ++c.cseq_offset;
          } else {
            ++c.attempt_offset;  // early dialog: the INVITE's offset, which the dialog inherits
          }
          c.pending_answered = true;
          c.pending_seq = static_cast<std::uint16_t>(kSeqInDialog | kSeqToProvider | ((seq + 1) & kSeqMask));
          send_pending(slot, now);
          return;
        }
      }
    }
    const std::uint32_t offset = to_provider ? dialog_offset(c) : 0;
    forward_response(slot, m, offset);
    if (m.status >= 200 && cs.method == "BYE" && c.state != CallState::completed) {
      c.state = CallState::completed;
      c.ended_by_bye = true;
      // A BYE re-sent with credentials stays, so its retransmissions go as that one.
      if (!(c.pending_valid && c.pending_answered)) c.copy_len = 0;
      arm(slot, now + kByeLingerMs);  // once: retransmissions do not extend the linger
    }
  }
  void ack_in_dialog(std::uint32_t slot, const sip::Message& req, const sip::Message& response) {
    // The re-INVITE as it went out (our Via on top) is what the ACK answers.
    Call& c = calls_[slot];
    sockaddr_storage next;
    socklen_t next_len = 0;
    char* sent = scratch();
    const std::size_t n = relay_in_dialog(slot, req, c.pending_seq, true, 0, {c.auth_line, c.auth_len}, sent, next, next_len);
    sip::Header hs[sip::kMaxHeaders];
    sip::Message m;
    if (n == 0 || sip::parse({sent, n}, m, hs) != sip::ParseStatus::ok) return;
    char* buf = scratch();
    const std::size_t an = sip::build_ack(m, response, buf, sip::kMaxBuilt);
    if (an != 0) send(buf, an, next, next_len);
  }

  // ---- timers ----
  void on_timer(std::uint32_t slot, std::uint64_t now) {
    Call& c = calls_[slot];
    switch (c.state) {
      case CallState::calling: {
        if (now - c.attempt_ms >= 64ull * kT1Ms) {  // Timer B
          cc().timeouts.inc();
          attempt_failed(slot, 0, nullptr, now);
          return;
        }
        send_attempt(slot);  // Timer A
        c.retransmit_ms = std::min<std::uint32_t>(c.retransmit_ms * 2, kT2Ms);
        arm(slot, std::min<std::uint64_t>(now + c.retransmit_ms, c.attempt_ms + 64ull * kT1Ms));
        return;
      }
      case CallState::proceeding:  // Timer C: the callee never answered
        cc().timeouts.inc();
        cancel_attempt(slot);
        c.cancelled = false;
        fail_locally(slot, 408, now);
        finish(slot, now);
        return;
      case CallState::confirmed:
      case CallState::terminating:
        if (now - c.last_activity_ms >= opts_.idle_ms) {
          cc().idle_released.inc();
          release(slot);
        } else {
          arm(slot, c.last_activity_ms + opts_.idle_ms);
        }
        return;
      case CallState::completed:
        release(slot);
        return;
      default:
        return;
    }
  }
};

// ---------------------------------------------------------------------------------------------

Relay::Relay(const RelayOptions& opts, reg::TxQueue& tx, Liveness liveness)
    : impl_(std::make_unique<Impl>(*this, opts, tx, liveness)), counters_(std::make_unique<CallCounters>()) {}

Relay::~Relay() = default;

void Relay::adopt(const reg::SnapshotPin& pin, std::uint64_t now_ms) {
  Impl& m = *impl_;
  if (!m.clock_started_) {
    m.wheel_ = reg::TimerWheel(m.opts_.max_calls, now_ms);
    m.clock_started_ = true;
  }
  m.snap_ = pin.get();
}

std::uint32_t Relay::owner(const reg::SnapshotPin& pin, const sip::Message& m, const sockaddr_storage& src) const {
  const Impl& i = *impl_;
  const reg::Snapshot* s = pin.get();
  if (s == nullptr || i.opts_.workers <= 1) return i.opts_.worker;
  // In a dialog: the worker our Record-Route named.
  if (const sip::Header* route = m.first(sip::HeaderId::route)) {
    std::size_t pos = 0;
    std::string_view el;
    if (sip::next_list_element(route->value, pos, el)) {
      const std::uint32_t w = i.worker_of_route(sip::header_uri(el));
      if (w != kNoEntry) return w;
    }
  }
  // The requests of a call that reach the listen port without a Route: its INVITE, a CANCEL of
  // it, and the ACK of a final non-2xx answer (sent where the INVITE went).
  if (m.method != "INVITE" && m.method != "CANCEL" && m.method != "ACK") return i.opts_.worker;
  if (m.method == "INVITE" && !sip::tag_of(value_of(m, sip::HeaderId::to)).empty()) return i.opts_.worker;
  std::uint8_t r;
  const std::string_view number =
      i.is_registrar(src, r) ? sip::uri_user(m.request_uri)
                             : sip::uri_user(sip::header_uri(value_of(m, sip::HeaderId::from)));
  if (number.empty()) return i.opts_.worker;
  return reg::owner_of(number, i.opts_.workers);
}

void Relay::on_request(const reg::SnapshotPin& pin, const sip::Message& m, const sockaddr_storage& src,
                       socklen_t src_len, std::uint64_t now_ms) {
  Impl& i = *impl_;
  REGFRONT_DCHECK(pin.get() == i.snap_);
  if (i.snap_ == nullptr) return;
  i.on_request(m, src, src_len, now_ms);
}

void Relay::on_response(const reg::SnapshotPin& pin, const sip::Message& m, std::uint64_t now_ms) {
  Impl& i = *impl_;
  REGFRONT_DCHECK(pin.get() == i.snap_);
  if (i.snap_ == nullptr) return;
  i.on_response(m, now_ms);
}

void Relay::advance(const reg::SnapshotPin& pin, std::uint64_t now_ms) {
  Impl& i = *impl_;
  REGFRONT_DCHECK(pin.get() == i.snap_);
  if (i.snap_ == nullptr) return;
  i.wheel_.advance(now_ms, [&](std::uint32_t slot) { i.on_timer(slot, now_ms); });
}

std::uint64_t Relay::next_deadline_ms(const reg::SnapshotPin& pin) const {
  return impl_->wheel_.next_hint();
}

std::uint32_t Relay::slot_count() const { return impl_->used_slots_; }
std::uint32_t Relay::active_calls() const { return impl_->active_; }

std::size_t Relay::status(const reg::SnapshotPin& pin, std::uint32_t from, CallStatus* out, std::size_t max,
                          std::uint32_t& next, std::uint64_t now_ms) const {
  const Impl& i = *impl_;
  std::size_t n = 0;
  std::uint32_t slot = from;
  for (; slot < i.used_slots_ && n < max; ++slot) {
    const Impl::Call& c = i.calls_[slot];
    // A finished call only absorbs retransmissions while it lingers: not a call any more.
    if (c.state == CallState::idle || c.state == CallState::completed) continue;
    CallStatus& s = out[n++];
    s.direction = c.dir;
    s.state = c.state;
    s.registrar = c.registrar;
    s.dial_peer_tag = c.dial_peer_tag;
    s.cseq_offset = c.state == CallState::confirmed || c.state == CallState::terminating ? c.cseq_offset : c.attempt_offset;
    s.age_s = static_cast<std::int64_t>((now_ms - std::min(now_ms, c.started_ms)) / 1000);
    const auto put = [](char* dst, std::size_t cap, std::string_view v) {
      const std::size_t k = std::min(cap - 1, v.size());
      std::memcpy(dst, v.data(), k);
      dst[k] = '\0';
    };
    put(s.calling, sizeof s.calling, c.calling_view());
    put(s.called, sizeof s.called, c.called_view());
    put(s.call_id, sizeof s.call_id, c.call_id_view());
  }
  next = slot;
  return n;
}

}  // namespace regfront::call
