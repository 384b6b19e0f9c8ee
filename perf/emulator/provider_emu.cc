// regfront-provider-emu — a provider and its far end in one, for the relayed-calls scenario
// (perf/scenarios/calls.py --provider emu): lighter than Kamailio + SIPp, so that the relay under
// test, not the provider, is what runs out first on a small machine.
//
// A test instrument, not a proxy: no transaction or dialog state. One UDP socket, one thread,
// batches of datagrams with recvmmsg/sendmmsg. Requests only (responses are ignored):
//
//   INVITE without Proxy-Authorization -> 407, Proxy-Authenticate: Digest realm, nonce,
//                                         qop="auth", algorithm (MD5 or SHA-256)
//   INVITE with Proxy-Authorization    -> nonce checked statelessly (keyed hash of its time and of
//                                         the challenged INVITE's CSeq), response recomputed from
//                                         H(user:realm:password) -> 200 OK with SDP, Contact here;
//                                         403 when wrong; 400 when its CSeq is not the challenged
//                                         one + 1 (RFC 3261 §22.2)
//   ACK (of the 2xx)                   -> its CSeq must be the INVITE's (§13.2.2.4): counted
//   BYE                                -> 200 when its CSeq is above the INVITE's (§12.2.2), else
//                                         500 (the caller's call fails)
//   CANCEL, OPTIONS                    -> 200
//   REGISTER                           -> 200, Expires: 3600, unchallenged (the relay's binding:
//                                         regfrontd places calls only through a live one)
//
// No 180: without state the 2xx is never retransmitted, so the caller's INVITE transaction must
// stay in Timer A (no provisional response) to recover a lost 200 by retransmitting the INVITE,
// which gets the same 200 again. The INVITE's CSeq travels in the To tag of the 200
// ("p<cseq hex>-<hash of the Call-ID>"), so the ACK and the BYE are checked without state.
// At exit (SIGINT/SIGTERM) one line REGFRONT-PROVIDER-EMU {json} of counters, also to --summary.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <string_view>

#include "regfront/auth/digest.h"
#include "sip_scan.h"

namespace {

namespace auth = regfront::auth;
using namespace regfront::emu;

volatile std::sig_atomic_t g_stop = 0;
void on_stop(int) { g_stop = 1; }

struct Options {
  std::string address = "127.0.0.1";
  std::uint16_t port = 0;
  std::string realm = "provider.perf";
  std::string user, password;            // the one account; empty user = any, password pw-<user>
  auth::Algorithm algorithm = auth::Algorithm::md5;
  std::string summary;
};

#define PROVIDER_EMU_COUNTERS(X)                                                       \
  X(invites) X(challenged) X(answered) X(auth_failed) X(cseq_not_plus_one) X(acks)     \
  X(ack_cseq_wrong) X(byes) X(bye_cseq_wrong) X(registers) X(other) X(malformed)

struct Counters {
#define FIELD(n) std::uint64_t n = 0;
  PROVIDER_EMU_COUNTERS(FIELD)
#undef FIELD
};

// ---- SIP reading beyond sip_scan.h ------------------------------------------------------------

std::string_view to_tag(std::string_view to) {
  const std::size_t t = to.find(";tag=");
  if (t == std::string_view::npos) return {};
  std::string_view tag = to.substr(t + 5);
  const std::size_t end = tag.find(';');
  return end == std::string_view::npos ? tag : tag.substr(0, end);
}

std::uint32_t fnv32(std::string_view s) {
  std::uint32_t h = 2166136261u;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 16777619u;
  return h;
}

// ---- the socket -----------------------------------------------------------------------------------

constexpr int kBurst = 64;
constexpr std::size_t kMaxDatagram = 4096;

class Provider {
 public:
  Provider(const Options& o, int fd) : o_(o), fd_(fd) {
    std::mt19937_64 k(std::random_device{}());
    for (int i = 0; i < 4; ++i) key_ += std::to_string(k());
    for (auto& b : rx_) b.resize(kMaxDatagram);
    local_ = o.address + ":" + std::to_string(o.port);
  }

  void run() {
    pollfd pfd{fd_, POLLIN, 0};
    while (!g_stop) {
      if (::poll(&pfd, 1, 100) <= 0) continue;
      mmsghdr msgs[kBurst];
      iovec iov[kBurst];
      sockaddr_in from[kBurst];
      for (int i = 0; i < kBurst; ++i) {
        iov[i] = {rx_[i].data(), rx_[i].size()};
        std::memset(&msgs[i], 0, sizeof msgs[i]);
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
        msgs[i].msg_hdr.msg_name = &from[i];
        msgs[i].msg_hdr.msg_namelen = sizeof from[i];
      }
      const int n = ::recvmmsg(fd_, msgs, kBurst, MSG_DONTWAIT, nullptr);
      for (int i = 0; i < n; ++i) handle(std::string_view(rx_[i].data(), msgs[i].msg_len), from[i]);
      send_batch();
    }
  }

  const Counters& counters() const { return c_; }

