// perf/emulator/sip_scan.h — the small SIP reading the emulators share (regfront-registrar-emu,
// regfront-provider-emu), and their batched send. Written apart from regfront's own parser on purpose: an emulator that
// read messages with the code under test would agree with it by construction. Requests only,
// no header folding (no client of ours folds), views into the datagram.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace regfront::emu {

inline std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::uint64_t(ts.tv_sec) * 1000000000ull + std::uint64_t(ts.tv_nsec);
}

inline bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The headers either emulator looks at (at most 8 Via and Record-Route values are kept).
struct Request {
  std::string_view method, uri;
  std::string_view via[8], record_route[8];
  int vias = 0, rrs = 0;
  std::string_view from, to, call_id, cseq, contact, expires, authorization, proxy_authorization;
  std::uint32_t cseq_number = 0;
};

// False when `msg` is not a SIP/2.0 request with Via, From, To, Call-ID and CSeq.
inline bool scan_request(std::string_view msg, Request& r) {
  std::size_t eol = msg.find('\n');
  if (eol == std::string_view::npos) return false;
  const std::string_view line = trim(msg.substr(0, eol));
  const std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return false;
  const std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.substr(sp2 + 1) != "SIP/2.0") return false;
  r.method = line.substr(0, sp1);
  r.uri = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::size_t pos = eol + 1;
  while (pos < msg.size()) {
    eol = msg.find('\n', pos);
    if (eol == std::string_view::npos) eol = msg.size();
    std::string_view h = msg.substr(pos, eol - pos);
    pos = eol + 1;
    if (!h.empty() && h.back() == '\r') h.remove_suffix(1);
    if (h.empty()) break;
    const std::size_t colon = h.find(':');
    if (colon == std::string_view::npos) return false;
    const std::string_view name = trim(h.substr(0, colon));
    const std::string_view value = trim(h.substr(colon + 1));
    if (ieq(name, "via") || ieq(name, "v")) {
      if (r.vias < 8) r.via[r.vias++] = value;
    } else if (ieq(name, "record-route")) {
      if (r.rrs < 8) r.record_route[r.rrs++] = value;
    } else if (ieq(name, "from") || ieq(name, "f")) {
      r.from = value;
    } else if (ieq(name, "to") || ieq(name, "t")) {
      r.to = value;
    } else if (ieq(name, "call-id") || ieq(name, "i")) {
      r.call_id = value;
    } else if (ieq(name, "cseq")) {
      r.cseq = value;
    } else if (ieq(name, "contact") || ieq(name, "m")) {
      r.contact = value;
    } else if (ieq(name, "expires")) {
      r.expires = value;
    } else if (ieq(name, "authorization")) {
      r.authorization = value;
    } else if (ieq(name, "proxy-authorization")) {
      r.proxy_authorization = value;
    }
  }
  if (r.vias == 0 || r.from.empty() || r.to.empty() || r.call_id.empty() || r.cseq.empty()) return false;
  r.cseq_number = static_cast<std::uint32_t>(std::strtoul(std::string(r.cseq).c_str(), nullptr, 10));
  return true;
}

// The parameters of a Digest Authorization / Proxy-Authorization value.
struct AuthParams {
  std::string_view username, realm, nonce, uri, response, nc, cnonce, qop, algorithm;
};

inline bool parse_authorization(std::string_view v, AuthParams& a) {
  v = trim(v);
  if (v.size() < 7 || !ieq(v.substr(0, 6), "digest")) return false;
  v.remove_prefix(6);
  while (!v.empty()) {
    while (!v.empty() && (v.front() == ' ' || v.front() == ',' || v.front() == '\t')) v.remove_prefix(1);
    if (v.empty()) break;
    const std::size_t eq = v.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = trim(v.substr(0, eq));
    v.remove_prefix(eq + 1);
    v = trim(v);
    std::string_view val;
    if (!v.empty() && v.front() == '"') {
      const std::size_t q = v.find('"', 1);
      if (q == std::string_view::npos) return false;
      val = v.substr(1, q - 1);
      v.remove_prefix(q + 1);
    } else {
      const std::size_t comma = v.find(',');
      val = trim(v.substr(0, comma));
      v.remove_prefix(comma == std::string_view::npos ? v.size() : comma);
    }
    if (ieq(key, "username")) a.username = val;
    else if (ieq(key, "realm")) a.realm = val;
    else if (ieq(key, "nonce")) a.nonce = val;
    else if (ieq(key, "uri")) a.uri = val;
    else if (ieq(key, "response")) a.response = val;
    else if (ieq(key, "nc")) a.nc = val;
    else if (ieq(key, "cnonce")) a.cnonce = val;
    else if (ieq(key, "qop")) a.qop = val;
    else if (ieq(key, "algorithm")) a.algorithm = val;
  }
  return !a.username.empty() && !a.nonce.empty() && !a.response.empty() && !a.uri.empty();
}

// Sends the n datagrams out[i] to dest[i] with sendmmsg, up to kMax per call; stops at the first
// call the kernel refuses (the peer retransmits what was lost).
template <int kMax>
void send_all(int fd, const std::string* out, const sockaddr_in* dest, int n) {
  int off = 0;
  while (off < n) {
    mmsghdr m[kMax];
    iovec iov[kMax];
    int k = 0;
    for (int i = off; i < n && k < kMax; ++i, ++k) {
      iov[k] = {const_cast<char*>(out[i].data()), out[i].size()};
      std::memset(&m[k], 0, sizeof m[k]);
      m[k].msg_hdr.msg_iov = &iov[k];
      m[k].msg_hdr.msg_iovlen = 1;
      m[k].msg_hdr.msg_name = const_cast<sockaddr_in*>(&dest[i]);
      m[k].msg_hdr.msg_namelen = sizeof dest[i];
    }
    const int sent = ::sendmmsg(fd, m, static_cast<unsigned>(k), 0);
    if (sent <= 0) break;
    off += sent;
  }
}

}  // namespace regfront::emu
