// dataplane/sip/parser.cc — zero-copy SIP message parser (see include/regfront/sip/message.h).
//
// How it reads a datagram, in one forward pass:
//   1. skip CRLFs before the start line (RFC 3261 §7.5), split the start line;
//   2. for each header field: scan the name with the token table, expect ':', then find the end
//      of the field with find_eol() (the only bulk scan; SSE2 with a scalar tail), following
//      folded continuation lines; classify the name; remember Content-Length;
//   3. frame the body with Content-Length (UDP: trailing octets ignored, RFC 3261 §18.3).
// Header values are not looked at beyond their line ends; the helpers at the bottom parse the
// few values the engine needs, on demand.
//
// Line endings: strict CRLF. RFC 3261 §7 says the start line, each header line and the empty
// line MUST end with CRLF; a bare LF or a bare CR before the end of the headers is an error
// (start_line / header_syntax). Registrars we talk to all send CRLF, and accepting bare LF
// would make the framing of a folded value ambiguous. The body is opaque octets.
//
// Bounds: every read is guarded by a `p < end` (or `i < n`) test in the loop that performs it;
// find_eol() is the only function that reads more than one octet at a time and it only loads a
// 16-octet block while 16 octets remain. Nothing here allocates or throws.
#include "regfront/sip/message.h"

#include <cstring>

#include "chars.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace regfront::sip {
namespace {

using detail::is;
using detail::kDigit;
using detail::kHost;
using detail::kHostName;
using detail::kLws;
using detail::kParamValue;
using detail::kToken;
using detail::kUri;
using detail::kWsp;
using detail::lower;

constexpr std::size_t kNpos = std::string_view::npos;
constexpr std::uint64_t kMaxU32 = 0xffffffffULL;

// First CR or LF in [p, end), or `end`.
inline const char* find_eol(const char* p, const char* end) {
#if defined(__SSE2__)
  const __m128i cr = _mm_set1_epi8('\r');
  const __m128i lf = _mm_set1_epi8('\n');
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    const int mask = _mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, lf)));
    if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
    p += 16;
  }
#endif
  while (p < end && *p != '\r' && *p != '\n') ++p;
  return p;
}

// First octet of [i, s.size()) that can end or nest a list element: ',' '"' '<' '>'.
// Same bounds rule as find_eol(): 16-octet loads only while 16 octets remain.
inline std::size_t find_list_special(std::string_view s, std::size_t i) {
  const std::size_t n = s.size();
#if defined(__SSE2__)
  const __m128i comma = _mm_set1_epi8(',');
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i lt = _mm_set1_epi8('<');
  const __m128i gt = _mm_set1_epi8('>');
  while (n - i >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s.data() + i));
    const __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, comma), _mm_cmpeq_epi8(v, quote)),
                                     _mm_or_si128(_mm_cmpeq_epi8(v, lt), _mm_cmpeq_epi8(v, gt)));
    const int mask = _mm_movemask_epi8(hit);
    if (mask != 0) return i + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(mask)));
    i += 16;
  }
#endif
  while (i < n && s[i] != ',' && s[i] != '"' && s[i] != '<' && s[i] != '>') ++i;
  return i;
}

inline ParseStatus fail(Message& msg, ParseError e) {
  msg.error = e;
  return ParseStatus::error;
}

std::string_view trim_lws(std::string_view s) {
  std::size_t b = 0;
  std::size_t e = s.size();
  while (b < e && is(s[b], kLws)) ++b;
  while (e > b && is(s[e - 1], kLws)) --e;
  return s.substr(b, e - b);
}

inline std::size_t skip_lws(std::string_view s, std::size_t i) {
  while (i < s.size() && is(s[i], kLws)) ++i;
  return i;
}

// s[i] == '"'. Returns the index just past the closing quote, or kNpos when unterminated.
// quoted-pair = "\" (any octet but CR/LF) (RFC 3261 §25.1); a backslash escapes the next octet.
std::size_t scan_quoted(std::string_view s, std::size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      if (++i == s.size()) return kNpos;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return kNpos;
}