 private:
  // nonce = 16 hex: time, 8 hex: the challenged CSeq, then H(key:time:cseq:realm).
  std::string_view make_nonce(std::uint64_t t, std::uint32_t cseq, char* out) {
    char head[25];
    std::snprintf(head, sizeof head, "%016llx%08x", static_cast<unsigned long long>(t), cseq);
    std::memcpy(out, head, 24);
    const std::size_t n = hasher_.hash_joined_hex(auth::Hash::md5, {key_, std::string_view(head, 24), o_.realm}, out + 24);
    return {out, 24 + n};
  }
  // The challenged CSeq of a nonce made here, or false.
  bool check_nonce(std::string_view nonce, std::uint32_t& cseq) {
    if (nonce.size() != 56) return false;
    char buf[80];
    const std::string head(nonce.substr(0, 24));
    const std::uint64_t t = std::strtoull(head.substr(0, 16).c_str(), nullptr, 16);
    cseq = static_cast<std::uint32_t>(std::strtoul(head.substr(16).c_str(), nullptr, 16));
    return make_nonce(t, cseq, buf) == nonce;
  }

  static void add(std::string& s, std::string_view v) { s.append(v.data(), v.size()); }

  std::string& begin_response(const Request& q, int code, std::string_view reason, std::string_view tag,
                              bool record_route) {
    std::string& s = tx_[ntx_];
    s.clear();
    s += "SIP/2.0 ";
    s += std::to_string(code);
    s += ' ';
    add(s, reason);
    s += "\r\n";
    for (int i = 0; i < q.vias; ++i) { s += "Via: "; add(s, q.via[i]); s += "\r\n"; }
    if (record_route) {
      for (int i = 0; i < q.rrs; ++i) { s += "Record-Route: "; add(s, q.record_route[i]); s += "\r\n"; }
    }
    s += "From: "; add(s, q.from); s += "\r\n";
    s += "To: "; add(s, q.to);
    if (to_tag(q.to).empty() && !tag.empty()) { s += ";tag="; add(s, tag); }
    s += "\r\n";
    s += "Call-ID: "; add(s, q.call_id); s += "\r\n";
    s += "CSeq: "; add(s, q.cseq); s += "\r\n";
    return s;
  }
  void finish(std::string& s, const sockaddr_in& to, std::string_view body = {}) {
    s += "Server: regfront-provider-emu\r\n";
    if (!body.empty()) s += "Content-Type: application/sdp\r\n";
    s += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
    add(s, body);
    dest_[ntx_] = to;
    if (++ntx_ == kBurst * 2) send_batch();
  }
  void reply(const Request& q, const sockaddr_in& from, int code, std::string_view reason) {
    finish(begin_response(q, code, reason, "pe", false), from);
  }

  void handle(std::string_view msg, const sockaddr_in& from) {
    Request q;
    if (!scan_request(msg, q)) {
      ++c_.malformed;
      return;
    }
    const std::string_view tag = to_tag(q.to);
    if (q.method == "INVITE" && tag.empty()) return on_invite(q, from);
    if (q.method == "ACK") {
      std::uint32_t invite_cseq;
      if (ours(tag, invite_cseq)) {
        ++c_.acks;
        if (q.cseq_number != invite_cseq) ++c_.ack_cseq_wrong;
      }
      return;
    }
    if (q.method == "REGISTER") {  // the relay's binding (session target registrar needs one)
      ++c_.registers;
      std::string& s = begin_response(q, 200, "OK", "pe", false);
      s += "Expires: 3600\r\n";
      return finish(s, from);
    }
    if (q.method == "BYE") {
      ++c_.byes;
      std::uint32_t invite_cseq;
      if (ours(tag, invite_cseq) && q.cseq_number <= invite_cseq) {
        ++c_.bye_cseq_wrong;
        return reply(q, from, 500, "CSeq Not Above The INVITE's");
      }
      return reply(q, from, 200, "OK");
    }
    ++c_.other;
    if (q.method == "CANCEL" || q.method == "OPTIONS") return reply(q, from, 200, "OK");
    reply(q, from, 405, "Method Not Allowed");
  }
  // A To tag this emulator gave a 200: "p<INVITE CSeq, hex>-<hash>".
  static bool ours(std::string_view tag, std::uint32_t& cseq) {
    if (tag.size() < 3 || tag[0] != 'p') return false;
    const std::size_t dash = tag.find('-');
    if (dash == std::string_view::npos) return false;
    cseq = static_cast<std::uint32_t>(std::strtoul(std::string(tag.substr(1, dash - 1)).c_str(), nullptr, 16));
    return true;
  }

