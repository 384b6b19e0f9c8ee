// regfront/sip/message.h — zero-copy SIP message parser (RFC 3261 §7, §20, §25).
//
// The parser reads one datagram and fills a caller-owned `Message` whose fields are views into
// the datagram; it never allocates and never copies. Header values are parsed lazily: `parse()`
// only splits the start line and the header fields and classifies header names; the helpers
// below (`parse_via`, `parse_cseq`, `next_contact`, …) are called on the values that matter.
//
//   regfront::sip::Header headers[regfront::sip::kMaxHeaders];
//   regfront::sip::Message msg;
//   if (regfront::sip::parse(datagram, msg, headers) == regfront::sip::ParseStatus::ok) {
//     const Header* via = msg.first(HeaderId::via);
//     ...
//   }
//
// The datagram must stay alive and unchanged while the views are used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace regfront::sip {

// Hard limits. A message beyond any of them is rejected with ParseError::limit.
inline constexpr std::size_t kMaxHeaders = 64;          // header fields (after folding)
inline constexpr std::size_t kMaxHeaderLength = 8192;   // one header field, name + value
inline constexpr std::size_t kMaxMessageLength = 65535; // one UDP datagram

enum class ParseStatus : std::uint8_t {
  ok,     // message complete; trailing octets after Content-Length ignored (RFC 3261 §18.3)
  error,  // malformed; see Message::error
};

enum class ParseError : std::uint8_t {
  none,
  empty,               // no octets, or only CRLFs (keep-alives)
  start_line,          // malformed request line or status line
  version,             // not SIP/2.0 (RFC 4475 badvers: caller answers 505 for requests)
  status_code,         // not three digits 100..699 (RFC 4475 bigcode)
  header_syntax,       // a header line without a colon, bad name token, bad folding
  truncated,           // headers do not end with an empty line
  content_length,      // non-numeric, negative, overflowing or conflicting Content-Length
  body_truncated,      // Content-Length larger than what the datagram holds (RFC 4475 clerr)
  limit,               // over kMaxHeaders / kMaxHeaderLength / kMaxMessageLength / the array
};

// Headers the engine and the relay need, recognised by long and compact form (RFC 3261 §7.3.3,
// §20).
enum class HeaderId : std::uint8_t {
  other,
  via,                  // v
  from,                 // f
  to,                   // t
  call_id,              // i
  cseq,
  contact,              // m
  expires,
  min_expires,
  retry_after,
  www_authenticate,
  proxy_authenticate,
  authorization,
  proxy_authorization,
  content_length,       // l
  content_type,         // c
  max_forwards,
  route,                // the relay pops its own entry (RFC 3261 §16.4)
  record_route,         // the relay adds its own entry (RFC 3261 §16.6 step 4)
  count_,               // number of ids; not a header
};

struct Header {
  HeaderId id = HeaderId::other;
  std::string_view name;   // as written (e.g. "v" or "Via")
  std::string_view value;  // LWS trimmed at both ends; may contain folded CRLF+WSP runs
};

struct Message {
  bool is_request = false;
  // Request line.
  std::string_view method;
  std::string_view request_uri;
  // Status line.
  std::uint16_t status = 0;
  std::string_view reason;
  // Header fields, in order; points into the caller's array.
  Header* headers = nullptr;
  std::uint16_t header_count = 0;
  // Index of the first header of each id in `headers`, or 0xff when absent.
  std::uint8_t first_index[static_cast<std::size_t>(HeaderId::count_)] = {};
  // Body: exactly Content-Length octets (or, without Content-Length, the rest of the datagram).
  std::string_view body;
  // Octets consumed (start line + headers + body); the rest of the datagram is ignored.
  std::size_t consumed = 0;
  // The message as parsed: the first `consumed` octets of the datagram (a relay keeps a copy).
  std::string_view text;
  ParseError error = ParseError::none;

  const Header* first(HeaderId id) const {
    const auto i = first_index[static_cast<std::size_t>(id)];
    return i == 0xff ? nullptr : &headers[i];
  }
};

// Parses one datagram. `headers` is the caller-owned header array (size ≤ kMaxHeaders used).
// Never reads outside `datagram`; never allocates.
ParseStatus parse(std::string_view datagram, Message& msg, std::span<Header> headers);

// ---- Value helpers (all zero-copy; each returns false on malformed input) ----

// Splits a comma-separated header value (Via, Contact, WWW-Authenticate lists) honouring quoted
// strings and <…> brackets. Call repeatedly: `pos` starts at 0 and advances; returns false
// when no element is left. Empty elements are skipped (RFC 7230 §7 #rule leniency).
// On malformed input (unterminated quoted string or <…>) it also returns false but leaves
// `pos < value.size()`, so a caller that cares can tell the two apart.
bool next_list_element(std::string_view value, std::size_t& pos, std::string_view& element);

// Iterates `;name=value` parameters of `params` (the text after the first ';'). `value` is empty
// for a flag parameter; quotes are kept (use unquote()). Returns false at the end
// (`pos == params.size()`) and on a malformed parameter (`pos < params.size()`, pointing at it).
bool next_param(std::string_view params, std::size_t& pos, std::string_view& name,
                std::string_view& value);

// Strips surrounding quotes. Quoted-pairs are left escaped (a view cannot unescape).
std::string_view unquote(std::string_view v);

struct Via {
  std::string_view protocol;   // "SIP/2.0/UDP"
  std::string_view sent_by;    // host[:port]
  std::string_view branch;     // may be empty
  std::string_view received;
  std::string_view rport;      // empty for a bare `;rport` flag (see rport_present)
  bool rport_present = false;  // added: tells `;rport` (flag) from no rport at all
};
// Parses one Via element (one element of next_list_element over the Via value).
bool parse_via(std::string_view element, Via& via);
// The branch of a message's top Via; empty when there is none or it does not parse.
std::string_view top_via_branch(const Message& m);

struct CSeq {
  std::uint32_t number = 0;    // ≤ 2^32-1 (RFC 3261 §8.1.1.5); larger is an error
  std::string_view method;
};
bool parse_cseq(std::string_view value, CSeq& cseq);

struct NameAddr {
  std::string_view display;    // may be empty; as written (a quoted display keeps its quotes)
  std::string_view uri;        // inside <…> or the bare addr-spec
  std::string_view params;     // header params after the URI (the text after ';', unparsed)
  bool wildcard = false;       // Contact: *
};
// Parses one name-addr / addr-spec element (From, To, Contact element).
bool parse_name_addr(std::string_view element, NameAddr& out);

// Parses a decimal delta-seconds (Expires, Min-Expires, Retry-After, expires param). Values
// over 2^32-1 are an error (RFC 4475 scalar02/scalarlg). Trailing comment of Retry-After and
// its ";duration" parameter are ignored.
bool parse_delta_seconds(std::string_view value, std::uint32_t& seconds);

// Case-insensitive ASCII comparison.
bool iequals(std::string_view a, std::string_view b);

// Added: the long form of a compact header name (RFC 3261 §7.3.3 and the registry of compact
// forms, e.g. 'k' -> "Supported", 's' -> "Subject", 'e' -> "Content-Encoding"), case-insensitive;
// empty when `c` is not a registered compact form.
std::string_view compact_form_long_name(char c);

// Added: classifies a header name (long or compact form, case-insensitive) as parse() does.
HeaderId classify_header_name(std::string_view name);

}  // namespace regfront::sip