// Decimal digits at s[i…]. Leading zeros are allowed (RFC 4475 §3.1.1.1 "0009"). Fails on no
// digit or a value over `max`; `i` ends after the digits.
bool scan_number(std::string_view s, std::size_t& i, std::uint64_t max, std::uint64_t& out) {
  const std::size_t start = i;
  std::uint64_t v = 0;
  while (i < s.size() && is(s[i], kDigit)) {
    v = v * 10 + static_cast<std::uint64_t>(s[i] - '0');
    if (v > max) return false;  // stops before v can overflow: max ≤ 2^32-1
    ++i;
  }
  out = v;
  return i != start;
}

// SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT (RFC 3261 §25.1; literal strings in ABNF are
// case-insensitive, RFC 5234 §2.3). Anything shaped like a version but not 2.0 is `version`
// (the caller answers 505, RFC 3261 §8.2.2 / RFC 4475 §3.1.2.16); anything else is a broken line.
ParseError check_version(std::string_view v) {
  if (v.size() < 4 || !iequals(v.substr(0, 4), "SIP/")) return ParseError::start_line;
  if (v.size() == 7 && v[4] == '2' && v[5] == '.' && v[6] == '0') return ParseError::none;
  std::size_t i = 4;
  std::uint64_t ignored = 0;
  if (!scan_number(v, i, kMaxU32, ignored) || i >= v.size() || v[i] != '.') {
    return ParseError::start_line;
  }
  ++i;
  if (!scan_number(v, i, kMaxU32, ignored) || i != v.size()) return ParseError::start_line;
  return ParseError::version;
}

ParseError parse_request_line(std::string_view line, Message& msg) {
  msg.is_request = true;
  // Request-Line = Method SP Request-URI SP SIP-Version CRLF, exactly one SP each (RFC 3261
  // §7.1, §25.1). Strict: RFC 4475 §3.1.2.9 (lwsstart) and §3.1.2.10 (trws) allow rejecting
  // extra SP, and a UA client only ever receives requests it may refuse.
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n && is(line[i], kToken)) ++i;  // Method = token (RFC 3261 §25.1)
  if (i == 0 || i == n || line[i] != ' ') return ParseError::start_line;
  msg.method = line.substr(0, i);
  const std::size_t u = ++i;
  // Request-URI: no SP/CTL and none of < > " (RFC 3261 §25.1; RFC 4475 §3.1.2.7 ltgtruri and
  // §3.1.2.8 lwsruri are rejected here). The URI itself is not parsed.
  while (i < n && is(line[i], kUri)) ++i;
  if (i == u || i == n || line[i] != ' ') return ParseError::start_line;
  msg.request_uri = line.substr(u, i - u);
  // Request-URI = SIP-URI / SIPS-URI / absoluteURI: always "scheme:" (RFC 3261 §25.1).
  const std::size_t colon = msg.request_uri.find(':');
  if (colon == kNpos || colon == 0) return ParseError::start_line;
  return check_version(line.substr(i + 1));
}

ParseError parse_status_line(std::string_view line, Message& msg) {
  // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF (RFC 3261 §7.2, §25.1).
  msg.is_request = false;
  const std::size_t sp = line.find(' ');
  if (sp == kNpos) {
    const ParseError e = check_version(line);
    return e == ParseError::version ? e : ParseError::start_line;
  }
  if (const ParseError e = check_version(line.substr(0, sp)); e != ParseError::none) return e;
  std::size_t i = sp + 1;
  const std::size_t start = i;
  std::uint64_t code = 0;
  // Status-Code = 3DIGIT, 100..699 (RFC 3261 §7.2); RFC 4475 §3.1.2.19 bigcode: 4294967301.
  const bool digits = scan_number(line, i, 999, code);
  if (!digits || i - start != 3 || code < 100 || code > 699) return ParseError::status_code;
  msg.status = static_cast<std::uint16_t>(code);
  if (i == line.size()) {
    // Lenient: "SIP/2.0 200" without the SP before an empty reason. RFC 3261 §25.1 wants the
    // SP, but the reason phrase carries nothing a UA acts on (RFC 3261 §21) and some
    // registrars omit it.
    return ParseError::none;
  }
  if (line[i] != ' ') return ParseError::status_code;
  // Reason-Phrase: any octets up to CRLF, UTF-8 included (RFC 3261 §25.1, RFC 4475 §3.1.1.12
  // unreason, §3.1.1.13 noreason: empty).
  msg.reason = line.substr(i + 1);
  return ParseError::none;
}

