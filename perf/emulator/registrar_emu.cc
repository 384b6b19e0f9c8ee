// regfront-registrar-emu — a SIP registrar emulator over kernel UDP sockets, for load scenarios.
//
// A test instrument, not a registrar: it keeps no location table and no per-binding state.
// One socket (one UDP port, one realm) per emulated registrar, one thread per socket, batches
// of datagrams with recvmmsg/sendmmsg.
//
//   REGISTER without Authorization  -> 401, WWW-Authenticate: Digest realm, nonce, qop="auth",
//                                      algorithm (MD5 or SHA-256)
//   REGISTER with Authorization     -> nonce checked statelessly (keyed hash of its timestamp),
//                                      response recomputed from HA1 = H(user:realm:password)
//                                      -> 200 OK, Contact;expires=granted   (or 403 when wrong,
//                                      401 stale=true when the nonce is older than --nonce-ttl)
//
// The nonce is "<16 hex: send time in ns, CLOCK_MONOTONIC><hex of H(key:time:realm)>", so the
// time from sending a 401 to receiving the REGISTER answering it is known without state: that
// is the latency histogram (it includes the kernel path both ways and the client's work).
//
// Faults: --delay-ms (responses held back), --drop-pct (requests ignored), --dup-pct
// (responses sent twice), --423 MIN (Expires below MIN refused), --503 RETRY_AFTER, --down
// (everything counted, nothing answered). SIGUSR1 takes the sockets listed in --outage down, SIGUSR2 brings them
// back. Every second one CSV row per registrar: counters of that second.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "regfront/auth/digest.h"
#include "sip_scan.h"

namespace {

namespace auth = regfront::auth;
using namespace regfront::emu;

volatile std::sig_atomic_t g_stop = 0;
std::atomic<bool> g_outage{false};
void on_stop(int) { g_stop = 1; }
void on_usr1(int) { g_outage.store(true); }
void on_usr2(int) { g_outage.store(false); }

struct Options {
  std::string address = "127.0.0.1";
  std::vector<std::uint16_t> ports;
  std::vector<std::string> realms;
  std::string realm_prefix = "realm";
  auth::Algorithm algorithm = auth::Algorithm::md5;
  std::string credentials_file;         // "username password" per line; else pw-<username>
  std::string password_prefix = "pw-";
  int expires = 0;                      // granted expiry; 0 = what the client asked for
  int min_expires = 0;                  // --423
  int retry_after = -1;                 // --503
  double delay_ms = 0, drop_pct = 0, dup_pct = 0;
  bool down = false;
  std::vector<int> outage;              // socket indexes (0-based) SIGUSR1 takes down
  double duration = 0;                  // 0 = until SIGINT/SIGTERM
  std::string csv;
  std::string summary;
  int nonce_ttl = 3600;
};

// Counters of one registrar socket; written by its thread only, read by the main thread.
#define EMU_COUNTERS(X) \
  X(rx_register) X(rx_new) X(rx_retransmission) X(rx_with_auth) X(rx_other) X(tx_401) X(tx_stale) X(tx_200) X(tx_403) \
  X(tx_423) X(tx_503) X(dropped) X(duplicated) X(malformed) X(ignored_down)
struct Counters {
#define EMU_DECL(n) std::atomic<std::uint64_t> n{0};
  EMU_COUNTERS(EMU_DECL)
#undef EMU_DECL
};

// Latency histogram: 1 µs buckets up to 10 ms, then 100 µs buckets up to 1 s, then overflow.
constexpr std::size_t kKernelSeconds = 7200;
std::int64_t g_start_realtime_ns = 0;
constexpr std::size_t kLatFine = 10000;
constexpr std::size_t kLatBuckets = kLatFine + 9900;
std::size_t lat_bucket(std::uint64_t us) {
  if (us < kLatFine) return us;
  return std::min<std::uint64_t>(kLatFine + (us - kLatFine) / 100, kLatBuckets);
}
std::uint64_t bucket_us(std::size_t b) { return b < kLatFine ? b : kLatFine + (b - kLatFine) * 100; }

struct Registrar {
  int index = 0;
  std::uint16_t port = 0;
  std::string realm;
  int fd = -1;
  Counters c;
  std::vector<std::uint32_t> latency_us = std::vector<std::uint32_t>(kLatBuckets + 1, 0);
  std::uint64_t latency_samples = 0;
  std::uint64_t nonce_reused = 0;  // authenticated REGISTERs answering a nonce > 1 s old
  // New REGISTERs (rx_new) per second of their *kernel* receive time (SO_TIMESTAMPNS), so
  // that a backlog the emulator drains late (its thread waited for a CPU) is not counted in
  // the wrong second: this is what checks the client's pacing. Index: seconds since start.
  std::vector<std::uint32_t> new_by_kernel_second = std::vector<std::uint32_t>(kKernelSeconds, 0);
};

// ---- SIP reading beyond sip_scan.h ------------------------------------------------------------

// The client's requested expiry: Contact ;expires= first, else Expires, else 3600.
int requested_expires(const Request& r) {
  std::string_view c = r.contact;
  for (std::size_t i = 0; i + 8 <= c.size(); ++i) {
    if (c[i] == ';' && ieq(trim(c.substr(i + 1, 7)), "expires")) {
      std::size_t eq = c.find('=', i);
      if (eq != std::string_view::npos) return std::atoi(std::string(c.substr(eq + 1, 10)).c_str());
    }
  }
  if (!r.expires.empty()) return std::atoi(std::string(r.expires).c_str());
  return 3600;
}

// ---- one registrar socket -----------------------------------------------------------------------

constexpr int kBurst = 64;
constexpr std::size_t kMaxDatagram = 4096;

struct Pending {  // a response held back by --delay-ms
  std::uint64_t due_ns;
  sockaddr_in to;
  std::string bytes;
};

class Worker {
 public:
  Worker(const Options& o, Registrar& r,
         const std::unordered_map<std::string, std::string>& creds, std::uint64_t seed)
      : o_(o), r_(r), creds_(creds), rng_(seed) {
    std::mt19937_64 k(seed ^ 0x9e3779b97f4a7c15ull);
    for (int i = 0; i < 4; ++i) key_ += std::to_string(k());
    for (auto& b : rx_) b.resize(kMaxDatagram);
    for (auto& b : tx_) b.reserve(1024);
  }

