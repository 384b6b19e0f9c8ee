// REGISTER builder: memcpy of literal pieces and views, digit loops for integers.
#include "regfront/reg/request.h"

#include <cstring>

namespace regfront::reg {
namespace {

class Writer {
 public:
  Writer(char* out, std::size_t cap) : p_(out), begin_(out), end_(out + cap) {}
  void put(std::string_view s) {
    if (s.empty()) return;  // an empty view may have a null data(): memcpy must not see it
    if (static_cast<std::size_t>(end_ - p_) < s.size()) {
      ok_ = false;
      return;
    }
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void put_u32(std::uint32_t v) {
    char tmp[10];
    int n = 0;
    do {
      tmp[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    if (end_ - p_ < n) {
      ok_ = false;
      return;
    }
    while (n > 0) *p_++ = tmp[--n];
  }
  std::size_t finish() const { return ok_ ? static_cast<std::size_t>(p_ - begin_) : 0; }

 private:
  char* p_;
  char* begin_;
  char* end_;
  bool ok_ = true;
};

void put_authorization(Writer& w, const AuthorizationFields& a) {
  w.put(a.proxy ? "Proxy-Authorization: Digest username=\"" : "Authorization: Digest username=\"");
  w.put(a.username);
  w.put("\", realm=\"");
  w.put(a.realm);
  w.put("\", nonce=\"");
  w.put(a.nonce);
  w.put("\", uri=\"");
  w.put(a.uri);
  w.put("\", response=\"");
  w.put(a.response);
  w.put("\", algorithm=");
  w.put(auth::algorithm_name(a.algorithm));
  if (a.qop != auth::Qop::none) {
    w.put(a.qop == auth::Qop::auth ? ", qop=auth, nc=" : ", qop=auth-int, nc=");
    w.put(a.nc);
    w.put(", cnonce=\"");
    w.put(a.cnonce);
    w.put("\"");
  }
  if (a.opaque_present) {
    w.put(", opaque=\"");
    w.put(a.opaque);
    w.put("\"");
  }
  if (a.userhash) w.put(", userhash=true");
  w.put("\r\n");
}

}  // namespace

void put_hex(std::uint64_t v, int digits, char* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[v & 0xf];
    v >>= 4;
  }
}

std::size_t build_register(const RegisterRequest& r, char* out, std::size_t cap) {
  Writer w(out, cap);
  w.put("REGISTER ");
  w.put(r.request_uri);
  w.put(" SIP/2.0\r\nVia: SIP/2.0/UDP ");
  w.put(r.via_host);
  w.put(";branch=");
  w.put(r.branch);
  // rport (RFC 3581): behind a NAT the registrar answers to where the request came from.
  w.put(";rport\r\nMax-Forwards: 70\r\nFrom: <sip:");
  w.put(r.number);
  w.put("@");
  w.put(r.domain);
  w.put(">;tag=");
  w.put(r.from_tag);
  w.put("\r\nTo: <sip:");
  w.put(r.number);
  w.put("@");
  w.put(r.domain);
  w.put(">\r\nCall-ID: ");
  w.put(r.call_id);
  w.put("\r\nCSeq: ");
  w.put_u32(r.cseq);
  w.put(" REGISTER\r\nContact: <sip:");
  w.put(r.number);
  w.put("@");
  w.put(r.contact_host);
  w.put(">\r\nExpires: ");
  w.put_u32(r.expires);
  w.put("\r\n");
  if (r.auth != nullptr) put_authorization(w, *r.auth);
  if (!r.user_agent.empty()) {
    w.put("User-Agent: ");
    w.put(r.user_agent);
    w.put("\r\n");
  }
  w.put("Content-Length: 0\r\n\r\n");
  return w.finish();
}

}  // namespace regfront::reg