bool icase_eq_lit(std::string_view a, const char* lit, std::size_t n) {
  return a.size() == n && iequals(a, std::string_view(lit, n));
}
#define REGFRONT_IS(name, lit) icase_eq_lit(name, lit, sizeof(lit) - 1)

}  // namespace

// ---------------------------------------------------------------------------------------------

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string_view compact_form_long_name(char c) {
  // RFC 3261 §7.3.3 / §20 and the IANA "Header Fields" registry's compact forms.
  switch (lower(c)) {
    case 'a': return "Accept-Contact";
    case 'b': return "Referred-By";
    case 'c': return "Content-Type";
    case 'd': return "Request-Disposition";
    case 'e': return "Content-Encoding";
    case 'f': return "From";
    case 'i': return "Call-ID";
    case 'j': return "Reject-Contact";
    case 'k': return "Supported";
    case 'l': return "Content-Length";
    case 'm': return "Contact";
    case 'n': return "Identity-Info";
    case 'o': return "Event";
    case 'r': return "Refer-To";
    case 's': return "Subject";
    case 't': return "To";
    case 'u': return "Allow-Events";
    case 'v': return "Via";
    case 'x': return "Session-Expires";
    case 'y': return "Identity";
    default: return {};
  }
}

HeaderId classify_header_name(std::string_view n) {
  // Header names are case-insensitive (RFC 3261 §7.3.1). Dispatch on length, then on the
  // first letter, so that a name costs at most two short comparisons.
  if (n.empty()) return HeaderId::other;
  const char c = lower(n[0]);
  switch (n.size()) {
    case 1:
      switch (c) {
        case 'v': return HeaderId::via;
        case 'f': return HeaderId::from;
        case 't': return HeaderId::to;
        case 'i': return HeaderId::call_id;
        case 'm': return HeaderId::contact;
        case 'l': return HeaderId::content_length;
        case 'c': return HeaderId::content_type;
        default: return HeaderId::other;
      }
    case 2:
      if (REGFRONT_IS(n, "To")) return HeaderId::to;
      break;
    case 3:
      if (REGFRONT_IS(n, "Via")) return HeaderId::via;
      break;
    case 4:
      if (c == 'f' && REGFRONT_IS(n, "From")) return HeaderId::from;
      if (c == 'c' && REGFRONT_IS(n, "CSeq")) return HeaderId::cseq;
      break;
    case 5:
      if (c == 'r' && REGFRONT_IS(n, "Route")) return HeaderId::route;
      break;
    case 7:
      if (c == 'c') {
        if (REGFRONT_IS(n, "Call-ID")) return HeaderId::call_id;
        if (REGFRONT_IS(n, "Contact")) return HeaderId::contact;
      } else if (c == 'e' && REGFRONT_IS(n, "Expires")) {
        return HeaderId::expires;
      }
      break;
    case 11:
      if (c == 'm' && REGFRONT_IS(n, "Min-Expires")) return HeaderId::min_expires;
      if (c == 'r' && REGFRONT_IS(n, "Retry-After")) return HeaderId::retry_after;
      break;
    case 12:
      if (c == 'm' && REGFRONT_IS(n, "Max-Forwards")) return HeaderId::max_forwards;
      if (c == 'c' && REGFRONT_IS(n, "Content-Type")) return HeaderId::content_type;
      if (c == 'r' && REGFRONT_IS(n, "Record-Route")) return HeaderId::record_route;
      break;
    case 13:
      if (REGFRONT_IS(n, "Authorization")) return HeaderId::authorization;
      break;
    case 14:
      if (REGFRONT_IS(n, "Content-Length")) return HeaderId::content_length;
      break;
    case 16:
      if (REGFRONT_IS(n, "WWW-Authenticate")) return HeaderId::www_authenticate;
      break;
    case 18:
      if (REGFRONT_IS(n, "Proxy-Authenticate")) return HeaderId::proxy_authenticate;
      break;
    case 19:
      if (REGFRONT_IS(n, "Proxy-Authorization")) return HeaderId::proxy_authorization;
      break;
    default:
      break;
  }
  return HeaderId::other;
}