  void run() {
    const bool in_outage_set =
        std::find(o_.outage.begin(), o_.outage.end(), r_.index) != o_.outage.end();
    while (!g_stop) {
      int timeout = 100;
      if (!delayed_.empty()) {
        std::uint64_t n = now_ns();
        timeout = delayed_.front().due_ns <= n
                      ? 0
                      : static_cast<int>(std::min<std::uint64_t>((delayed_.front().due_ns - n) / 1000000 + 1, 100));
      }
      pollfd p{r_.fd, POLLIN, 0};
      int pr = ::poll(&p, 1, timeout);
      flush_delayed();
      if (pr <= 0) continue;
      mmsghdr msgs[kBurst];
      iovec iov[kBurst];
      sockaddr_in from[kBurst];
      for (int i = 0; i < kBurst; ++i) {
        iov[i] = {rx_[i].data(), kMaxDatagram};
        std::memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
        msgs[i].msg_hdr.msg_control = ctl_[i].data();
        msgs[i].msg_hdr.msg_controllen = ctl_[i].size();
      }
      int n = ::recvmmsg(r_.fd, msgs, kBurst, MSG_DONTWAIT, nullptr);
      if (n <= 0) continue;
      const bool down = o_.down || (in_outage_set && g_outage.load(std::memory_order_relaxed));
      ntx_ = 0;
      for (int i = 0; i < n; ++i) {
        kernel_ns_ = 0;
        for (cmsghdr* cm = CMSG_FIRSTHDR(&msgs[i].msg_hdr); cm; cm = CMSG_NXTHDR(&msgs[i].msg_hdr, cm)) {
          if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS) {
            timespec ts;
            std::memcpy(&ts, CMSG_DATA(cm), sizeof ts);
            kernel_ns_ = static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
          }
        }
        handle(std::string_view(rx_[i].data(), msgs[i].msg_len), from[i], down);
      }
      send_batch();
    }
  }

 private:
  static std::uint64_t fnv(std::string_view a, std::string_view b) {
    std::uint64_t h = 1469598103934665603ull;
    for (char ch : a) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;
    for (char ch : b) h = (h ^ static_cast<unsigned char>(ch)) * 1099511628211ull;
    return h | 1;  // never 0 (an empty slot)
  }

