// REGISTER and OPTIONS builders: memcpy of literal pieces and views, digit loops for integers.
#include "regfront/reg/request.h"

#include <string_view>

namespace regfront::reg {

using sip::Writer;

namespace {

// What every request of ours starts with: the request line, our Via (rport, RFC 3581: behind a
// NAT the registrar answers to where the request came from) and Max-Forwards.
void put_start(Writer& w, std::string_view method, std::string_view request_uri, std::string_view via_host,
               std::string_view branch) {
  w.put(method);
  w.put(" ");
  w.put(request_uri);
  w.put(" SIP/2.0\r\nVia: SIP/2.0/UDP ");
  w.put(via_host);
  w.put(";branch=");
  w.put(branch);
  w.put(";rport\r\nMax-Forwards: 70\r\n");
}

// And ends with: User-Agent when configured, no body.
void put_end(Writer& w, std::string_view user_agent) {
  if (!user_agent.empty()) {
    w.put("User-Agent: ");
    w.put(user_agent);
    w.put("\r\n");
  }
  w.put("Content-Length: 0\r\n\r\n");
}

}  // namespace

std::size_t build_register(const RegisterRequest& r, char* out, std::size_t cap) {
  Writer w(out, cap);
  put_start(w, "REGISTER", r.request_uri, r.via_host, r.branch);
  w.put("From: <sip:");
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
  put_end(w, r.user_agent);
  return w.finish();
}

std::size_t build_options(const OptionsRequest& r, char* out, std::size_t cap) {
  Writer w(out, cap);
  put_start(w, "OPTIONS", r.request_uri, r.via_host, r.branch);
  w.put("From: <sip:");
  w.put(r.via_host);
  w.put(">;tag=");
  w.put(r.from_tag);
  w.put("\r\nTo: <");
  w.put(r.request_uri);
  w.put(">\r\nCall-ID: ");
  w.put(r.call_id);
  w.put("\r\nCSeq: ");
  w.put_u32(r.cseq);
  w.put(" OPTIONS\r\nAccept: application/sdp\r\n");
  put_end(w, r.user_agent);
  return w.finish();
}

}  // namespace regfront::reg