ParseStatus parse(std::string_view datagram, Message& msg, std::span<Header> headers) {
  msg = Message{};
  std::memset(msg.first_index, 0xff, sizeof msg.first_index);
  msg.headers = headers.data();
  if (datagram.size() > kMaxMessageLength) return fail(msg, ParseError::limit);

  const char* p = datagram.data();
  const char* const end = p + datagram.size();

  // RFC 3261 §7.5: ignore CRLFs before the start line (also RFC 5626 §3.5.1 keep-alives).
  while (end - p >= 2 && p[0] == '\r' && p[1] == '\n') p += 2;
  if (p == end) return fail(msg, ParseError::empty);

  // ---- start line
  const char* eol = find_eol(p, end);
  if (static_cast<std::size_t>(eol - p) > kMaxHeaderLength) return fail(msg, ParseError::limit);
  if (eol == end) return fail(msg, ParseError::truncated);
  if (*eol != '\r') return fail(msg, ParseError::start_line);  // bare LF: strict CRLF (§7)
  if (eol + 1 == end) return fail(msg, ParseError::truncated);
  if (eol[1] != '\n') return fail(msg, ParseError::start_line);  // bare CR
  {
    const std::string_view line(p, static_cast<std::size_t>(eol - p));
    // A method is a token and '/' is not a token character, so "SIP/" can only start a
    // Status-Line (RFC 3261 §7.1, §7.2).
    const bool response = line.size() >= 4 && iequals(line.substr(0, 4), "SIP/");
    const ParseError e = response ? parse_status_line(line, msg) : parse_request_line(line, msg);
    if (e != ParseError::none) return fail(msg, e);
  }
  p = eol + 2;

  // ---- header fields
  const std::size_t capacity = headers.size() < kMaxHeaders ? headers.size() : kMaxHeaders;
  std::size_t count = 0;
  bool have_length = false;
  std::uint64_t content_length = 0;
  for (;;) {
    if (p == end) return fail(msg, ParseError::truncated);
    if (*p == '\r') {  // the empty line ending the headers
      if (p + 1 == end) return fail(msg, ParseError::truncated);
      if (p[1] != '\n') return fail(msg, ParseError::header_syntax);
      p += 2;
      break;
    }
    const char* const line = p;
    // field-name = token (RFC 3261 §7.3.1, §25.1). A line starting with SP/HT here would be a
    // continuation without a field (or of the start line): header_syntax.
    while (p < end && is(*p, kToken)) ++p;
    if (p == line) return fail(msg, ParseError::header_syntax);
    const std::string_view name(line, static_cast<std::size_t>(p - line));
    // HCOLON = *( SP / HTAB ) ":" SWS (RFC 3261 §25.1): whitespace before the colon is fine
    // (RFC 4475 §3.1.1.1 wsinv "TO :").
    while (p < end && is(*p, kWsp)) ++p;
    if (p == end) return fail(msg, ParseError::truncated);
    if (*p != ':') return fail(msg, ParseError::header_syntax);
    const char* const value_start = ++p;
    // The field ends at a CRLF not followed by SP/HT; CRLF + SP/HT is folding and continues
    // the value (RFC 3261 §7.3.1). A bare CR or LF inside a field is an error (§7).
    for (;;) {
      eol = find_eol(p, end);
      if (static_cast<std::size_t>(eol - line) > kMaxHeaderLength) {
        return fail(msg, ParseError::limit);
      }
      if (eol == end || eol + 1 == end) return fail(msg, ParseError::truncated);
      if (eol[0] != '\r' || eol[1] != '\n') return fail(msg, ParseError::header_syntax);
      p = eol + 2;
      if (p < end && is(*p, kWsp)) continue;
      break;
    }
    if (count == capacity) return fail(msg, ParseError::limit);
    Header& h = headers[count];
    h.name = name;
    h.value = trim_lws(std::string_view(value_start, static_cast<std::size_t>(eol - value_start)));
    h.id = classify_header_name(name);
    std::uint8_t& first = msg.first_index[static_cast<std::size_t>(h.id)];
    if (first == 0xff) first = static_cast<std::uint8_t>(count);
    ++count;
    msg.header_count = static_cast<std::uint16_t>(count);

    if (h.id == HeaderId::content_length) {
      // Content-Length = 1*DIGIT (RFC 3261 §20.14): a sign, other characters or a value over
      // 2^32-1 are errors (RFC 4475 §3.1.2.3 ncl). Repeated fields must agree; identical
      // repeats are tolerated as RFC 9110 §8.6 allows, different ones are fatal
      // (RFC 4475 §3.3.9 mcl01).
      std::size_t i = 0;
      std::uint64_t v = 0;
      if (!scan_number(h.value, i, kMaxU32, v) || i != h.value.size()) {
        return fail(msg, ParseError::content_length);
      }
      if (have_length && v != content_length) return fail(msg, ParseError::content_length);
      have_length = true;
      content_length = v;
    }
  }

  // ---- body
  const std::size_t available = static_cast<std::size_t>(end - p);
  std::size_t body_length = available;
  if (have_length) {
    // UDP: a Content-Length larger than the datagram is an error (RFC 3261 §18.3, RFC 4475
    // §3.1.2.2 clerr); octets after the body are ignored (§18.3, RFC 4475 §3.1.1.8 dblreq).
    if (content_length > available) return fail(msg, ParseError::body_truncated);
    body_length = static_cast<std::size_t>(content_length);
  }
  // Without Content-Length the body runs to the end of the datagram (RFC 3261 §18.3, §20.14:
  // the field is optional over UDP; RFC 4475 §3.4.1 inv2543).
  msg.body = std::string_view(p, body_length);
  msg.consumed = static_cast<std::size_t>(p - datagram.data()) + body_length;
  msg.text = datagram.substr(0, msg.consumed);
  return ParseStatus::ok;
}

