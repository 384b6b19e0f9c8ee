// regfront_loadgen — SIP registration traffic over a DPDK port (net_memif, net_ring, a NIC) for
// the load benchmark: packets per second per regfrontd worker for RX → parse → engine → TX.
//
//   role registrar (the generator facing regfrontd): answers every REGISTER — without an
//     Authorization header with 401 (fresh nonce), with one with 200 OK (Contact;expires=E) or,
//     in --mode stale, with 401 stale=true and a fresh nonce, which a client answers again at
//     once (RFC 7616 3.3): a closed loop per binding that runs as fast as both ends can go.
//   role uac (stands in for regfrontd when it is absent, and validates the registrar side):
//     N bindings, each looping REGISTER → 401 → REGISTER+Authorization → 200 → REGISTER …,
//     at most --window in flight, a lost request re-sent after 1 s.
//
// Both roles use regfront's NetStack (ARP, IPv4, UDP, checksums) on one port, one queue. Every
// second a line of rates is printed; at the end one JSON summary line (REGFRONT-LOADGEN {...})
// with packets, pps, responses by kind, NetStack drops and mempool use before and after.
//
//   regfront_loadgen [EAL args] -- --role registrar|uac --local IP --peer IP [--prefix N]
//                    [--port UDP] [--duration S] [--mode refresh|stale] [--expires S]
//                    [--bindings N] [--window N] [--min-rx N] [--dup N]
//                    [--realms R1,R2,…] [--user U] [--password-prefix P] [--per-user] [--verify-every N]
//                    [--expect N] [--linger S] [--queues N] [--hold]
// --realms (registrar): one registrar per realm, registrar i (0-based) on UDP port --port + i,
// each answering with its own realm. --verify-every N: every Nth authenticated REGISTER (1 = all)
// is checked like a registrar would: username = --user, realm = the registrar's, response =
// MD5(HA1:nonce:MD5(REGISTER:uri)) with HA1 = MD5(user:realm:P+realm) (regfront's auth::Hasher);
// a mismatch is answered 403 and counted. --per-user: any username U, password P+U (the rule of
// regfront-registrar-emu), for a config with one `credentials number` line per binding.
// Per registrar: REGISTERs by 10 ms of TSC (new = no Authorization and a Via branch not seen
// before; a table of 4 x --expect branches, at least 2^22), the peak over any sliding second,
// and the latency from a 401 leaving (TSC after rte_eth_tx_burst) to the REGISTER answering it
// arriving (TSC after rte_eth_rx_burst), matched by the nonce, which is the 401's sequence number.
// --expect N: the run ends --linger seconds after the Nth new authenticated REGISTER was
// answered 200 (the time from the first REGISTER to that 200 is reported).
// --dup N (registrar): every response is sent 1 + N times; the copies are duplicates the client
// must parse, match and drop, i.e. load on RX → parse → engine that the engine does not pace.
// role calls (the call-relay benchmark; regfrontd relays, the generator is everyone else): the
//   registrar of the first realm on --port (as role registrar), and on the same address the
//   provider's proxy (--port: INVITE without Proxy-Authorization → 407 with a fresh nonce, with
//   one → verified (--verify-every) then 200 OK with a Contact on --port + 1), the far end
//   (--port + 1: BYE → 200, ACK counted) and the SBC core (--port + 10): once --numbers bindings
//   registered (and --call-delay s later) it places --calls calls at --call-rate per second (at
//   most --window at once),
//   INVITE → (regfrontd answers the 407) → 200 → ACK along the Record-Route → after --hold-ms BYE
//   → 200; calling numbers 4000000000 + (i mod --numbers). The run ends --linger s after the last
//   call ended; the summary adds the calls' counts and INVITE → 200 setup times at the core.
// --hold: when the run ends, print the summary and stop polling, but keep the port up until
// SIGINT/SIGTERM (the harness stops the other side first; see the end of main).
// Exit status: 0, or 1 when fewer than --min-rx SIP messages were received (smoke tests).
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/auth/digest.h"
#include "regfront/net/stack.h"

namespace {

using regfront::net::Endpoint;
using regfront::net::IpAddr;
using regfront::net::NetConfig;
using regfront::net::NetStack;
using regfront::net::RxDatagram;
using regfront::net::SendResult;

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

struct Options {
  std::string role = "registrar";
  std::string local = "10.77.0.254";
  std::string peer = "10.77.0.1";
  int prefix = 24;
  std::uint16_t udp_port = 5060;
  double duration = 10;
  std::string mode = "refresh";
  int expires = 60;
  std::uint32_t bindings = 1000;
  std::uint32_t window = 256;
  std::uint64_t min_rx = 0;
  std::uint32_t dup = 0;  // registrar: send every response 1 + dup times
  std::vector<std::string> realms{"load.test"};
  std::string user = "load";
  std::string password_prefix = "pw-";
  bool per_user = false;           // --per-user: any username U, password P+U
  std::uint32_t verify_every = 0;  // 0: the response is not checked
  std::uint64_t expect = 0;        // end the run once this many bindings got their 200
  double linger = 0.5;
  std::uint16_t queues = 1;
  bool hold = false;  // after the run: summary, then idle (not polling) until SIGINT/SIGTERM
  // role calls
  std::uint32_t numbers = 100;     // registered numbers that place calls
  std::uint64_t calls = 10000;     // calls to place
  double call_rate = 1000;         // calls started per second
  double hold_ms = 0;              // ACK → BYE
  double call_delay = 0;           // seconds between the last registration and the first call
};

struct Stats {
  std::uint64_t rx = 0, tx = 0, tx_fail = 0;
  std::uint64_t registers = 0, with_auth = 0, sent_401 = 0, sent_200 = 0;  // registrar
  std::uint64_t got_401 = 0, got_200 = 0, resent = 0, other = 0;           // uac
  std::uint64_t repeated = 0;  // registrar: REGISTERs whose Via branch was seen before
  std::uint64_t seen_full = 0; // registrar: branches not remembered (table half full)
  std::uint64_t verified = 0, verify_failed = 0;
  // role calls: at the core, the provider and the far end
  std::uint64_t calls_started = 0, calls_answered = 0, calls_done = 0, calls_failed = 0, calls_timed_out = 0;
  std::uint64_t sent_407 = 0, invites_authed = 0, acks_far = 0, byes_far = 0;
};

// One emulated registrar (--realms): its realm, HA1 and per-10-ms REGISTER counts.
struct Registrar {
  std::string realm;
  regfront::auth::HexDigest ha1;
  std::uint64_t registers = 0, fresh = 0, with_auth = 0, sent_401 = 0, sent_200 = 0, bindings_done = 0;
  std::uint64_t first_tsc = 0, last_200_tsc = 0;
  std::vector<std::uint32_t> new_10ms, all_10ms;  // index: 10 ms since the run's first REGISTER
};

// ---- minimal SIP text helpers (the generator's side; regfront's parser is not used here) ----

struct Header {
  std::string_view name, value;
};

// A message's headers, up to kMaxHeaders (the rest are ignored): no allocation per message.
constexpr std::size_t kMaxHeaders = 48;
struct Headers {
  Header h[kMaxHeaders];
  std::size_t n = 0;
  const Header* begin() const { return h; }
  const Header* end() const { return h + n; }
  void push_back(const Header& x) {
    if (n < kMaxHeaders) h[n++] = x;
  }
};

// Splits the header section into lines; stops at the empty line.
void headers(std::string_view msg, std::string_view& first_line, Headers& out) {
  out.n = 0;
  std::size_t pos = msg.find("\r\n");
  first_line = msg.substr(0, pos);
  while (pos != std::string_view::npos) {
    pos += 2;
    const std::size_t end = msg.find("\r\n", pos);
    if (end == std::string_view::npos || end == pos) break;
    std::string_view line = msg.substr(pos, end - pos);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos) {
      std::string_view name = line.substr(0, colon);
      while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      out.push_back({name, value});
    }
    pos = end;
  }
}

