// SIP message building (see regfront/sip/builder.h): memcpy of pieces, digit loops for
// integers, one bounds check per piece.
#include "regfront/sip/builder.h"

#include <cstring>

namespace regfront::sip {
namespace {

// The first element of a comma-separated value and what follows it ("" when it was the only
// one). False when the value is malformed.
bool split_first(std::string_view value, std::string_view& first, std::string_view& rest) {
  std::size_t pos = 0;
  if (!next_list_element(value, pos, first)) return false;
  while (pos < value.size() && (value[pos] == ',' || value[pos] == ' ' || value[pos] == '\t')) ++pos;
  rest = value.substr(pos);
  return true;
}

void put_header(Writer& w, std::string_view name, std::string_view value) {
  w.put(name);
  w.put(": ");
  w.put(value);
  w.put("\r\n");
}

// The extent of host[:port] inside a sip:/sips: URI `uri` (offset and length), or false.
bool hostport_span(std::string_view uri, std::size_t& at, std::size_t& len) {
  std::size_t p;
  if (uri.size() >= 4 && iequals(uri.substr(0, 4), "sip:")) {
    p = 4;
  } else if (uri.size() >= 5 && iequals(uri.substr(0, 5), "sips:")) {
    p = 5;
  } else {
    return false;
  }
  // userinfo ends at the last '@' before any ';' or '?' of the URI's parameters/headers.
  std::size_t end = uri.find_first_of(";?", p);
  if (end == std::string_view::npos) end = uri.size();
  const std::size_t atsign = uri.substr(0, end).rfind('@');
  if (atsign != std::string_view::npos && atsign >= p) p = atsign + 1;
  if (p >= end) return false;
  at = p;
  len = end - p;
  return true;
}

// The URI of a name-addr/addr-spec value, as an offset into it.
bool uri_span(std::string_view value, std::size_t& at, std::size_t& len) {
  NameAddr na;
  if (!parse_name_addr(value, na) || na.wildcard || na.uri.empty()) return false;
  at = static_cast<std::size_t>(na.uri.data() - value.data());
  len = na.uri.size();
  return true;
}

}  // namespace


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

std::string_view header_uri(std::string_view value) {
  std::size_t at, len;
  return uri_span(value, at, len) ? value.substr(at, len) : std::string_view();
}

std::string_view tag_of(std::string_view value) {
  NameAddr na;
  if (!parse_name_addr(value, na)) return {};
  std::size_t pos = 0;
  std::string_view name, v;
  while (next_param(na.params, pos, name, v)) {
    if (iequals(name, "tag")) return v;
  }
  return {};
}

std::string_view uri_user(std::string_view uri) {
  std::size_t at, len;
  if (!hostport_span(uri, at, len)) return {};
  const std::size_t scheme = uri[3] == ':' ? 4 : 5;
  if (at == scheme) return {};  // no userinfo
  std::string_view userinfo = uri.substr(scheme, at - 1 - scheme);
  const std::size_t colon = userinfo.find(':');  // user:password (deprecated) — the user only
  return colon == std::string_view::npos ? userinfo : userinfo.substr(0, colon);
}

std::string_view uri_hostport(std::string_view uri) {
  std::size_t at, len;
  return hostport_span(uri, at, len) ? uri.substr(at, len) : std::string_view();
}

std::size_t build_response(const Message& req, std::uint16_t code, std::string_view reason, std::string_view to_tag,
                           std::string_view extra, char* out, std::size_t cap) {
  Writer w(out, cap);
  w.put("SIP/2.0 ");
  w.put_u32(code);
  w.put(" ");
  w.put(reason);
  w.put("\r\n");
  for (std::uint16_t i = 0; i < req.header_count; ++i) {
    const Header& h = req.headers[i];
    switch (h.id) {
      case HeaderId::via:
      case HeaderId::from:
      case HeaderId::call_id:
      case HeaderId::cseq:
        put_header(w, h.name, h.value);
        break;
      case HeaderId::to:
        w.put(h.name);
        w.put(": ");
        w.put(h.value);
        if (!to_tag.empty() && code > 100 && tag_of(h.value).empty()) {
          w.put(";tag=");
          w.put(to_tag);
        }
        w.put("\r\n");
        break;
      default:
        break;
    }
  }
  w.put(extra);
  w.put("Content-Length: 0\r\n\r\n");
  return w.finish();
}

std::size_t forward(const Message& m, char* out, std::size_t cap, const Forward& f) {
  Writer w(out, cap);
  if (m.is_request) {
    w.put(m.method);
    w.put(" ");
    w.put(f.request_uri.empty() ? m.request_uri : f.request_uri);
    w.put(" SIP/2.0\r\n");
  } else {
    w.put("SIP/2.0 ");
    w.put_u32(m.status);
    w.put(" ");
    w.put(m.reason);
    w.put("\r\n");
  }
  if (!f.via.empty()) put_header(w, "Via", f.via);
  if (!f.record_route.empty()) put_header(w, "Record-Route", f.record_route);
  bool via_popped = !f.pop_via, route_popped = !f.pop_route, max_forwards_seen = false;
  for (std::uint16_t i = 0; i < m.header_count; ++i) {
    const Header& h = m.headers[i];
    switch (h.id) {
      case HeaderId::via:
      case HeaderId::route: {
        bool& popped = h.id == HeaderId::via ? via_popped : route_popped;
        if (popped) break;
        popped = true;
        std::string_view first, rest;
        if (!split_first(h.value, first, rest)) return 0;
        if (!rest.empty()) put_header(w, h.name, rest);
        continue;
      }
      case HeaderId::max_forwards: {
        if (!f.decrement_max_forwards || max_forwards_seen) break;
        max_forwards_seen = true;
        std::uint32_t n = 0;
        if (!parse_delta_seconds(h.value, n) || n == 0 || n > 255) return 0;
        w.put(h.name);
        w.put(": ");
        w.put_u32(n - 1);
        w.put("\r\n");
        continue;
      }
      case HeaderId::cseq: {
        if (f.cseq_delta == 0) break;
        CSeq cs;
        if (!parse_cseq(h.value, cs)) return 0;
        const std::int64_t n = std::int64_t{cs.number} + f.cseq_delta;
        if (n < 0 || n >= (std::int64_t{1} << 31)) return 0;  // RFC 3261 §8.1.1.5
        w.put(h.name);
        w.put(": ");
        w.put_u32(static_cast<std::uint32_t>(n));
        w.put(" ");
        w.put(cs.method);
        w.put("\r\n");
        continue;
      }
      case HeaderId::from: {
        if (f.from_host.empty()) break;
        std::size_t uat, ulen, hat, hlen;
        if (!uri_span(h.value, uat, ulen) || !hostport_span(h.value.substr(uat, ulen), hat, hlen)) return 0;
        const std::size_t host = uat + hat;
        w.put(h.name);
        w.put(": ");
        w.put(h.value.substr(0, host));
        w.put(f.from_host);
        w.put(h.value.substr(host + hlen));
        w.put("\r\n");
        continue;
      }
      case HeaderId::authorization:
      case HeaderId::proxy_authorization:
        if (f.drop_credentials) continue;
        break;
      default:
        break;
    }
    put_header(w, h.name, h.value);
  }
  if (f.decrement_max_forwards && !max_forwards_seen) w.put("Max-Forwards: 69\r\n");
  w.put(f.add_headers);
  w.put("\r\n");
  w.put(m.body);
  return w.finish();
}

namespace {

// The in-transaction requests a proxy makes itself (ACK for a non-2xx, CANCEL): the INVITE's
// Request-URI, top Via, Route set, From, Call-ID; To from `to` (the response's for an ACK).
std::size_t build_in_transaction(const Message& invite, std::string_view method, std::string_view to, char* out,
                                 std::size_t cap) {
  Writer w(out, cap);
  w.put(method);
  w.put(" ");
  w.put(invite.request_uri);
  w.put(" SIP/2.0\r\n");
  const Header* via = invite.first(HeaderId::via);
  std::string_view top, rest;
  if (via == nullptr || !split_first(via->value, top, rest)) return 0;
  put_header(w, "Via", top);
  std::string_view call_id, from;
  CSeq cs;
  for (std::uint16_t i = 0; i < invite.header_count; ++i) {
    const Header& h = invite.headers[i];
    if (h.id == HeaderId::route) put_header(w, h.name, h.value);
    if (h.id == HeaderId::from && from.empty()) from = h.value;
    if (h.id == HeaderId::call_id && call_id.empty()) call_id = h.value;
    if (h.id == HeaderId::cseq && cs.method.empty() && !parse_cseq(h.value, cs)) return 0;
  }
  if (from.empty() || call_id.empty() || cs.method.empty() || to.empty()) return 0;
  w.put("Max-Forwards: 70\r\n");
  put_header(w, "From", from);
  put_header(w, "To", to);
  put_header(w, "Call-ID", call_id);
  w.put("CSeq: ");
  w.put_u32(cs.number);
  w.put(" ");
  w.put(method);
  w.put("\r\nContent-Length: 0\r\n\r\n");
  return w.finish();
}

}  // namespace

std::size_t build_ack(const Message& invite, const Message& response, char* out, std::size_t cap) {
  const Header* to = response.first(HeaderId::to);
  return to == nullptr ? 0 : build_in_transaction(invite, "ACK", to->value, out, cap);
}

std::size_t build_cancel(const Message& invite, char* out, std::size_t cap) {
  const Header* to = invite.first(HeaderId::to);
  return to == nullptr ? 0 : build_in_transaction(invite, "CANCEL", to->value, out, cap);
}

}  // namespace regfront::sip
