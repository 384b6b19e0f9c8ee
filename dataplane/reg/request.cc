// REGISTER builder: memcpy of literal pieces and views, digit loops for integers.
#include "regfront/reg/request.h"


namespace regfront::reg {

using sip::Writer;

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

std::size_t build_options(const OptionsRequest& r, char* out, std::size_t cap) {
  Writer w(out, cap);
  w.put("OPTIONS ");
  w.put(r.request_uri);
  w.put(" SIP/2.0\r\nVia: SIP/2.0/UDP ");
  w.put(r.via_host);
  w.put(";branch=");
  w.put(r.branch);
  w.put(";rport\r\nMax-Forwards: 70\r\nFrom: <sip:");
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
  if (!r.user_agent.empty()) {
    w.put("User-Agent: ");
    w.put(r.user_agent);
    w.put("\r\n");
  }
  w.put("Content-Length: 0\r\n\r\n");
  return w.finish();
}

}  // namespace regfront::reg