bool is(std::string_view name, std::string_view full, char compact) {
  if (name.size() == 1) return (name[0] | 0x20) == compact;
  if (name.size() != full.size()) return false;
  for (std::size_t i = 0; i < name.size(); ++i)
    if ((name[i] | 0x20) != (full[i] | 0x20)) return false;
  return true;
}

std::string_view find(const Headers& hs, std::string_view full, char compact) {
  for (const auto& h : hs)
    if (is(h.name, full, compact)) return h.value;
  return {};
}

// Quoted parameter value from a challenge or credentials: nonce="..." → ... (the key must start
// the value or follow a space or comma, so nonce= does not match inside cnonce=).
std::string_view param(std::string_view v, std::string_view key) {
  std::size_t k = v.find(key);
  while (k != std::string_view::npos && k > 0 && v[k - 1] != ' ' && v[k - 1] != ',') k = v.find(key, k + 1);
  if (k == std::string_view::npos) return {};
  std::size_t s = k + key.size();
  if (s < v.size() && v[s] == '"') ++s;
  std::size_t e = s;
  while (e < v.size() && v[e] != '"' && v[e] != ',') ++e;
  return v.substr(s, e - s);
}

class Port {
 public:
  // `queues` queue pairs (a memif peer with N workers has N); the generator sends on queue 0
  // and polls them all.
  bool open(std::uint16_t port, std::uint16_t queues, rte_mempool* pool, std::string& err) {
    port_ = port;
    rte_eth_conf conf{};
    if (rte_eth_dev_configure(port, queues, queues, &conf) < 0) return fail(err, "configure");
    for (std::uint16_t q = 0; q < queues; ++q) {
      if (rte_eth_rx_queue_setup(port, q, 1024, rte_eth_dev_socket_id(port), nullptr, pool) < 0)
        return fail(err, "rx queue");
      if (rte_eth_tx_queue_setup(port, q, 1024, rte_eth_dev_socket_id(port), nullptr) < 0)
        return fail(err, "tx queue");
    }
    if (rte_eth_dev_start(port) < 0) return fail(err, "start");
    return true;
  }
  bool link_up() const {
    rte_eth_link link{};
    rte_eth_link_get_nowait(port_, &link);
    return link.link_status == RTE_ETH_LINK_UP;
  }
  std::uint16_t id() const { return port_; }

 private:
  static bool fail(std::string& err, const char* what) {
    err = std::string("port ") + what + " failed";
    return false;
  }
  std::uint16_t port_ = 0;
};

class Generator {
 public:
  Generator(const Options& o, NetStack& s) : o_(o), s_(s) {
    IpAddr::parse(o.peer.c_str(), peer_.addr);
    peer_.port = o.udp_port;
    hz_ = rte_get_tsc_hz();
    tick_10ms_ = std::max<std::uint64_t>(hz_ / 100, 1);
    for (const auto& realm : o.realms) {
      Registrar r;
      r.realm = realm;
      r.ha1 = regfront::auth::compute_ha1(o.user, realm, o.password_prefix + realm).hex(regfront::auth::Hash::md5);
      regs_.push_back(std::move(r));
    }
    sent_tsc_.assign(std::size_t(1) << 21, 0);
    sent_seq_.assign(std::size_t(1) << 21, 0);
    pending_.reserve(4096);
    out_.reserve(2048);
    if (o.role == "registrar" || o.role == "calls") {
      // Touched now, before the link is up: faulting in 32 MB at the first REGISTER stalled
      // the generator for tens of milliseconds, which showed up as regfrontd's tail latency.
      // Two branches per binding (the first REGISTER and the authenticated one), at most half
      // the slots used: 2^22 up to ~1M bindings, more for a larger --expect (2M bindings: 2^23).
      // Beyond half full a branch is no longer remembered (counted: branches_not_remembered).
      std::size_t slots = std::size_t(1) << 22;
      while (slots / 2 < 2 * o.expect + 4096) slots *= 2;
      seen_.assign(slots, 0);
      latency_.resize(std::max<std::uint64_t>(o.expect, 1u << 20));
      latency_.clear();
      for (auto& r : regs_) {
        r.new_10ms.assign(6000, 0);  // a minute of 10-ms slots
        r.all_10ms.assign(6000, 0);
      }
    }
    if (o.role == "uac") {
      state_.assign(o.bindings, {});
      cseq_.assign(o.bindings, 1);
    }
    if (o.role == "calls") {
      calls_.assign(o.calls, {});
      setup_ns_.reserve(o.calls);
      holds_.assign(std::max<std::uint32_t>(o.window, 1), {});
      o_expect_ = o.numbers;
    }
  }

  void on_datagram(const RxDatagram& d, std::uint64_t now) {
    ++st.rx;
    std::string_view msg(reinterpret_cast<const char*>(d.payload), d.len);
    if (o_.role == "registrar") {
      registrar(msg, d, now);
    } else if (o_.role == "calls") {
      calls_datagram(msg, d, now);
    } else {
      uac(msg, now);
    }
  }

  // UAC: starts bindings under the window and re-sends lost requests.
  void pump(std::uint64_t now) {
    if (o_.role == "calls") return pump_calls(now);
    if (o_.role != "uac") return;
    const std::uint64_t hz = rte_get_tsc_hz();
    while (inflight_ < o_.window && next_ < o_.bindings) {
      if (!send_register(next_, {}, now)) return;
      ++next_;
    }
    if (now - last_scan_ > hz / 10) {
      last_scan_ = now;
      for (std::uint32_t i = 0; i < next_; ++i) {
        if (state_[i].sent_at && now - state_[i].sent_at > hz) {
          ++st.resent;
          --inflight_;
          send_register(i, state_[i].nonce, now);
        }
      }
    }
  }

  Stats st;

 private:
  struct Binding {
    std::uint64_t sent_at = 0;  // 0 = nothing in flight
    std::string nonce;          // answer this nonce next
  };

  bool send(const Endpoint& to, const std::string& text, std::uint64_t now, std::uint16_t from = 0) {
    const SendResult r = s_.send_udp(from ? from : o_.udp_port, to, text.data(), text.size(), now);
    if (r == SendResult::sent || r == SendResult::queued) {
      ++st.tx;
      return true;
    }
    ++st.tx_fail;
    return false;
  }