  bool chance(double pct) {
    return pct > 0 && std::uniform_real_distribution<double>(0, 100)(rng_) < pct;
  }

  // nonce = 16 hex digits of the send time + H(key ":" time ":" realm) (MD5: 32 hex digits).
  std::string_view make_nonce(std::uint64_t t, char* out) {
    char ts[17];
    std::snprintf(ts, sizeof ts, "%016llx", static_cast<unsigned long long>(t));
    std::memcpy(out, ts, 16);
    std::size_t n = hasher_.hash_joined_hex(auth::Hash::md5, {key_, std::string_view(ts, 16), r_.realm}, out + 16);
    return {out, 16 + n};
  }

  // Returns the nonce's time, or 0 when it was not made by this socket.
  std::uint64_t check_nonce(std::string_view nonce) {
    if (nonce.size() != 48) return 0;
    char buf[64];
    std::uint64_t t = std::strtoull(std::string(nonce.substr(0, 16)).c_str(), nullptr, 16);
    std::string_view expect = make_nonce(t, buf);
    return expect == nonce ? t : 0;
  }

  void add(std::string& s, std::string_view v) { s.append(v.data(), v.size()); }

  // Status line + the headers a response copies from its request.
  std::string& begin_response(const Request& q, int code, std::string_view reason) {
    std::string& s = tx_[ntx_];
    s.clear();
    s += "SIP/2.0 ";
    s += std::to_string(code);
    s += ' ';
    add(s, reason);
    s += "\r\n";
    for (int i = 0; i < q.vias; ++i) { s += "Via: "; add(s, q.via[i]); s += "\r\n"; }
    s += "From: "; add(s, q.from); s += "\r\n";
    s += "To: "; add(s, q.to);
    if (q.to.find(";tag=") == std::string_view::npos) s += ";tag=emu" + std::to_string(r_.index);
    s += "\r\n";
    s += "Call-ID: "; add(s, q.call_id); s += "\r\n";
    s += "CSeq: "; add(s, q.cseq); s += "\r\n";
    return s;
  }

  void finish(std::string& s, const sockaddr_in& to) {
    s += "Server: regfront-registrar-emu\r\nContent-Length: 0\r\n\r\n";
    if (o_.delay_ms > 0) {
      delayed_.push_back({now_ns() + static_cast<std::uint64_t>(o_.delay_ms * 1e6), to, s});
      return;
    }
    dest_[ntx_] = to;
    ++ntx_;
    if (chance(o_.dup_pct) && ntx_ < kBurst * 2) {
      tx_[ntx_] = s;
      dest_[ntx_] = to;
      ++ntx_;
      r_.c.duplicated.fetch_add(1, std::memory_order_relaxed);
    }
    if (ntx_ >= kBurst * 2 - 1) send_batch();
  }

  void challenge(const Request& q, const sockaddr_in& from, bool stale) {
    std::string& s = begin_response(q, 401, "Unauthorized");
    char nb[64];
    std::uint64_t t = now_ns();
    std::string_view nonce = make_nonce(t, nb);
    s += "WWW-Authenticate: Digest realm=\"";
    s += r_.realm;
    s += "\", nonce=\"";
    add(s, nonce);
    s += "\", qop=\"auth\", algorithm=";
    add(s, auth::algorithm_name(o_.algorithm));
    if (stale) s += ", stale=true";
    s += "\r\n";
    (stale ? r_.c.tx_stale : r_.c.tx_401).fetch_add(1, std::memory_order_relaxed);
    finish(s, from);
  }