// ---- value helpers ---------------------------------------------------------------------------

bool next_list_element(std::string_view value, std::size_t& pos, std::string_view& element) {
  const std::size_t n = value.size();
  if (pos >= n) {
    pos = n;
    return false;
  }
  // Skip LWS and empty elements: #rule allows ", ," (RFC 3261 §7.3.1, RFC 7230 §7).
  while (pos < n && (is(value[pos], kLws) || value[pos] == ',')) ++pos;
  if (pos == n) return false;
  const std::size_t start = pos;
  bool in_angle = false;
  while ((pos = find_list_special(value, pos)) < n) {
    const char c = value[pos];
    if (c == '"') {
      const std::size_t q = scan_quoted(value, pos);
      if (q == kNpos) {
        pos = start;  // malformed: report with pos < size
        return false;
      }
      pos = q;
      continue;
    }
    if (c == '<') {
      in_angle = true;
    } else if (c == '>') {
      in_angle = false;
    } else if (c == ',' && !in_angle) {
      break;
    }
    ++pos;
  }
  if (in_angle) {
    pos = start;
    return false;
  }
  element = trim_lws(value.substr(start, pos - start));
  if (pos < n) ++pos;  // the comma
  return true;
}

namespace {

enum class Step : std::uint8_t { ok, end, bad };

// generic-param = token [ EQUAL gen-value ]; gen-value = token / host / quoted-string;
// SEMI = SWS ";" SWS; EQUAL = SWS "=" SWS (RFC 3261 §25.1). `host` in gen-value includes an
// unbracketed IPv6 address, as received= carries in the wild (RFC 5118 §4.5).
Step param_step(std::string_view s, std::size_t& pos, std::string_view& name,
                std::string_view& value) {
  const std::size_t n = s.size();
  if (pos >= n) {
    pos = n;
    return Step::end;
  }
  std::size_t i = skip_lws(s, pos);
  if (i == n) {
    pos = n;
    return Step::end;
  }
  const std::size_t name_start = i;
  while (i < n && is(s[i], kToken)) ++i;
  if (i == name_start) {  // empty parameter, e.g. ";;" (RFC 4475 §3.1.2.1 badinv01)
    pos = name_start;
    return Step::bad;
  }
  name = s.substr(name_start, i - name_start);
  value = {};
  i = skip_lws(s, i);
  if (i < n && s[i] == '=') {
    i = skip_lws(s, i + 1);
    if (i == n) {
      pos = name_start;
      return Step::bad;
    }
    const std::size_t vs = i;
    if (s[i] == '"') {
      const std::size_t q = scan_quoted(s, i);
      if (q == kNpos) {
        pos = name_start;
        return Step::bad;
      }
      i = q;
    } else {
      while (i < n && is(s[i], kParamValue)) ++i;
      if (i == vs) {
        pos = name_start;
        return Step::bad;
      }
    }
    value = s.substr(vs, i - vs);
    i = skip_lws(s, i);
  }
  if (i == n) {
    pos = n;
    return Step::ok;
  }
  if (s[i] != ';') {
    pos = name_start;
    return Step::bad;
  }
  pos = i + 1;  // a single trailing ';' then ends the list (lenient)
  return Step::ok;
}

}  // namespace