  // FNV-1a of a Via branch: the set of branches seen holds 64-bit hashes (a collision would
  // count one new REGISTER as repeated: at most half the slots are used, negligible).
  static std::uint64_t hash(std::string_view s) {
    std::uint64_t h = 1469598103934665603ull;
    for (char c : s) h = (h ^ std::uint8_t(c)) * 1099511628211ull;
    return h | 1;  // 0 marks an empty slot
  }
  bool seen_before(std::string_view branch) {
    const std::uint64_t h = hash(branch);
    const std::size_t mask = seen_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      if (seen_[i] == h) return true;
      if (seen_[i] == 0) {
        if (++seen_used_ < seen_.size() / 2) {
          seen_[i] = h;
        } else {
          ++st.seen_full;  // full table: stop remembering (a later repeat is then not counted)
        }
        return false;
      }
    }
  }

  static void bump(std::vector<std::uint32_t>& v, std::size_t i) {
    if (i >= v.size()) v.resize(i + 1024, 0);
    ++v[i];
  }

  // Authorization check of a registrar: true when the response matches.
  bool verify(const Registrar& r, std::string_view cred, std::string_view method = "REGISTER") {
    const std::string_view user = param(cred, "username=");
    if ((!o_.per_user && user != o_.user) || param(cred, "realm=") != r.realm) return false;
    regfront::auth::HexDigest ha1 = r.ha1;
    if (o_.per_user) {  // the password of user U is P+U (one more MD5 per verified REGISTER)
      password_.assign(o_.password_prefix).append(user);
      ha1 = regfront::auth::compute_ha1(user, r.realm, password_, regfront::auth::kMd5Hash)
                .hex(regfront::auth::Hash::md5);
    }
    char expect[regfront::auth::kMaxHexLength];
    const std::size_t n = hasher_.response(regfront::auth::Algorithm::md5, ha1.view(), param(cred, "nonce="),
                                           {}, {}, regfront::auth::Qop::none, method, param(cred, "uri="), {},
                                           expect);
    return n != 0 && param(cred, "response=") == std::string_view(expect, n);
  }

  void registrar(std::string_view msg, const RxDatagram& d, std::uint64_t now) {
    if (!msg.starts_with("REGISTER ")) return;
    const std::size_t ri = std::size_t(std::uint16_t(d.dst.port - o_.udp_port));
    if (ri >= regs_.size()) return;
    Registrar& r = regs_[ri];
    ++st.registers;
    ++r.registers;
    if (first_tsc_ == 0) first_tsc_ = now;
    if (r.first_tsc == 0) r.first_tsc = now;
    const std::size_t slot = std::size_t((now - first_tsc_) / tick_10ms_);
    std::string_view first;
    headers(msg, first, hs_);
    const Headers& hs = hs_;
    // Retransmissions (and any frame delivered twice) repeat the top Via branch.
    bool repeated = false;
    const std::string_view via = find(hs, "Via", 'v');
    const std::size_t b = via.find("branch=");
    if (b != std::string_view::npos) {
      std::string_view br = via.substr(b + 7);
      br = br.substr(0, br.find_first_of(";, "));
      repeated = seen_before(br);
      if (repeated) ++st.repeated;
    }
    const std::string_view cred = find(hs, "Authorization", '\0');
    const bool auth = !cred.empty();
    bump(r.all_10ms, slot);
    if (!auth && !repeated) {
      ++r.fresh;
      bump(r.new_10ms, slot);
    }
    bool ok = auth && o_.mode != "stale";
    bool forbidden = false;
    if (auth) {
      ++st.with_auth;
      ++r.with_auth;
      // 401 → authenticated REGISTER latency: the nonce is the 401's sequence number.
      const std::string_view nonce = param(cred, "nonce=");
      std::uint64_t seq = 0;
      for (char c : nonce) seq = seq << 4 | std::uint64_t(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      std::uint64_t& sent = sent_tsc_[seq & (sent_tsc_.size() - 1)];
      if (sent != 0 && sent_seq_[seq & (sent_seq_.size() - 1)] == seq) {
        if (now > sent) {
          const auto ns = std::uint32_t(std::min<std::uint64_t>((now - sent) * 1000000000ull / hz_, UINT32_MAX));
          latency_.push_back(ns);
          window_max_ = std::max(window_max_, ns);
          if (ns > 1000000) ++window_over_1ms_;
        }
        sent = 0;
      }
      if (o_.verify_every != 0 && r.with_auth % o_.verify_every == 0) {
        if (verify(r, cred)) {
          ++st.verified;
        } else {
          ++st.verify_failed;
          forbidden = true;
          ok = false;
        }
      }
    }
    std::string& out = out_;
    out.clear();
    out += forbidden ? "SIP/2.0 403 Forbidden\r\n" : ok ? "SIP/2.0 200 OK\r\n" : "SIP/2.0 401 Unauthorized\r\n";
    for (const auto& h : hs)
      if (is(h.name, "Via", 'v')) out.append("Via: ").append(h.value).append("\r\n");
    out.append("From: ").append(find(hs, "From", 'f')).append("\r\n");
    const std::string_view to = find(hs, "To", 't');
    out.append("To: ").append(to);
    if (to.find(";tag=") == std::string_view::npos) out += ";tag=lg1";
    out.append("\r\nCall-ID: ").append(find(hs, "Call-ID", 'i'));
    out.append("\r\nCSeq: ").append(find(hs, "CSeq", '\0')).append("\r\n");
    std::uint64_t seq = 0;
    if (forbidden) {
      // counted above
    } else if (ok) {
      ++st.sent_200;
      ++r.sent_200;
      if (!repeated) {
        ++r.bindings_done;
        r.last_200_tsc = now;
        if (++bindings_done_ == o_.expect && o_.role == "registrar") done_tsc_ = now;
        if (bindings_done_ == o_expect_ && o_.role == "calls") calls_from_ = now;
      }
      const std::string_view contact = find(hs, "Contact", 'm');
      char e[16];
      const int el = std::snprintf(e, sizeof e, "%d", o_.expires);
      if (!contact.empty()) {
        const std::size_t gt = contact.find('>');
        out.append("Contact: ").append(contact.substr(0, gt == std::string_view::npos ? contact.size() : gt + 1));
        out.append(";expires=").append(e, std::size_t(el)).append("\r\n");
      }
      out.append("Expires: ").append(e, std::size_t(el)).append("\r\n");
    } else {
      ++st.sent_401;
      ++r.sent_401;
      seq = ++nonce_;
      char nonce[24];
      std::snprintf(nonce, sizeof nonce, "%016llx", static_cast<unsigned long long>(seq));
      out.append("WWW-Authenticate: Digest realm=\"").append(r.realm).append("\", nonce=\"").append(nonce);
      out += "\", algorithm=MD5";
      if (auth) out += ", stale=true";
      out += "\r\n";
    }
    out += "Server: regfront-loadgen\r\nContent-Length: 0\r\n\r\n";
    // Copies: the client parses and matches each one and drops it as a duplicate (`stray`):
    // traffic the engine does not pace, to load RX → parse → match at full rate.
    const std::uint16_t from = std::uint16_t(o_.udp_port + ri);
    for (std::uint32_t c = 0; c <= o_.dup; ++c) send(d.src, out, now, from);
    if (seq != 0) pending_.push_back(seq);
  }

 public:
  // Called right after rte_eth_tx_burst: the 401s built since the last call have left.
  void stamp(std::uint64_t tsc) {
    for (std::uint64_t seq : pending_) {
      sent_tsc_[seq & (sent_tsc_.size() - 1)] = tsc;
      sent_seq_[seq & (sent_seq_.size() - 1)] = seq;
    }
    pending_.clear();
  }
  bool done() const { return done_tsc_ != 0; }
  std::uint64_t done_tsc() const { return done_tsc_; }
  std::uint64_t first_tsc() const { return first_tsc_; }
  std::uint64_t bindings_done() const { return bindings_done_; }
  const std::vector<Registrar>& registrars() const { return regs_; }
  std::vector<std::uint32_t>& latencies() { return latency_; }
  std::uint64_t tick_10ms() const { return tick_10ms_; }
  // Largest latency and samples over 1 ms since the last call (the per-second line).
  std::pair<std::uint32_t, std::uint32_t> take_window() {
    const auto r = std::make_pair(window_max_, window_over_1ms_);
    window_max_ = window_over_1ms_ = 0;
    return r;
  }

 private:
  void uac(std::string_view msg, std::uint64_t now) {
    if (!msg.starts_with("SIP/2.0 ")) return;
    std::string_view first;
    headers(msg, first, hs_);
    const Headers& hs = hs_;
    const std::string_view callid = find(hs, "Call-ID", 'i');
    if (!callid.starts_with("lg-")) return;
    const std::uint32_t i = static_cast<std::uint32_t>(std::strtoul(std::string(callid.substr(3)).c_str(), nullptr, 10));
    if (i >= state_.size() || !state_[i].sent_at) return;
    --inflight_;
    state_[i].sent_at = 0;
    if (first.substr(8, 3) == "401") {
      ++st.got_401;
      state_[i].nonce = std::string(param(find(hs, "WWW-Authenticate", '\0'), "nonce="));
    } else if (first.substr(8, 3) == "200") {
      ++st.got_200;
      state_[i].nonce.clear();
    } else {
      ++st.other;
      state_[i].nonce.clear();
    }
    send_register(i, state_[i].nonce, now);
  }

  bool send_register(std::uint32_t i, const std::string& nonce, std::uint64_t now) {
    const std::string number = std::to_string(100000 + i);
    const std::string local = o_.local + ":" + std::to_string(o_.udp_port);
    const std::string reg = o_.peer + ":" + std::to_string(o_.udp_port);
    std::string m;
    m.reserve(768);
    m += "REGISTER sip:" + reg + " SIP/2.0\r\nVia: SIP/2.0/UDP " + local + ";branch=z9hG4bKlg" +
         std::to_string(i) + "x" + std::to_string(cseq_[i]) + ";rport\r\nMax-Forwards: 70\r\n";
    m += "From: <sip:" + number + "@" + o_.peer + ">;tag=lg" + std::to_string(i) + "\r\nTo: <sip:" + number + "@" +
         o_.peer + ">\r\nCall-ID: lg-" + std::to_string(i) + "\r\nCSeq: " + std::to_string(cseq_[i]++) +
         " REGISTER\r\nContact: <sip:" + number + "@" + local + ">\r\nExpires: 60\r\n";
    if (!nonce.empty())
      m += "Authorization: Digest username=\"u" + number + "\", realm=\"load.test\", nonce=\"" + nonce +
           "\", uri=\"sip:" + reg + "\", response=\"00000000000000000000000000000000\", algorithm=MD5\r\n";
    m += "Content-Length: 0\r\n\r\n";
    if (!send(peer_, m, now)) return false;
    state_[i].sent_at = now ? now : 1;
    ++inflight_;
    return true;
  }

  // ---- role calls ----
  static constexpr std::uint16_t kFarPort = 1, kCorePort = 10;  // offsets from --port
  struct CallSlot {
    std::uint8_t phase = 0;     // 0: not placed or ended; 1: INVITE sent; 2: BYE due or sent
    std::uint64_t since = 0;    // TSC of the INVITE (phase 1) or of the BYE (phase 2)
  };
  struct Hold {
    std::uint64_t due = 0;
    std::string bye;            // capacity kept from one use to the next
  };
  static constexpr std::string_view kSdp =
      "v=0\r\no=- 1 1 IN IP4 10.77.0.254\r\ns=-\r\nc=IN IP4 10.77.0.254\r\nt=0 0\r\n"
      "m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";

  static std::string num(std::uint64_t v) {
    char b[24];
    return std::string(b, std::size_t(std::snprintf(b, sizeof b, "%llu", static_cast<unsigned long long>(v))));
  }
  std::string core_hostport() const { return o_.local + ":" + num(o_.udp_port + kCorePort); }
  Endpoint regfront() const {
    Endpoint e = peer_;
    e.port = o_.udp_port;
    return e;
  }
  // Status line, the request's Vias, From, To (with `to_tag` when it has none), Call-ID, CSeq.
  void reply_head(std::string& out, std::string_view status, const Headers& hs, std::string_view to_tag) {
    out.clear();
    out.append("SIP/2.0 ").append(status).append("\r\n");
    for (const auto& h : hs)
      if (is(h.name, "Via", 'v')) out.append("Via: ").append(h.value).append("\r\n");
    out.append("From: ").append(find(hs, "From", 'f')).append("\r\n");
    const std::string_view to = find(hs, "To", 't');
    out.append("To: ").append(to);
    if (to.find(";tag=") == std::string_view::npos) out.append(";tag=").append(to_tag);
    out.append("\r\nCall-ID: ").append(find(hs, "Call-ID", 'i'));
    out.append("\r\nCSeq: ").append(find(hs, "CSeq", '\0')).append("\r\n");
  }

  void calls_datagram(std::string_view msg, const RxDatagram& d, std::uint64_t now) {
    const std::uint16_t at = std::uint16_t(d.dst.port - o_.udp_port);
    if (at == 0 && msg.starts_with("REGISTER ")) return registrar(msg, d, now);
    std::string_view first;
    headers(msg, first, hs_);
    if (at == kCorePort) return core_response(msg, first, now);
    if (msg.starts_with("SIP/2.0 ") || msg.starts_with("ACK ")) {
      if (at == kFarPort && msg.starts_with("ACK ")) ++st.acks_far;
      return;
    }
    std::string& out = out_;
    if (at == kFarPort || !msg.starts_with("INVITE ")) {
      // The far end: BYE (and anything else in the dialog) → 200.
      if (msg.starts_with("BYE ")) ++st.byes_far;
      reply_head(out, "200 OK", hs_, "far");
      out += "Content-Length: 0\r\n\r\n";
      send(d.src, out, now, std::uint16_t(o_.udp_port + at));
      return;
    }
    // The provider: a challenge first, then the answer of the far end behind it.
    Registrar& r = regs_[0];
    const std::string_view cred = find(hs_, "Proxy-Authorization", '\0');
    if (cred.empty()) {
      ++st.sent_407;
      reply_head(out, "407 Proxy Authentication Required", hs_, "prov");
      char nonce[24];
      std::snprintf(nonce, sizeof nonce, "%016llx", static_cast<unsigned long long>(++nonce_));
      out.append("Proxy-Authenticate: Digest realm=\"").append(r.realm).append("\", nonce=\"").append(nonce);
      out += "\", algorithm=MD5\r\nContent-Length: 0\r\n\r\n";
    } else {
      ++st.invites_authed;
      if (o_.verify_every != 0 && st.invites_authed % o_.verify_every == 0) {
        if (verify(r, cred, "INVITE")) {
          ++st.verified;
        } else {
          ++st.verify_failed;
          reply_head(out, "403 Forbidden", hs_, "prov");
          out += "Content-Length: 0\r\n\r\n";
          send(d.src, out, now, o_.udp_port);
          return;
        }
      }
      reply_head(out, "200 OK", hs_, "far");
      for (const auto& h : hs_)
        if (is(h.name, "Record-Route", '\0')) out.append("Record-Route: ").append(h.value).append("\r\n");
      std::string_view user = first.substr(first.find("sip:") + 4);
      user = user.substr(0, user.find('@'));
      out.append("Contact: <sip:").append(user).append("@").append(o_.local).append(":");
      out.append(num(o_.udp_port + kFarPort)).append(">\r\nContent-Type: application/sdp\r\nContent-Length: ");
      out.append(num(kSdp.size())).append("\r\n\r\n").append(kSdp);
    }
    send(d.src, out, now, o_.udp_port);
  }

  void start_call(std::uint64_t i, std::uint64_t now) {
    const std::string n = num(i), calling = num(4000000000ull + i % std::max<std::uint32_t>(o_.numbers, 1));
    const std::string called = num(2120000000ull + i % 1000000);
    const std::string core = core_hostport();
    std::string& m = out_;
    m.clear();
    m.append("INVITE sip:").append(called).append("@").append(o_.peer).append(":").append(num(o_.udp_port));
    m.append(" SIP/2.0\r\nVia: SIP/2.0/UDP ").append(core).append(";branch=z9hG4bKci").append(n);
    m.append(";rport\r\nMax-Forwards: 70\r\nFrom: <sip:").append(calling).append("@").append(o_.local);
    m.append(">;tag=c").append(n).append("\r\nTo: <sip:").append(called).append("@").append(o_.peer);
    m.append(">\r\nCall-ID: lgc-").append(n).append("\r\nCSeq: 1 INVITE\r\nContact: <sip:").append(calling);
    m.append("@").append(core).append(">\r\nContent-Type: application/sdp\r\nContent-Length: ");
    m.append(num(kSdp.size())).append("\r\n\r\n").append(kSdp);
    ++st.calls_started;
    calls_[i] = {1, now};
    ++inflight_calls_;
    send(regfront(), m, now, std::uint16_t(o_.udp_port + kCorePort));
  }
  void end_call(CallSlot& c) {
    c.phase = 0;
    --inflight_calls_;
  }
  // A request of the core in the dialog of `i`: along the route set (the 200's Record-Route,
  // reversed), to the far end's Contact.
  void in_dialog(std::string& m, std::string_view method, std::uint32_t cseq, std::string_view branch,
                 std::string_view target, const Headers& hs) {
    m.clear();
    m.append(method).append(" ").append(target).append(" SIP/2.0\r\nVia: SIP/2.0/UDP ").append(core_hostport());
    m.append(";branch=").append(branch).append(";rport\r\n");
    for (std::size_t k = hs.n; k-- > 0;)
      if (is(hs.h[k].name, "Record-Route", '\0')) m.append("Route: ").append(hs.h[k].value).append("\r\n");
    m.append("Max-Forwards: 70\r\nFrom: ").append(find(hs, "From", 'f')).append("\r\nTo: ").append(find(hs, "To", 't'));
    m.append("\r\nCall-ID: ").append(find(hs, "Call-ID", 'i')).append("\r\nCSeq: ").append(num(cseq)).append(" ");
    m.append(method).append("\r\nContent-Length: 0\r\n\r\n");
  }
  void core_response(std::string_view msg, std::string_view first, std::uint64_t now) {
    if (!msg.starts_with("SIP/2.0 ") || first.size() < 11) return;
    const std::string_view callid = find(hs_, "Call-ID", 'i');
    if (!callid.starts_with("lgc-")) return;
    const std::uint64_t i = std::strtoull(std::string(callid.substr(4)).c_str(), nullptr, 10);
    if (i >= calls_.size()) return;
    CallSlot& c = calls_[i];
    const int code = std::atoi(std::string(first.substr(8, 3)).c_str());
    const std::string_view cseq = find(hs_, "CSeq", '\0');
    const std::string_view method = cseq.substr(std::min(cseq.size(), cseq.find(' ') + 1));
    if (code < 200) return;
    const std::string n = num(i);
    if (method == "INVITE") {
      if (c.phase != 1) return;  // a 2xx retransmitted before our ACK got through
      if (code >= 300) {
        ++st.calls_failed;
        end_call(c);
        return;  // regfrontd ACKs hop by hop; the core's ACK would only be absorbed
      }
      ++st.calls_answered;
      setup_ns_.push_back(std::uint32_t(std::min<std::uint64_t>((now - c.since) * 1000000000ull / hz_, UINT32_MAX)));
      std::string_view target = find(hs_, "Contact", 'm');
      target = target.substr(target.find('<') + 1);
      target = target.substr(0, target.find('>'));
      in_dialog(out_, "ACK", 1, "z9hG4bKca" + n, target, hs_);
      send(regfront(), out_, now, std::uint16_t(o_.udp_port + kCorePort));
      c.phase = 2;
      if (o_.hold_ms <= 0) {
        in_dialog(out_, "BYE", 2, "z9hG4bKcb" + n, target, hs_);
        c.since = now;
        send(regfront(), out_, now, std::uint16_t(o_.udp_port + kCorePort));
        return;
      }
      Hold& h = holds_[(hold_head_ + hold_count_) % holds_.size()];
      if (hold_count_ == holds_.size()) return;  // cannot happen: at most --window calls
      ++hold_count_;
      h.due = now + std::uint64_t(o_.hold_ms * double(hz_) / 1000.0);
      c.since = h.due;
      in_dialog(h.bye, "BYE", 2, "z9hG4bKcb" + n, target, hs_);
      return;
    }
    if (method == "BYE" && c.phase == 2) {
      if (code < 300) {
        ++st.calls_done;
      } else {
        ++st.calls_failed;
      }
      end_call(c);
    }
  }
  void pump_calls(std::uint64_t now) {
    if (calls_from_ == 0 || done_tsc_ != 0) return;  // not every number registered yet; or done
    if (calls_t0_ == 0) {
      if (!announced_) {
        announced_ = true;
        std::printf("loadgen: %u numbers registered\n", o_.numbers);
        std::fflush(stdout);
      }
      if (now < calls_from_ + std::uint64_t(o_.call_delay * double(hz_))) return;
      calls_t0_ = now;
      std::printf("loadgen: calls start\n");
      std::fflush(stdout);
    }
    while (hold_count_ != 0 && holds_[hold_head_].due <= now) {
      send(regfront(), holds_[hold_head_].bye, now, std::uint16_t(o_.udp_port + kCorePort));
      hold_head_ = (hold_head_ + 1) % holds_.size();
      --hold_count_;
    }
    const double per_call = double(hz_) / std::max(o_.call_rate, 1e-3);
    while (next_call_ < o_.calls && inflight_calls_ < o_.window &&
           now >= calls_t0_ + std::uint64_t(double(next_call_) * per_call)) {
      start_call(next_call_++, now);
    }
    if (now - last_scan_ > hz_ / 10) {
      last_scan_ = now;
      while (oldest_call_ < next_call_ && calls_[oldest_call_].phase == 0) ++oldest_call_;
      for (std::uint64_t k = oldest_call_; k < next_call_; ++k) {
        CallSlot& c = calls_[k];
        if (c.phase != 0 && now > c.since && now - c.since > 8 * hz_) {
          ++st.calls_timed_out;
          end_call(c);
        }
      }
    }
    if (next_call_ == o_.calls && inflight_calls_ == 0) done_tsc_ = now;
  }

 public:
  std::uint64_t calls_t0() const { return calls_t0_; }
  std::vector<std::uint32_t>& setup_times() { return setup_ns_; }

 private:
  std::uint64_t o_expect_ = 0, calls_from_ = 0, calls_t0_ = 0, next_call_ = 0, oldest_call_ = 0;
  std::uint32_t inflight_calls_ = 0;
  bool announced_ = false;
  std::vector<CallSlot> calls_;
  std::vector<std::uint32_t> setup_ns_;  // INVITE → 200 at the core
  std::vector<Hold> holds_;              // BYEs waiting for --hold-ms (a FIFO: one delay for all)
  std::size_t hold_head_ = 0, hold_count_ = 0;

  const Options& o_;
  NetStack& s_;
  Endpoint peer_;
  std::uint64_t nonce_ = 0;
  std::vector<std::uint64_t> seen_;  // Via branch hashes (open addressing)
  std::size_t seen_used_ = 0;
  std::string password_;  // --per-user: P+U of the REGISTER being verified
  std::vector<Registrar> regs_;
  regfront::auth::Hasher hasher_;
  Headers hs_;
  std::string out_;
  std::vector<std::uint64_t> sent_tsc_, sent_seq_;  // by 401 sequence number (mod size)
  std::vector<std::uint64_t> pending_;              // 401s built, not yet stamped
  std::vector<std::uint32_t> latency_;              // ns, 401 TX → authenticated REGISTER RX
  std::uint32_t window_max_ = 0, window_over_1ms_ = 0;
  std::uint64_t hz_ = 0, tick_10ms_ = 1, first_tsc_ = 0, done_tsc_ = 0, bindings_done_ = 0;
  std::vector<Binding> state_;
  std::vector<std::uint32_t> cseq_;
  std::uint32_t next_ = 0, inflight_ = 0;
  std::uint64_t last_scan_ = 0;
};

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "loadgen: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--role") o.role = val();
    else if (a == "--local") o.local = val();
    else if (a == "--peer") o.peer = val();
    else if (a == "--prefix") o.prefix = std::atoi(val().c_str());
    else if (a == "--port") o.udp_port = static_cast<std::uint16_t>(std::atoi(val().c_str()));
    else if (a == "--duration") o.duration = std::atof(val().c_str());
    else if (a == "--mode") o.mode = val();
    else if (a == "--expires") o.expires = std::atoi(val().c_str());
    else if (a == "--bindings") o.bindings = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else if (a == "--window") o.window = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else if (a == "--min-rx") o.min_rx = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--dup") o.dup = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else if (a == "--realms") {
      o.realms.clear();
      const std::string v = val();
      for (std::size_t p = 0; p <= v.size();) {
        const std::size_t q = std::min(v.find(',', p), v.size());
        if (q > p) o.realms.push_back(v.substr(p, q - p));
        p = q + 1;
      }
    }
    else if (a == "--user") o.user = val();
    else if (a == "--password-prefix") o.password_prefix = val();
    else if (a == "--per-user") o.per_user = true;
    else if (a == "--verify-every") o.verify_every = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else if (a == "--expect") o.expect = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--linger") o.linger = std::atof(val().c_str());
    else if (a == "--hold") {
      o.hold = true;
      continue;
    }
    else if (a == "--numbers") o.numbers = static_cast<std::uint32_t>(std::atol(val().c_str()));
    else if (a == "--calls") o.calls = std::strtoull(val().c_str(), nullptr, 10);
    else if (a == "--call-rate") o.call_rate = std::atof(val().c_str());
    else if (a == "--hold-ms") o.hold_ms = std::atof(val().c_str());
    else if (a == "--call-delay") o.call_delay = std::atof(val().c_str());
    else if (a == "--queues") o.queues = static_cast<std::uint16_t>(std::max(1, std::atoi(val().c_str())));
    else {
      std::fprintf(stderr, "loadgen: unknown option %s\n", a.c_str());
      return false;
    }
  }
  if (o.role != "registrar" && o.role != "uac" && o.role != "calls") return false;
  if (o.mode != "refresh" && o.mode != "stale") return false;
  if (o.realms.empty() || o.realms.size() > 64) return false;
  return true;
}