  void on_invite(const Request& q, const sockaddr_in& from) {
    ++c_.invites;
    if (q.proxy_authorization.empty()) {
      ++c_.challenged;
      std::string& s = begin_response(q, 407, "Proxy Authentication Required", "pe", false);
      char nb[96];
      s += "Proxy-Authenticate: Digest realm=\"" + o_.realm + "\", nonce=\"";
      add(s, make_nonce(now_ns(), q.cseq_number, nb));
      s += "\", qop=\"auth\", algorithm=";
      add(s, auth::algorithm_name(o_.algorithm));
      s += "\r\n";
      return finish(s, from);
    }
    AuthParams a;
    std::uint32_t challenged_cseq = 0;
    auth::Algorithm alg = auth::Algorithm::md5;
    if (!parse_authorization(q.proxy_authorization, a) || a.realm != o_.realm || !check_nonce(a.nonce, challenged_cseq) ||
        (!o_.user.empty() && a.username != o_.user)) {
      ++c_.auth_failed;
      return reply(q, from, 403, "Forbidden");
    }
    if (ieq(a.algorithm, "SHA-256")) alg = auth::Algorithm::sha256;
    std::string password = o_.password;
    if (o_.user.empty()) password = "pw-" + std::string(a.username);
    char ha1[auth::kMaxHexLength], expect[auth::kMaxHexLength];
    const std::size_t hl = hasher_.hash_joined_hex(auth::base_hash(alg), {a.username, o_.realm, password}, ha1);
    const std::size_t el = hasher_.response(alg, std::string_view(ha1, hl), a.nonce, a.nc, a.cnonce,
                                            a.qop.empty() ? auth::Qop::none : auth::Qop::auth, "INVITE", a.uri, "",
                                            expect);
    if (std::string_view(expect, el) != a.response) {
      ++c_.auth_failed;
      return reply(q, from, 403, "Forbidden");
    }
    if (q.cseq_number != challenged_cseq + 1) {
      ++c_.cseq_not_plus_one;
      return reply(q, from, 400, "CSeq Not The Challenged One Plus One");
    }
    ++c_.answered;
    char tag[32];
    std::snprintf(tag, sizeof tag, "p%x-%08x", q.cseq_number, fnv32(q.call_id));
    std::string& s = begin_response(q, 200, "OK", tag, true);
    s += "Contact: <sip:far@" + local_ + ">\r\nAllow: INVITE, ACK, BYE, CANCEL, OPTIONS\r\n";
    static constexpr std::string_view kSdp =
        "v=0\r\no=far 2002 1 IN IP4 127.0.0.1\r\ns=far\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
        "m=audio 30000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    finish(s, from, kSdp);
  }

  void send_batch() {
    send_all<kBurst * 2>(fd_, tx_.data(), dest_.data(), ntx_);
    ntx_ = 0;
  }

  const Options& o_;
  int fd_;
  std::string key_, local_;
  auth::Hasher hasher_;
  Counters c_;
  std::array<std::string, kBurst> rx_;
  std::array<std::string, kBurst * 2> tx_;
  std::array<sockaddr_in, kBurst * 2> dest_{};
  int ntx_ = 0;
};

[[noreturn]] void usage(int rc) {
  std::fprintf(rc ? stderr : stdout,
               "usage: regfront-provider-emu --port P [--address IP] [--realm R]\n"
               "         [--user U --password PW] [--algorithm MD5|SHA-256] [--summary FILE]\n"
               "  Without --user every username is accepted with the password pw-<username>.\n"
               "  At exit (SIGINT/SIGTERM): REGFRONT-PROVIDER-EMU {json counters}.\n");
  std::exit(rc);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--port") o.port = static_cast<std::uint16_t>(std::atoi(value().c_str()));
    else if (a == "--address") o.address = value();
    else if (a == "--realm") o.realm = value();
    else if (a == "--user") o.user = value();
    else if (a == "--password") o.password = value();
    else if (a == "--summary") o.summary = value();
    else if (a == "--algorithm") {
      const std::string v = value();
      if (v == "MD5") o.algorithm = auth::Algorithm::md5;
      else if (v == "SHA-256") o.algorithm = auth::Algorithm::sha256;
      else usage(2);
    } else if (a == "--help" || a == "-h") usage(0);
    else usage(2);
  }
  if (o.port == 0) usage(2);
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(o.port);
  if (fd < 0 || inet_pton(AF_INET, o.address.c_str(), &sin.sin_addr) != 1 ||
      ::bind(fd, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) {
    std::perror("regfront-provider-emu: socket");
    return 1;
  }
  const int rcvbuf = 4 << 20;  // bursts of a few thousand datagrams (capped by rmem_max)
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  std::signal(SIGINT, on_stop);
  std::signal(SIGTERM, on_stop);
  Provider p(o, fd);
  p.run();
  const Counters& c = p.counters();
  std::string json = "{";
#define JSON(n) json += std::string(json.size() > 1 ? ", " : "") + "\"" #n "\": " + std::to_string(c.n);
  PROVIDER_EMU_COUNTERS(JSON)
#undef JSON
  json += "}";
  std::printf("REGFRONT-PROVIDER-EMU %s\n", json.c_str());
  if (!o.summary.empty()) {
    if (FILE* f = std::fopen(o.summary.c_str(), "w")) {
      std::fprintf(f, "%s\n", json.c_str());
      std::fclose(f);
    }
  }
  return 0;
}