bool next_param(std::string_view params, std::size_t& pos, std::string_view& name,
                std::string_view& value) {
  return param_step(params, pos, name, value) == Step::ok;
}

std::string_view unquote(std::string_view v) {
  if (v.size() < 2 || v.front() != '"' || v.back() != '"') return v;
  // The closing quote must not itself be escaped: count the backslashes before it.
  std::size_t backslashes = 0;
  for (std::size_t i = v.size() - 1; i > 1 && v[i - 1] == '\\'; --i) ++backslashes;
  if (backslashes % 2 != 0) return v;
  return v.substr(1, v.size() - 2);
}

bool parse_via(std::string_view element, Via& via) {
  via = Via{};
  const std::string_view s = trim_lws(element);
  const std::size_t n = s.size();
  std::size_t i = 0;
  // sent-protocol = protocol-name SLASH protocol-version SLASH transport, SLASH = SWS "/" SWS
  // (RFC 3261 §20.42, §25.1; RFC 4475 §3.1.1.1 folds inside it). Names are not checked here:
  // any transport token is accepted (RFC 4475 §3.1.1.10 transports).
  for (int part = 0; part < 3; ++part) {
    const std::size_t ts = i;
    while (i < n && is(s[i], kToken)) ++i;
    if (i == ts) return false;
    if (part < 2) {
      i = skip_lws(s, i);
      if (i == n || s[i] != '/') return false;
      i = skip_lws(s, i + 1);
    }
  }
  via.protocol = s.substr(0, i);
  if (i == n || !is(s[i], kLws)) return false;  // LWS sent-by
  i = skip_lws(s, i);
  // sent-by = host [ COLON port ]; host = hostname / IPv4address / IPv6reference. An IPv6
  // address must be bracketed here (RFC 3261 §25.1, RFC 5118 §4.1/§4.2).
  const std::size_t sb = i;
  if (i < n && s[i] == '[') {
    ++i;
    while (i < n && s[i] != ']' && is(s[i], kHost)) ++i;
    if (i == n || s[i] != ']') return false;
    ++i;
  } else {
    while (i < n && is(s[i], kHostName)) ++i;
  }
  if (i == sb) return false;
  if (i < n && s[i] == ':') {
    ++i;
    std::uint64_t port = 0;
    if (!scan_number(s, i, 65535, port)) return false;
  }
  via.sent_by = s.substr(sb, i - sb);
  i = skip_lws(s, i);
  if (i == n) return true;
  if (s[i] != ';') return false;
  const std::string_view params = s.substr(i + 1);
  std::size_t pos = 0;
  std::string_view name;
  std::string_view value;
  bool have_branch = false;
  bool have_received = false;
  for (;;) {
    const Step st = param_step(params, pos, name, value);
    if (st == Step::end) return true;
    if (st == Step::bad) return false;
    // via-params (RFC 3261 §20.42; rport RFC 3581 §4). Later duplicates are ignored.
    if (iequals(name, "branch")) {
      if (!have_branch) via.branch = value;
      have_branch = true;
    } else if (iequals(name, "received")) {
      if (!have_received) via.received = value;
      have_received = true;
    } else if (iequals(name, "rport")) {
      if (!via.rport_present) {
        via.rport_present = true;
        via.rport = value;
      }
    }
  }
}

bool parse_cseq(std::string_view value, CSeq& cseq) {
  // CSeq = 1*DIGIT LWS Method (RFC 3261 §20.16); the number is < 2^31 when generated but must
  // be read up to 2^32-1 (§8.1.1.5); larger is malformed (RFC 4475 §3.1.2.4 scalar02).
  cseq = CSeq{};
  const std::string_view s = trim_lws(value);
  std::size_t i = 0;
  std::uint64_t number = 0;
  if (!scan_number(s, i, kMaxU32, number)) return false;
  if (i == s.size() || !is(s[i], kLws)) return false;
  i = skip_lws(s, i);
  const std::size_t ms = i;
  while (i < s.size() && is(s[i], kToken)) ++i;
  if (i == ms || i != s.size()) return false;
  cseq.number = static_cast<std::uint32_t>(number);
  cseq.method = s.substr(ms);
  return true;
}