// Largest number of events in any window of `w` consecutive 10-ms slots.
std::uint64_t peak_window(const std::vector<std::uint32_t>& v, std::size_t w) {
  std::uint64_t sum = 0, best = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    if (i >= w) sum -= v[i - w];
    best = std::max(best, sum);
  }
  return best;
}

// CLOCK_MONOTONIC of a TSC reading taken earlier (0 when there was none), so that a script can
// put the last binding's 200 on its own clock (Python's time.monotonic()): exec -> all registered.
double last_200_monotonic(std::uint64_t tsc, std::uint64_t hz) {
  if (tsc == 0) return 0.0;
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  const std::uint64_t now = rte_rdtsc();
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9 - double(now - tsc) / double(hz);
}

// The registrar side's figures: per registrar, the storm's timing, the latency percentiles.
std::string storm_json(Generator& g, const Options& o, std::uint64_t hz) {
  char buf[512];
  std::string j = "\"registrars\":[";
  const auto secs = [&](std::uint64_t a, std::uint64_t b) { return a && b ? double(b - a) / double(hz) : -1.0; };
  for (std::size_t i = 0; i < g.registrars().size(); ++i) {
    const Registrar& r = g.registrars()[i];
    std::uint64_t peak_bucket = 0;  // new REGISTERs in one aligned second (100 slots)
    for (std::size_t s = 0; s < r.new_10ms.size(); s += 100) {
      std::uint64_t sum = 0;
      for (std::size_t k = s; k < std::min(s + 100, r.new_10ms.size()); ++k) sum += r.new_10ms[k];
      peak_bucket = std::max(peak_bucket, sum);
    }
    std::snprintf(buf, sizeof buf,
                  "%s{\"index\":%zu,\"port\":%u,\"realm\":\"%s\",\"registers\":%llu,\"new\":%llu,"
                  "\"with_auth\":%llu,\"sent_401\":%llu,\"sent_200\":%llu,\"bindings_done\":%llu,"
                  "\"peak_new_sliding_1s\":%llu,\"peak_new_100ms_x10\":%llu,\"peak_new_aligned_1s\":%llu,"
                  "\"peak_all_sliding_1s\":%llu,\"first_to_last_200_s\":%.4f}",
                  i ? "," : "", i + 1, unsigned(o.udp_port + i), r.realm.c_str(),
                  static_cast<unsigned long long>(r.registers), static_cast<unsigned long long>(r.fresh),
                  static_cast<unsigned long long>(r.with_auth), static_cast<unsigned long long>(r.sent_401),
                  static_cast<unsigned long long>(r.sent_200), static_cast<unsigned long long>(r.bindings_done),
                  static_cast<unsigned long long>(peak_window(r.new_10ms, 100)),
                  static_cast<unsigned long long>(peak_window(r.new_10ms, 10) * 10),
                  static_cast<unsigned long long>(peak_bucket),
                  static_cast<unsigned long long>(peak_window(r.all_10ms, 100)), secs(r.first_tsc, r.last_200_tsc));
    j += buf;
    // The first 300 ms of new REGISTERs, by 10 ms (start-up bursts: ARP, queues).
    j.pop_back();
    j += ",\"new_10ms_head\":[";
    for (std::size_t s = 0; s < 30 && s < r.new_10ms.size(); ++s) j += (s ? "," : "") + std::to_string(r.new_10ms[s]);
    j += "]}";
  }
  j += "]";
  auto& lat = g.latencies();
  std::sort(lat.begin(), lat.end());
  const auto pct = [&](double p) {
    return lat.empty() ? 0.0 : double(lat[std::min(lat.size() - 1, std::size_t(p * double(lat.size())))]) / 1000.0;
  };
  std::snprintf(buf, sizeof buf,
                ",\"latency_samples\":%zu,\"latency_p50_us\":%.2f,\"latency_p90_us\":%.2f,\"latency_p99_us\":%.2f,"
                "\"latency_p999_us\":%.2f,\"latency_max_us\":%.2f,\"expect\":%llu,\"bindings_done\":%llu,"
                "\"first_register_to_last_200_s\":%.4f,\"last_200_monotonic_s\":%.4f",
                lat.size(), pct(0.5), pct(0.9), pct(0.99), pct(0.999), lat.empty() ? 0.0 : lat.back() / 1000.0,
                static_cast<unsigned long long>(o.expect), static_cast<unsigned long long>(g.bindings_done()),
                secs(g.first_tsc(), g.done_tsc()), last_200_monotonic(g.done_tsc(), hz));
  j += buf;
  return j;
}