  // `down`: the request is counted (and remembered, so that its retransmissions after the
  // outage count as such) but not answered.
  void handle(std::string_view msg, const sockaddr_in& from, bool down) {
    Request q;
    if (!scan_request(msg, q)) {
      r_.c.malformed.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (q.method != "REGISTER") {
      r_.c.rx_other.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    r_.c.rx_register.fetch_add(1, std::memory_order_relaxed);
    // Retransmission or new request? Same Call-ID + CSeq = same request (RFC 3261 §17.2.3 for
    // UDP without a branch check). A direct-mapped table of 64-bit hashes: a collision can only
    // make a retransmission count as new (over-counting new requests, never under-counting).
    {
      const std::uint64_t h = fnv(q.call_id, q.cseq);
      std::uint64_t& slot = seen_[h & (kSeen - 1)];
      if (slot == h) {
        r_.c.rx_retransmission.fetch_add(1, std::memory_order_relaxed);
      } else {
        slot = h;
        if (q.authorization.empty()) {
          r_.c.rx_new.fetch_add(1, std::memory_order_relaxed);
          if (kernel_ns_ >= g_start_realtime_ns) {
            const auto sec = static_cast<std::size_t>((kernel_ns_ - g_start_realtime_ns) / 1000000000);
            if (sec < kKernelSeconds) ++r_.new_by_kernel_second[sec];
          }
        }
      }
    }
    if (down) {
      r_.c.ignored_down.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (chance(o_.drop_pct)) {
      r_.c.dropped.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (o_.retry_after >= 0) {
      std::string& s = begin_response(q, 503, "Service Unavailable");
      s += "Retry-After: " + std::to_string(o_.retry_after) + "\r\n";
      r_.c.tx_503.fetch_add(1, std::memory_order_relaxed);
      finish(s, from);
      return;
    }
    const int asked = requested_expires(q);
    if (o_.min_expires > 0 && asked > 0 && asked < o_.min_expires) {
      std::string& s = begin_response(q, 423, "Interval Too Brief");
      s += "Min-Expires: " + std::to_string(o_.min_expires) + "\r\n";
      r_.c.tx_423.fetch_add(1, std::memory_order_relaxed);
      finish(s, from);
      return;
    }
    if (q.authorization.empty()) {
      challenge(q, from, false);
      return;
    }
    r_.c.rx_with_auth.fetch_add(1, std::memory_order_relaxed);
    AuthParams a;
    const std::uint64_t t_rx = now_ns();
    if (!parse_authorization(q.authorization, a) || a.realm != r_.realm) {
      forbid(q, from);
      return;
    }
    const std::uint64_t t_nonce = check_nonce(a.nonce);
    if (t_nonce == 0) {  // not ours (e.g. from before a restart): a fresh challenge
      challenge(q, from, true);
      return;
    }
    auth::Algorithm alg = auth::Algorithm::md5;
    if (ieq(a.algorithm, "SHA-256")) alg = auth::Algorithm::sha256;
    else if (!a.algorithm.empty() && !ieq(a.algorithm, "MD5")) { forbid(q, from); return; }
    std::string_view password;
    std::string rule;
    if (!creds_.empty()) {
      auto it = creds_.find(std::string(a.username));
      if (it == creds_.end()) { forbid(q, from); return; }
      password = it->second;
    } else {
      rule = o_.password_prefix;
      rule.append(a.username.data(), a.username.size());
      password = rule;
    }
    char ha1[auth::kMaxHexLength];
    std::size_t hl = hasher_.hash_joined_hex(auth::base_hash(alg), {a.username, r_.realm, password}, ha1);
    char expect[auth::kMaxHexLength];
    auth::Qop qop = a.qop.empty() ? auth::Qop::none : auth::Qop::auth;
    std::size_t el = hasher_.response(alg, std::string_view(ha1, hl), a.nonce, a.nc, a.cnonce, qop,
                                      "REGISTER", a.uri, "", expect);
    if (std::string_view(expect, el) != a.response) {
      forbid(q, from);
      return;
    }
    // Latency: 401 built → this authenticated REGISTER read. Nonces reused for refreshes
    // (preemptive authorization) are counted apart.
    const std::uint64_t lat = t_rx > t_nonce ? t_rx - t_nonce : 0;
    if (lat < 1000000000ull + static_cast<std::uint64_t>(o_.delay_ms * 1e6)) {
      std::uint64_t us = (lat - std::min<std::uint64_t>(lat, static_cast<std::uint64_t>(o_.delay_ms * 1e6))) / 1000;
      ++r_.latency_us[lat_bucket(us)];
      ++r_.latency_samples;
    } else {
      ++r_.nonce_reused;
    }
    if ((t_rx - t_nonce) / 1000000000ull > static_cast<std::uint64_t>(o_.nonce_ttl)) {
      challenge(q, from, true);
      return;
    }
    const int granted = o_.expires > 0 && (asked == 0 || asked > o_.expires) ? o_.expires : asked;
    std::string& s = begin_response(q, 200, "OK");
    if (!q.contact.empty()) {
      s += "Contact: ";
      std::string_view c = q.contact;
      std::size_t semi = c.find(';', c.find('>') == std::string_view::npos ? 0 : c.find('>'));
      add(s, semi == std::string_view::npos ? c : c.substr(0, semi));
      s += ";expires=" + std::to_string(granted) + "\r\n";
    }
    s += "Expires: " + std::to_string(granted) + "\r\n";
    r_.c.tx_200.fetch_add(1, std::memory_order_relaxed);
    finish(s, from);
  }

  void forbid(const Request& q, const sockaddr_in& from) {
    std::string& s = begin_response(q, 403, "Forbidden");
    r_.c.tx_403.fetch_add(1, std::memory_order_relaxed);
    finish(s, from);
  }

  void send_batch() {
    send_all<kBurst * 2>(r_.fd, tx_.data(), dest_.data(), ntx_);
    ntx_ = 0;
  }

  void flush_delayed() {
    if (delayed_.empty()) return;
    const std::uint64_t n = now_ns();
    while (!delayed_.empty() && delayed_.front().due_ns <= n) {
      Pending& p = delayed_.front();
      ::sendto(r_.fd, p.bytes.data(), p.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to);
      if (chance(o_.dup_pct)) {
        ::sendto(r_.fd, p.bytes.data(), p.bytes.size(), 0, reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to);
        r_.c.duplicated.fetch_add(1, std::memory_order_relaxed);
      }
      delayed_.pop_front();
    }
  }

  const Options& o_;
  Registrar& r_;
  const std::unordered_map<std::string, std::string>& creds_;
  std::mt19937_64 rng_;
  std::string key_;
  auth::Hasher hasher_;
  std::array<std::vector<char>, kBurst> rx_;
  std::array<std::array<char, 64>, kBurst> ctl_{};
  std::int64_t kernel_ns_ = 0;
  std::array<std::string, kBurst * 2> tx_;
  std::array<sockaddr_in, kBurst * 2> dest_{};
  int ntx_ = 0;
  std::deque<Pending> delayed_;
  static constexpr std::size_t kSeen = 1u << 20;
  std::vector<std::uint64_t> seen_ = std::vector<std::uint64_t>(kSeen, 0);
};

// ---- command line, CSV, summary ---------------------------------------------------------------

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: regfront-registrar-emu --ports P1[,P2…] | --base-port P --count N\n"
               "         [--address IP] [--realms R1,R2… | --realm-prefix PFX (realm PFX1…)]\n"
               "         [--algorithm MD5|SHA-256] [--credentials FILE | --password-prefix PFX]\n"
               "         [--expires S] [--delay-ms MS] [--drop-pct P] [--dup-pct P] [--423 MIN]\n"
               "         [--503 RETRY_AFTER] [--down] [--outage I1,I2…] [--nonce-ttl S]\n"
               "         [--duration S] [--csv FILE] [--summary FILE]\n"
               "  Credentials: FILE lines \"username password\"; without one the password of U is\n"
               "  PFX+U (default pw-U). --outage: 1-based registrar indexes that SIGUSR1 takes down\n"
               "  and SIGUSR2 brings back. CSV: t,registrar,port,<counters of that second>.\n"
               "  At exit: one line REGFRONT-EMU {json} with totals, 401→REGISTER latency and new\n"
               "  REGISTERs per second of kernel receive time (new_by_kernel_second).\n");
  std::exit(rc);
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t c = s.find(',', pos);
    if (c == std::string::npos) c = s.size();
    if (c > pos) out.push_back(s.substr(pos, c - pos));
    pos = c + 1;
  }
  return out;
}

std::uint64_t percentile(const Registrar& r, double p) {
  if (r.latency_samples == 0) return 0;
  const std::uint64_t want = static_cast<std::uint64_t>(p * static_cast<double>(r.latency_samples - 1)) + 1;
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i <= kLatBuckets; ++i) {
    seen += r.latency_us[i];
    if (seen >= want) return bucket_us(i);
  }
  return bucket_us(kLatBuckets);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  int base_port = 0, count = 0;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--ports") for (auto& p : split(val())) o.ports.push_back(static_cast<std::uint16_t>(std::stoi(p)));
    else if (a == "--base-port") base_port = std::stoi(val());
    else if (a == "--count") count = std::stoi(val());
    else if (a == "--address") o.address = val();
    else if (a == "--realms") o.realms = split(val());
    else if (a == "--realm-prefix") o.realm_prefix = val();
    else if (a == "--algorithm") {
      std::string v = val();
      if (v == "MD5") o.algorithm = auth::Algorithm::md5;
      else if (v == "SHA-256") o.algorithm = auth::Algorithm::sha256;
      else usage(2);
    } else if (a == "--credentials") o.credentials_file = val();
    else if (a == "--password-prefix") o.password_prefix = val();
    else if (a == "--expires") o.expires = std::stoi(val());
    else if (a == "--delay-ms") o.delay_ms = std::stod(val());
    else if (a == "--drop-pct") o.drop_pct = std::stod(val());
    else if (a == "--dup-pct") o.dup_pct = std::stod(val());
    else if (a == "--423") o.min_expires = std::stoi(val());
    else if (a == "--503") o.retry_after = std::stoi(val());
    else if (a == "--down") o.down = true;
    else if (a == "--outage") for (auto& x : split(val())) o.outage.push_back(std::stoi(x));
    else if (a == "--nonce-ttl") o.nonce_ttl = std::stoi(val());
    else if (a == "--duration") o.duration = std::stod(val());
    else if (a == "--csv") o.csv = val();
    else if (a == "--summary") o.summary = val();
    else if (a == "-h" || a == "--help") usage(0);
    else usage(2);
  }
  if (o.ports.empty() && base_port > 0)
    for (int k = 0; k < std::max(count, 1); ++k) o.ports.push_back(static_cast<std::uint16_t>(base_port + k));
  if (o.ports.empty()) usage(2);

  std::unordered_map<std::string, std::string> creds;
  if (!o.credentials_file.empty()) {
    std::ifstream in(o.credentials_file);
    if (!in) { std::fprintf(stderr, "registrar-emu: cannot read %s\n", o.credentials_file.c_str()); return 1; }
    std::string u, p;
    while (in >> u >> p) creds[u] = p;
  }

  std::vector<Registrar> regs(o.ports.size());
  for (std::size_t k = 0; k < regs.size(); ++k) {
    Registrar& r = regs[k];
    r.index = static_cast<int>(k) + 1;
    r.port = o.ports[k];
    r.realm = k < o.realms.size() ? o.realms[k] : o.realm_prefix + std::to_string(k + 1);
    r.fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    int on = 1;
    ::setsockopt(r.fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    int buf = 16 << 20;
    ::setsockopt(r.fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    ::setsockopt(r.fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(r.port);
    if (::inet_pton(AF_INET, o.address.c_str(), &sa.sin_addr) != 1 ||
        ::bind(r.fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
      std::fprintf(stderr, "registrar-emu: cannot bind %s:%u: %s\n", o.address.c_str(), r.port, std::strerror(errno));
      return 1;
    }
  }

  std::signal(SIGINT, on_stop);
  std::signal(SIGTERM, on_stop);
  std::signal(SIGUSR1, on_usr1);
  std::signal(SIGUSR2, on_usr2);

  std::FILE* csv = nullptr;
  if (!o.csv.empty()) {
    csv = std::fopen(o.csv.c_str(), "w");
    if (!csv) { std::fprintf(stderr, "registrar-emu: cannot write %s\n", o.csv.c_str()); return 1; }
    std::fprintf(csv, "t,registrar,port,outage");
#define EMU_HDR(n) std::fprintf(csv, "," #n);
    EMU_COUNTERS(EMU_HDR)
#undef EMU_HDR
    std::fprintf(csv, "\n");
    std::fflush(csv);
  }

  {
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    g_start_realtime_ns = static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
  }
  std::vector<std::thread> threads;
  std::vector<std::unique_ptr<Worker>> workers;
  std::random_device rd;
  for (auto& r : regs) {
    workers.push_back(std::make_unique<Worker>(o, r, creds, (static_cast<std::uint64_t>(rd()) << 32) ^ r.port));
  }
  for (auto& w : workers) threads.emplace_back([&w] { w->run(); });
  std::fprintf(stdout, "registrar-emu: %zu registrar(s) on %s ports", regs.size(), o.address.c_str());
  for (auto& r : regs) std::fprintf(stdout, " %u(%s)", r.port, r.realm.c_str());
  std::fprintf(stdout, "\n");
  std::fflush(stdout);

  const std::uint64_t t0 = now_ns();
  std::vector<std::array<std::uint64_t, 32>> last(regs.size());
  for (auto& l : last) l.fill(0);
  std::uint64_t next = t0 + 1000000000ull;
  while (!g_stop) {
    const std::uint64_t n = now_ns();
    if (o.duration > 0 && n - t0 >= static_cast<std::uint64_t>(o.duration * 1e9)) break;
    if (n < next) {
      ::usleep(static_cast<useconds_t>(std::min<std::uint64_t>((next - n) / 1000, 50000)));
      continue;
    }
    const double t = static_cast<double>(next - t0) / 1e9;
    next += 1000000000ull;
    if (!csv) continue;
    for (std::size_t k = 0; k < regs.size(); ++k) {
      const bool out = std::find(o.outage.begin(), o.outage.end(), regs[k].index) != o.outage.end() &&
                       g_outage.load();
      std::fprintf(csv, "%.0f,%d,%u,%d", t, regs[k].index, regs[k].port, (o.down || out) ? 1 : 0);
      std::size_t j = 0;
#define EMU_ROW(nm) { std::uint64_t v = regs[k].c.nm.load(std::memory_order_relaxed); \
                      std::fprintf(csv, ",%llu", static_cast<unsigned long long>(v - last[k][j])); \
                      last[k][j++] = v; }
      EMU_COUNTERS(EMU_ROW)
#undef EMU_ROW
      std::fprintf(csv, "\n");
    }
    std::fflush(csv);
  }
  g_stop = 1;
  for (auto& th : threads) th.join();
  if (csv) std::fclose(csv);

  std::string js = "{\"registrars\": [";
  for (std::size_t k = 0; k < regs.size(); ++k) {
    const Registrar& r = regs[k];
    if (k) js += ", ";
    js += "{\"index\": " + std::to_string(r.index) + ", \"port\": " + std::to_string(r.port) +
          ", \"realm\": \"" + r.realm + "\"";
#define EMU_JS(nm) js += ", \"" #nm "\": " + std::to_string(r.c.nm.load());
    EMU_COUNTERS(EMU_JS)
#undef EMU_JS
    js += ", \"latency_samples\": " + std::to_string(r.latency_samples) +
          ", \"nonce_reused\": " + std::to_string(r.nonce_reused) +
          ", \"latency_p50_us\": " + std::to_string(percentile(r, 0.50)) +
          ", \"latency_p99_us\": " + std::to_string(percentile(r, 0.99)) +
          ", \"latency_max_us\": " + std::to_string(percentile(r, 1.0));
    std::size_t last_sec = 0;
    for (std::size_t i = 0; i < kKernelSeconds; ++i)
      if (r.new_by_kernel_second[i]) last_sec = i + 1;
    js += ", \"new_by_kernel_second\": [";
    for (std::size_t i = 0; i < last_sec; ++i) {
      if (i) js += ',';
      js += std::to_string(r.new_by_kernel_second[i]);
    }
    js += "]}";
  }
  // All registrars merged.
  Registrar all;
  for (auto& r : regs) {
    for (std::size_t i = 0; i <= kLatBuckets; ++i) all.latency_us[i] += r.latency_us[i];
    all.latency_samples += r.latency_samples;
  }
  js += "], \"latency_samples\": " + std::to_string(all.latency_samples) +
        ", \"latency_p50_us\": " + std::to_string(percentile(all, 0.50)) +
        ", \"latency_p99_us\": " + std::to_string(percentile(all, 0.99)) +
        ", \"latency_p999_us\": " + std::to_string(percentile(all, 0.999)) + "}";
  std::fprintf(stdout, "REGFRONT-EMU %s\n", js.c_str());
  std::fflush(stdout);
  if (!o.summary.empty()) {
    std::FILE* f = std::fopen(o.summary.c_str(), "w");
    if (f) { std::fprintf(f, "%s\n", js.c_str()); std::fclose(f); }
  }
  for (auto& r : regs) ::close(r.fd);
  return 0;
}
