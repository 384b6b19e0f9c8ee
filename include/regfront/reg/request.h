// regfront/reg/request.h — building REGISTER requests (RFC 3261 §10.2) without printf.
//
// The builder appends pieces with memcpy and writes integers with a small digit loop; it
// checks the remaining room once per piece and returns 0 when the request does not fit, so the
// caller counts a build error instead of sending a truncated request.
//
//   RegisterRequest r{.request_uri = "sip:example.com", .domain = "example.com", …};
//   std::size_t n = build_register(r, buf, sizeof buf);
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "regfront/auth/digest.h"
#include "regfront/sip/builder.h"

namespace regfront::reg {

// The Authorization (401) or Proxy-Authorization (407) header of an authenticated retry, and
// the hex writer: the SIP builder's (regfront/sip/builder.h), shared with the call relay.
using sip::AuthorizationFields;
using sip::put_hex;

struct RegisterRequest {
  std::string_view request_uri;   // "sip:registrar.example.com"
  std::string_view domain;        // AoR host: To = From = sip:number@domain
  std::string_view via_host;      // Via sent-by host:port (where responses come back)
  std::string_view contact_host;  // Contact host:port (where requests for the number go)
  std::string_view number;        // endpoint
  std::string_view branch;        // full branch including the z9hG4bK magic cookie
  std::string_view call_id;
  std::string_view from_tag;
  std::uint32_t cseq = 1;
  std::uint32_t expires = 3600;   // 0 = unregister this contact
  std::string_view user_agent;
  const AuthorizationFields* auth = nullptr;
};

// Writes the request to out[0..cap); returns its length, or 0 when it does not fit.
std::size_t build_register(const RegisterRequest& r, char* out, std::size_t cap);

// An OPTIONS keepalive of a registrar (RFC 3261 §11.1): out of any dialog, From the Via host
// (no user: it is regfront asking, not an endpoint), To the Request-URI, Accept: application/sdp.
struct OptionsRequest {
  std::string_view request_uri;  // "sip:registrar.example.com[:port]"
  std::string_view via_host;     // Via sent-by host:port
  std::string_view branch;
  std::string_view call_id;
  std::string_view from_tag;
  std::uint32_t cseq = 1;
  std::string_view user_agent;
};
std::size_t build_options(const OptionsRequest& r, char* out, std::size_t cap);

}  // namespace regfront::reg