// The call side's figures (role calls).
std::string calls_json(Generator& g, std::uint64_t hz) {
  const Stats& s = g.st;
  auto& lat = g.setup_times();
  std::sort(lat.begin(), lat.end());
  const auto pct = [&](double p) {
    return lat.empty() ? 0.0 : double(lat[std::min(lat.size() - 1, std::size_t(p * double(lat.size())))]) / 1000.0;
  };
  const double span = g.calls_t0() && g.done_tsc() > g.calls_t0() ? double(g.done_tsc() - g.calls_t0()) / double(hz) : -1.0;
  char buf[640];
  std::snprintf(buf, sizeof buf,
                ",\"calls_started\":%llu,\"calls_answered\":%llu,\"calls_done\":%llu,\"calls_failed\":%llu,"
                "\"calls_timed_out\":%llu,\"sent_407\":%llu,\"invites_authed\":%llu,\"acks_far\":%llu,"
                "\"byes_far\":%llu,\"calls_seconds\":%.4f,\"setup_p50_us\":%.1f,\"setup_p99_us\":%.1f,"
                "\"setup_max_us\":%.1f",
                static_cast<unsigned long long>(s.calls_started), static_cast<unsigned long long>(s.calls_answered),
                static_cast<unsigned long long>(s.calls_done), static_cast<unsigned long long>(s.calls_failed),
                static_cast<unsigned long long>(s.calls_timed_out), static_cast<unsigned long long>(s.sent_407),
                static_cast<unsigned long long>(s.invites_authed), static_cast<unsigned long long>(s.acks_far),
                static_cast<unsigned long long>(s.byes_far), span, pct(0.5), pct(0.99),
                lat.empty() ? 0.0 : lat.back() / 1000.0);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  const int used = rte_eal_init(argc, argv);
  if (used < 0) {
    std::fprintf(stderr, "loadgen: EAL init failed\n");
    return 2;
  }
  Options o;
  if (!parse_options(argc - used, argv + used, o)) {
    std::fprintf(stderr, "usage: regfront_loadgen [EAL] -- --role registrar|uac|calls --local IP --peer IP ...\n");
    return 2;
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  if (rte_eth_dev_count_avail() < 1) {
    std::fprintf(stderr, "loadgen: no DPDK port (give one with --vdev)\n");
    return 2;
  }
  // Enough mbufs for a full TX batch on top of the rings (see tx_batch below).
  rte_mempool* pool = rte_pktmbuf_pool_create("loadgen", 32767, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (!pool) {
    std::fprintf(stderr, "loadgen: mempool: %s\n", rte_strerror(rte_errno));
    return 2;
  }
  Port port;
  std::string err;
  if (!port.open(0, o.queues, pool, err)) {
    std::fprintf(stderr, "loadgen: %s\n", err.c_str());
    return 2;
  }
  rte_ether_addr mac{};
  rte_eth_macaddr_get(0, &mac);
  NetConfig cfg;
  IpAddr local;
  if (!IpAddr::parse(o.local.c_str(), local)) {
    std::fprintf(stderr, "loadgen: bad --local\n");
    return 2;
  }
  regfront::net::InterfaceConfig itf;
  itf.port = 0;
  std::memcpy(itf.mac.data(), mac.addr_bytes, 6);
  (local.is_v4() ? itf.ipv4 : itf.ipv6).push_back({local, static_cast<std::uint8_t>(o.prefix)});
  cfg.interfaces.push_back(itf);
  // A response the peer's full RX ring cannot take waits in the batch instead of being dropped
  // (a dropped 401 costs regfrontd a Timer E, 500 ms, and the storm's figures with it).
  cfg.tx_batch = 16384;
  cfg.udp_ports.clear();
  const std::size_t nports = o.role == "registrar" ? o.realms.size() : 1;
  for (std::size_t i = 0; i < nports; ++i) cfg.udp_ports.push_back(std::uint16_t(o.udp_port + i));
  if (o.role == "calls") {  // the far end and the core (see Generator::kFarPort, kCorePort)
    cfg.udp_ports.push_back(std::uint16_t(o.udp_port + 1));
    cfg.udp_ports.push_back(std::uint16_t(o.udp_port + 10));
  }
  // Destroyed (its reassembly table freed) before rte_eal_cleanup below, not after it.
  std::optional<NetStack> stack_slot(std::in_place, cfg, pool);
  NetStack& stack = *stack_slot;
  if (const regfront::Status st = stack.init(); !st.ok()) {
    std::fprintf(stderr, "loadgen: NetStack: %s\n", st.message().c_str());
    return 2;
  }
  const std::uint64_t hz = rte_get_tsc_hz();
  // memif/ring links come up when the other side connects: wait (bounded) before starting.
  const std::uint64_t link_deadline = rte_rdtsc() + 20 * hz;
  while (!port.link_up() && !g_stop && rte_rdtsc() < link_deadline) rte_delay_ms(10);
  if (!port.link_up()) {
    std::fprintf(stderr, "loadgen: link down after 20 s (is the peer running?)\n");
    return 2;
  }
  const unsigned in_use_start = rte_mempool_in_use_count(pool);
  stack.announce(rte_rdtsc());
  Generator gen(o, stack);
  std::printf("loadgen: role %s mode %s on %s, peer %s, link up\n", o.role.c_str(), o.mode.c_str(),
              o.local.c_str(), o.peer.c_str());
  std::fflush(stdout);

  // A full TX batch goes out at once (and its 401s are stamped), not dropped.
  struct Flush {
    static void hook(void* ctx, std::uint16_t port, regfront::net::TxBatch& b) {
      send(port, b);
      static_cast<Generator*>(ctx)->stamp(rte_rdtsc());
    }
    // The batch can be deep: bursts of 256 until the ring is full, one shift of the rest.
    static void send(std::uint16_t port, regfront::net::TxBatch& b) {
      std::uint32_t done = 0;
      while (done < b.count) {
        const std::uint16_t want = std::uint16_t(std::min<std::uint32_t>(b.count - done, 256));
        const std::uint16_t sent = rte_eth_tx_burst(port, 0, b.pkts + done, want);
        done += sent;
        if (sent < want) break;
      }
      b.consumed(std::uint16_t(done));
    }
  };
  stack.set_flush_hook(&Flush::hook, &gen);
  constexpr unsigned kBurst = 32;
  rte_mbuf* pkts[kBurst];
  RxDatagram dg[kBurst];
  const std::uint64_t t0 = rte_rdtsc();
  std::uint64_t end = t0 + static_cast<std::uint64_t>(o.duration * double(hz));
  std::uint64_t next_report = t0 + hz, last_poll = t0;
  Stats last{};
  std::uint64_t busy_polls = 0, polls = 0;
  bool ending = false;
  std::uint16_t rxq = 0;
  while (!g_stop) {
    std::uint64_t now = rte_rdtsc();
    if (now >= end) break;
    const std::uint16_t n = rte_eth_rx_burst(0, rxq, pkts, kBurst);
    if (++rxq == o.queues) rxq = 0;
    ++polls;
    if (n) {
      ++busy_polls;
      now = rte_rdtsc();  // the burst's arrival time (latency samples end here)
      const std::size_t k = stack.classify(pkts, n, now, dg, kBurst);
      for (std::size_t i = 0; i < k; ++i) gen.on_datagram(dg[i], now);
      stack.release();
    }
    gen.pump(now);
    if (now - last_poll > hz / 1000) {
      stack.poll(now);
      last_poll = now;
    }
    auto& b = stack.tx(0);
    if (b.count) {
      Flush::send(0, b);
      gen.stamp(rte_rdtsc());
    }
    if (!ending && gen.done()) {
      ending = true;
      end = std::min(end, now + static_cast<std::uint64_t>(o.linger * double(hz)));
    }
    if (now >= next_report) {
      const auto w = gen.take_window();
      std::printf("loadgen: rx %8llu pps  tx %8llu pps  (401 %llu, 200 %llu sent; 401 %llu, 200 %llu got) "
                  "latency max %u us, %u over 1 ms\n",
                  static_cast<unsigned long long>(gen.st.rx - last.rx),
                  static_cast<unsigned long long>(gen.st.tx - last.tx),
                  static_cast<unsigned long long>(gen.st.sent_401), static_cast<unsigned long long>(gen.st.sent_200),
                  static_cast<unsigned long long>(gen.st.got_401), static_cast<unsigned long long>(gen.st.got_200),
                  w.first / 1000, w.second);
      std::fflush(stdout);
      last = gen.st;
      next_report += hz;
    }
  }
  const double secs = double(rte_rdtsc() - t0) / double(hz);
  // Drain what is still queued so that the mempool level compares like with like.
  auto& b = stack.tx(0);
  for (int i = 0; i < 100 && b.count; ++i) b.consumed(rte_eth_tx_burst(0, 0, b.pkts, b.count));
  const auto& c = stack.counters();
  const auto& s = gen.st;
  std::printf(
      "REGFRONT-LOADGEN {\"role\":\"%s\",\"mode\":\"%s\",\"seconds\":%.3f,\"rx\":%llu,\"tx\":%llu,"
      "\"rx_pps\":%.0f,\"tx_pps\":%.0f,\"tx_fail\":%llu,\"registers\":%llu,\"with_auth\":%llu,"
      "\"sent_401\":%llu,\"sent_200\":%llu,\"got_401\":%llu,\"got_200\":%llu,\"resent\":%llu,\"repeated\":%llu,"
      "\"branches_not_remembered\":%llu,"
      "\"net_rx_packets\":%llu,\"net_drop_not_ours\":%llu,\"net_drop_udp_checksum\":%llu,\"net_drop_tx_batch_full\":%llu,"
      "\"busy_poll_ratio\":%.3f,\"mempool_in_use_start\":%u,\"mempool_in_use_end\":%u,"
      "\"verified\":%llu,\"verify_failed\":%llu,%s%s}\n",
      o.role.c_str(), o.mode.c_str(), secs, static_cast<unsigned long long>(s.rx),
      static_cast<unsigned long long>(s.tx), double(s.rx) / secs, double(s.tx) / secs,
      static_cast<unsigned long long>(s.tx_fail), static_cast<unsigned long long>(s.registers),
      static_cast<unsigned long long>(s.with_auth), static_cast<unsigned long long>(s.sent_401),
      static_cast<unsigned long long>(s.sent_200), static_cast<unsigned long long>(s.got_401),
      static_cast<unsigned long long>(s.got_200), static_cast<unsigned long long>(s.resent),
      static_cast<unsigned long long>(s.repeated), static_cast<unsigned long long>(s.seen_full),
      static_cast<unsigned long long>(c.rx_packets.get()), static_cast<unsigned long long>(c.drop_eth_not_ours.get()),
      static_cast<unsigned long long>(c.drop_udp_bad_checksum.get()),
      static_cast<unsigned long long>(c.drop_tx_batch_full.get()), polls ? double(busy_polls) / double(polls) : 0.0,
      in_use_start, rte_mempool_in_use_count(pool), static_cast<unsigned long long>(s.verified),
      static_cast<unsigned long long>(s.verify_failed), storm_json(gen, o, hz).c_str(),
      o.role == "calls" ? calls_json(gen, hz).c_str() : "");
  std::fflush(stdout);
  // --hold: the other side stops polling and closes first. The memif PMD unmaps its rings in
  // the interrupt thread when the peer goes away, under a port that may still be polled, so
  // the side that disconnects last must be the one that is no longer polling.
  while (o.hold && !g_stop) rte_delay_ms(10);
  stack_slot.reset();
  rte_eth_dev_stop(0);
  rte_eth_dev_close(0);
  rte_eal_cleanup();
  return s.rx >= o.min_rx ? 0 : 1;
}