bool parse_name_addr(std::string_view element, NameAddr& out) {
  out = NameAddr{};
  const std::string_view s = trim_lws(element);
  const std::size_t n = s.size();
  if (n == 0) return false;
  if (n == 1 && s[0] == '*') {  // Contact: "*" (RFC 3261 §20.10)
    out.wildcard = true;
    return true;
  }
  std::size_t i = 0;
  if (s[0] == '"') {
    // display-name = quoted-string (RFC 3261 §25.1). Unterminated: RFC 4475 §3.1.2.6 quotbal.
    const std::size_t q = scan_quoted(s, 0);
    if (q == kNpos) return false;
    out.display = s.substr(0, q);
    i = skip_lws(s, q);
    if (i == n || s[i] != '<') return false;
  } else if (s[0] != '<') {
    // Either display-name = *(token LWS) before "<" (no LWS needed before "<": RFC 4475
    // §3.1.1.6 lwsdisp), or a bare addr-spec.
    std::size_t j = 0;
    while (j < n && (is(s[j], kToken) || is(s[j], kLws))) ++j;
    if (j < n && s[j] == '<') {
      out.display = trim_lws(s.substr(0, j));
      i = j;
    } else {
      // addr-spec without <>: the URI cannot contain ',', '?' or ';' and parameters after it
      // are header parameters (RFC 3261 §20.10; RFC 4475 §3.3.12 cparam01). A URI with
      // escaped headers must be in <> (RFC 4475 §3.1.2.13 regbadct) and is rejected.
      std::size_t u = 0;
      while (u < n && is(s[u], kUri) && s[u] != ';' && s[u] != ',' && s[u] != '?') ++u;
      out.uri = s.substr(0, u);
      const std::size_t colon = out.uri.find(':');
      if (colon == kNpos || colon == 0) return false;  // addr-spec always has a scheme
      i = skip_lws(s, u);
      if (i == n) return true;
      if (s[i] != ';') return false;
      out.params = s.substr(i + 1);
      return true;
    }
  }
  // "<" addr-spec ">": no LWS inside (RFC 3261 §25.1; RFC 4475 §3.1.2.14 badaspec).
  const std::size_t us = i + 1;
  std::size_t u = us;
  while (u < n && is(s[u], kUri)) ++u;
  if (u == n || s[u] != '>' || u == us) return false;
  out.uri = s.substr(us, u - us);
  const std::size_t colon = out.uri.find(':');
  if (colon == kNpos || colon == 0) return false;
  i = skip_lws(s, u + 1);
  if (i == n) return true;
  if (s[i] != ';') return false;
  out.params = s.substr(i + 1);
  return true;
}

bool parse_delta_seconds(std::string_view value, std::uint32_t& seconds) {
  // delta-seconds = 1*DIGIT (RFC 3261 §25.1). Values over 2^32-1 are rejected rather than
  // clamped; RFC 4475 §3.1.2.4/§3.1.2.5 let a receiver treat them as absent.
  const std::string_view s = trim_lws(value);
  std::size_t i = 0;
  std::uint64_t v = 0;
  if (!scan_number(s, i, kMaxU32, v)) return false;
  // Retry-After = delta-seconds [ comment ] *( SEMI retry-param ) (RFC 3261 §20.33): what
  // follows the number is ignored, as long as it is separated from it.
  if (i != s.size() && !is(s[i], kLws) && s[i] != '(' && s[i] != ';') return false;
  seconds = static_cast<std::uint32_t>(v);
  return true;
}

std::string_view top_via_branch(const Message& m) {
  const Header* h = m.first(HeaderId::via);
  if (h == nullptr) return {};
  std::size_t pos = 0;
  std::string_view el;
  Via v;
  if (!next_list_element(h->value, pos, el) || !parse_via(el, v)) return {};
  return v.branch;
}

}  // namespace regfront::sip
