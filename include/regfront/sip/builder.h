// regfront/sip/builder.h — writing SIP messages without printf or allocation: a bounded writer,
// the Authorization header of a digest answer, responses to a received request, a received
// message forwarded with a proxy's edits (RFC 3261 §16.6, §16.7), and the hop-by-hop ACK and
// the CANCEL a stateful proxy sends itself (§17.1.1.3, §9.1).
//
// Every builder writes into a caller's buffer and returns the length written, or 0 when the
// message does not fit (the caller counts and drops; nothing is ever sent truncated). Input
// messages are parsed ones (regfront/sip/message.h): builders copy their header values, so the
// result does not point into the input.
//
//   char out[kMaxBuilt];
//   Forward f;
//   f.via = "SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKrc…;rport";
//   f.record_route = "<sip:192.0.2.1:5060;lr>";
//   f.decrement_max_forwards = true;
//   std::size_t n = forward(invite, out, sizeof out, f);
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "regfront/auth/digest.h"
#include "regfront/sip/message.h"

namespace regfront::sip {

// A message the builders write is at most this long (the relay's buffers are this size); a
// larger one is refused (0), and the relay answers 513.
inline constexpr std::size_t kMaxBuilt = 8192;

// Appends pieces to a fixed buffer; once a piece does not fit, everything after is dropped and
// finish() returns 0.
// Defined here, not in builder.cc: a REGISTER is dozens of puts, and on the worker's hot path
// each must inline into its builder (out of line they cost the DPDK storm a measurable share).
class Writer {
 public:
  Writer(char* out, std::size_t cap) : p_(out), begin_(out), end_(out + cap) {}
  void put(std::string_view s) {
    if (s.empty() || !ok_) return;  // an empty view may have a null data(): memcpy must not see it
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
    if (!ok_ || end_ - p_ < n) {
      ok_ = false;
      return;
    }
    while (n > 0) *p_++ = tmp[--n];
  }
  // The bytes written so far (valid while ok()).
  std::string_view written() const { return {begin_, static_cast<std::size_t>(p_ - begin_)}; }
  bool ok() const { return ok_; }
  std::size_t finish() const { return ok_ ? static_cast<std::size_t>(p_ - begin_) : 0; }

 private:
  char* p_;
  char* begin_;
  char* end_;
  bool ok_ = true;
};

// Lowercase hex of the low `digits` nibbles of v, written to out (no terminator).
inline void put_hex(std::uint64_t v, int digits, char* out) {
  constexpr char kHex[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) {
    out[i] = kHex[v & 0xf];
    v >>= 4;
  }
}
// The value of lowercase hex digits (at most 16); false on any other character. The inverse
// of put_hex, for the identifiers regfront puts in branches and Call-IDs (every response's
// branch is read with it: inline for the same reason as Writer).
inline bool parse_hex(std::string_view s, std::uint64_t& out) {
  if (s.size() > 16) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = (v << 4) | static_cast<std::uint64_t>(d);
  }
  out = v;
  return true;
}

// The Authorization (answering a 401) or Proxy-Authorization (a 407) header of a digest answer
// (RFC 3261 §22.4, RFC 7616 §3.4).
struct AuthorizationFields {
  bool proxy = false;
  std::string_view username;   // or the userhash (RFC 7616 §3.4.4) when userhash is set
  bool userhash = false;
  std::string_view realm;
  std::string_view nonce;
  std::string_view uri;
  std::string_view response;
  auth::Algorithm algorithm = auth::Algorithm::md5;
  auth::Qop qop = auth::Qop::none;
  std::string_view cnonce;     // with qop
  std::string_view nc;         // with qop: 8 hex digits
  std::string_view opaque;
  bool opaque_present = false;
};
// Writes the whole header line, CRLF included.
void put_authorization(Writer& w, const AuthorizationFields& a);

// A response to `req` (RFC 3261 §8.2.6): its Via headers, From, To (with `to_tag` added when
// the request's To has none and `to_tag` is given), Call-ID and CSeq copied; `extra` (whole
// header lines ending in CRLF, e.g. "Allow: …\r\n") and Content-Length: 0 added.
std::size_t build_response(const Message& req, std::uint16_t code, std::string_view reason, std::string_view to_tag,
                           std::string_view extra, char* out, std::size_t cap);

// How a proxy's copy of a received message differs from it. Fields left empty change nothing.
struct Forward {
  std::string_view request_uri;         // requests: the new Request-URI
  std::string_view via;                 // requests: a Via value put on top (ours)
  bool pop_via = false;                 // responses: the top Via element (ours) removed
  bool pop_route = false;               // requests: the first Route element (ours) removed
  std::string_view record_route;        // requests: a Record-Route value put on top
  bool decrement_max_forwards = false;  // requests: Max-Forwards - 1 (69 when absent)
  std::int64_t cseq_delta = 0;          // added to the CSeq number (the method is kept)
  std::string_view from_host;           // the From URI's host[:port] replaced
  bool drop_credentials = false;        // Authorization / Proxy-Authorization headers removed
  std::string_view add_headers;         // whole header lines (CRLF each), added last
};
// `m` as received (parsed from `m`'s own datagram) with `f` applied; the body is copied as is
// (Content-Length unchanged). Returns 0 when it does not fit or an edit cannot be made (a CSeq
// that would leave 0..2^31-1, a From without a sip/sips URI when from_host is set).
std::size_t forward(const Message& m, char* out, std::size_t cap, const Forward& f);

// The ACK a proxy sends for a non-2xx final response to an INVITE it forwarded (RFC 3261
// §17.1.1.3): the INVITE's Request-URI, its top Via only, its Route headers, From and Call-ID,
// the response's To (with its tag), CSeq number of the INVITE with method ACK.
std::size_t build_ack(const Message& invite, const Message& response, char* out, std::size_t cap);

// CANCEL for an INVITE a proxy forwarded (RFC 3261 §9.1): the INVITE's Request-URI, top Via,
// Route headers, From, To, Call-ID, CSeq number with method CANCEL.
std::size_t build_cancel(const Message& invite, char* out, std::size_t cap);

// The URI inside a name-addr/addr-spec header value ("<sip:a@b>;tag=x" → "sip:a@b"), and the
// `tag` parameter of a From/To value ("" when absent).
std::string_view header_uri(std::string_view value);
std::string_view tag_of(std::string_view value);
// Parts of a sip:/sips: URI: the user ("" when none), and host[:port] (without parameters).
std::string_view uri_user(std::string_view uri);
std::string_view uri_hostport(std::string_view uri);

}  // namespace regfront::sip
