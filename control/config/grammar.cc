// control/config/grammar.cc — tokenizer, parameter checks and the tree walker (see grammar.h).
#include "grammar.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace regfront::config::grammar {

const std::string& Args::get(std::string_view slot) const {
  static const std::string empty;
  auto it = values.find(slot);
  return it == values.end() ? empty : it->second.text;
}

std::uint64_t Args::number(std::string_view slot, std::uint64_t dflt) const {
  auto it = values.find(slot);
  if (it == values.end()) return dflt;
  std::uint64_t v = 0;
  const std::string& s = it->second.text;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

std::size_t Args::offset(std::string_view slot) const {
  auto it = values.find(slot);
  return it == values.end() ? 0 : it->second.offset;
}

Node* Grammar::make(Kind k, std::string text, std::string help) {
  Node& n = nodes_.emplace_back();
  n.kind = k;
  n.text = std::move(text);
  n.help = std::move(help);
  return &n;
}

const Grammar& Grammar::instance() {
  static const Grammar g;  // thread-safe initialisation; never modified afterwards
  return g;
}

namespace {
// The C locale's isspace(), without a call into libc per character (it showed in profiles of a
// 100k-line load).
constexpr bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
}  // namespace

std::vector<Token> tokenize(std::string_view line) {
  std::vector<Token> out;
  out.reserve(16);
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_space(line[i])) ++i;
    if (i >= line.size()) break;
    std::size_t start = i;
    while (i < line.size() && !is_space(line[i])) ++i;
    out.push_back({line.substr(start, i - start), start});
  }
  return out;
}

namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

bool parse_u64(std::string_view s, std::uint64_t& v) {
  if (!all_digits(s) || s.size() > 19) return false;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// RFC 1035 §2.3.1 labels, relaxed as resolvers are: letters, digits, '-', '_' ; dots between.
bool valid_dns_name(std::string_view s) {
  if (s.empty() || s.size() > kMaxDnsNameLength || s.front() == '.' || s.front() == '-') return false;
  bool has_alpha_or_dash = false;
  char prev = 0;
  for (char c : s) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    if (!ok) return false;
    if (c == '.' && prev == '.') return false;
    if (!std::isdigit(static_cast<unsigned char>(c)) && c != '.') has_alpha_or_dash = true;
    prev = c;
  }
  // A name made only of digits and dots is an address typed with the wrong prefix.
  return has_alpha_or_dash;
}

bool valid_ipv4(std::string_view s) {
  if (s.size() > 15) return false;
  std::string z(s);
  in_addr a;
  return inet_pton(AF_INET, z.c_str(), &a) == 1;
}

bool valid_ipv6(std::string_view s) {
  if (s.size() > 45) return false;
  std::string z(s);
  in6_addr a;
  return inet_pton(AF_INET6, z.c_str(), &a) == 1;
}

bool valid_port(std::string_view s) {
  std::uint64_t v = 0;
  return parse_u64(s, v) && v >= 1 && v <= 65535;
}

// "HOST[:PORT]" for dns/ipv4.
bool split_port(std::string_view s, std::string_view& host, std::string_view& port) {
  auto colon = s.find(':');
  host = s.substr(0, colon);
  port = colon == std::string_view::npos ? std::string_view{} : s.substr(colon + 1);
  return colon == std::string_view::npos || valid_port(port);
}

}  // namespace

bool parse_registrar_address(std::string_view tok, RegistrarAddress& out) {
  std::string_view host, port;
  RegistrarAddress a;
  if (tok.starts_with("dns:")) {
    if (!split_port(tok.substr(4), host, port) || !valid_dns_name(host)) return false;
    a.kind = AddressKind::dns;
  } else if (tok.starts_with("ipv4:")) {
    if (!split_port(tok.substr(5), host, port) || !valid_ipv4(host)) return false;
    a.kind = AddressKind::ipv4;
  } else if (tok.starts_with("ipv6:")) {
    // RFC 3986 §3.2.2: an IPv6 literal is bracketed so that the port can follow it.
    std::string_view rest = tok.substr(5);
    if (rest.size() < 3 || rest.front() != '[') return false;
    auto close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':' || !valid_port(after.substr(1))) return false;
      port = after.substr(1);
    }
    if (!valid_ipv6(host)) return false;
    a.kind = AddressKind::ipv6;
  } else {
    return false;
  }
  a.host = std::string(host);
  std::uint64_t p = 0;
  if (!port.empty()) parse_u64(port, p);
  a.port = static_cast<std::uint16_t>(p);
  out = a;
  return true;
}

bool parse_session_target(std::string_view tok, SessionTarget& out) {
  std::string_view host, port;
  SessionTarget t;
  if (tok.starts_with("ipv4:")) {
    if (!split_port(tok.substr(5), host, port) || !valid_ipv4(host)) return false;
    t.kind = SessionTargetKind::ipv4;
  } else if (tok.starts_with("dns:")) {
    if (!split_port(tok.substr(4), host, port) || !valid_dns_name(host)) return false;
    t.kind = SessionTargetKind::dns;
  } else {
    return false;
  }
  t.host = std::string(host);
  std::uint64_t p = 0;
  if (!port.empty()) parse_u64(port, p);
  t.port = static_cast<std::uint16_t>(p);
  out = std::move(t);
  return true;
}

bool parse_ipv4_prefix(std::string_view t, Ipv4Prefix& out) {
  auto slash = t.find('/');
  if (slash == std::string_view::npos) return false;
  std::uint64_t len = 0;
  if (!parse_u64(t.substr(slash + 1), len) || len > 32 || t.size() - slash - 1 > 2) return false;
  Ipv4Prefix p;
  if (!parse_ipv4(t.substr(0, slash), p.address)) return false;
  p.length = static_cast<std::uint8_t>(len);
  out = p;
  return true;
}

bool parse_ipv4(std::string_view t, std::uint32_t& out) {
  if (t.size() > 15) return false;
  std::string z(t);
  in_addr a;
  if (inet_pton(AF_INET, z.c_str(), &a) != 1) return false;
  out = ntohl(a.s_addr);
  return true;
}

bool parse_ipv6(std::string_view t, Ipv6Address& out) {
  if (t.size() > 45) return false;
  std::string z(t);
  in6_addr a;
  if (inet_pton(AF_INET6, z.c_str(), &a) != 1) return false;
  std::copy(std::begin(a.s6_addr), std::end(a.s6_addr), out.begin());
  return true;
}

bool parse_ipv6_prefix(std::string_view t, Ipv6Prefix& out) {
  auto slash = t.find('/');
  if (slash == std::string_view::npos) return false;
  std::uint64_t len = 0;
  if (!parse_u64(t.substr(slash + 1), len) || len > 128 || t.size() - slash - 1 > 3) return false;
  Ipv6Prefix p;
  if (!parse_ipv6(t.substr(0, slash), p.address)) return false;
  p.length = static_cast<std::uint8_t>(len);
  out = p;
  return true;
}

bool accepts(const Node& n, std::string_view t) {
  switch (n.kind) {
    case Kind::root:
    case Kind::keyword:
      return false;
    case Kind::word:
    case Kind::rest:
      return !t.empty();
    case Kind::number: {
      std::uint64_t v = 0;
      return parse_u64(t, v) && v >= n.lo && v <= n.hi;
    }
    case Kind::e164:
      return all_digits(t.starts_with('+') ? t.substr(1) : t) && t.size() <= kMaxNumberLength;
    case Kind::pattern:
      // Any word: the action checks it with validate_dial_pattern() and says what is wrong,
      // which a '^' marker could not.
      return !t.empty();
    case Kind::hostname:
      // RFC 1123 §2.1 host name label, as IOS enforces for `hostname`.
      return t.size() <= kMaxHostnameLength && std::isalpha(static_cast<unsigned char>(t.front())) &&
             std::all_of(t.begin(), t.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '-';
             }) && t.back() != '-';
    case Kind::reg_addr: {
      RegistrarAddress a;
      return parse_registrar_address(t, a);
    }
    case Kind::dns_addr:
      return t.starts_with("dns:") && valid_dns_name(t.substr(4));
    case Kind::ipv4:
      return valid_ipv4(t);
    case Kind::ipv6:
      return valid_ipv6(t);
    case Kind::ipv6_prefix: {
      Ipv6Prefix p;
      return parse_ipv6_prefix(t, p);
    }
    case Kind::ifname: {
      std::uint16_t port = 0, subif = 0;
      return parse_interface_name(t, port, subif);
    }
    case Kind::ipv4_prefix: {
      Ipv4Prefix p;
      return parse_ipv4_prefix(t, p);
    }
    case Kind::ipv4_target:
    case Kind::dns_target: {
      SessionTarget st;
      return t.starts_with(n.kind == Kind::ipv4_target ? "ipv4:" : "dns:") &&
             parse_session_target(t, st);
    }
  }
  return false;
}

namespace {

bool used(const std::vector<const Node*>& u, const Node* n) {
  return std::find(u.begin(), u.end(), n) != u.end();
}

enum class Match : std::uint8_t { none, one, ambiguous };

bool iequal_prefix(std::string_view text, std::string_view t) {
  if (t.size() > text.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) !=
        std::tolower(static_cast<unsigned char>(t[i])))
      return false;
  }
  return true;
}
bool keyword_is(const Node& n, std::string_view t) {
  return n.any_case ? n.text.size() == t.size() && iequal_prefix(n.text, t) : n.text == t;
}
bool keyword_starts(const Node& n, std::string_view t) {
  return n.any_case ? iequal_prefix(n.text, t) : n.text.starts_with(t);
}

// Picks the node for `t` among `cur->next` (rules in grammar.h).
Match match(const Node* cur, std::string_view t, const std::vector<const Node*>& u,
            const Node*& out) {
  const Node* exact = nullptr;
  const Node* prefix = nullptr;
  const Node* pref = nullptr;
  int prefixes = 0, prefs = 0;
  for (const Node* n : cur->next) {
    if (n->kind != Kind::keyword || (n->once && used(u, n))) continue;
    if (keyword_is(*n, t)) exact = n;
    if (keyword_starts(*n, t)) {
      ++prefixes;
      prefix = n;
      if (n->preferred) {
        ++prefs;
        pref = n;
      }
    }
  }
  if (exact) {
    out = exact;
    return Match::one;
  }
  if (prefixes == 1) {
    out = prefix;
    return Match::one;
  }
  if (prefixes > 1) {
    if (prefs == 1) {
      out = pref;
      return Match::one;
    }
    return Match::ambiguous;
  }
  for (const Node* n : cur->next) {
    if (n->kind != Kind::keyword && accepts(*n, t)) {
      out = n;
      return Match::one;
    }
  }
  return Match::none;
}

// The text from `tokens[i]` to the end of the last token: a `rest` parameter's value.
std::string_view rest_of(const std::vector<Token>& tokens, std::size_t i) {
  const char* begin = tokens[i].text.data();
  const char* end = tokens.back().text.data() + tokens.back().text.size();
  return {begin, static_cast<std::size_t>(end - begin)};
}

}  // namespace

Walk walk(const Node* root, const std::vector<Token>& tokens) {
  Walk w;
  std::vector<const Node*> u;
  const Node* cur = root;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const Token& tok = tokens[i];
    const Node* n = nullptr;
    switch (match(cur, tok.text, u, n)) {
      case Match::none:
        w.error = SyntaxError::invalid_input;
        w.marker = tok.offset;
        return w;
      case Match::ambiguous:
        w.error = SyntaxError::ambiguous;
        w.marker = tok.offset;
        return w;
      case Match::one:
        break;
    }
    if (n->once) u.push_back(n);
    if (n->kind == Kind::rest) {  // takes the remaining tokens, and the spaces between them
      w.args.values[n->slot] = Args::Value{std::string(rest_of(tokens, i)), tok.offset};
      w.matched = tokens.size();
      cur = n;
      break;
    }
    if (!n->slot.empty()) {
      std::string v = n->kind == Kind::keyword ? n->text : std::string(tok.text);
      w.args.values[n->slot] = Args::Value{std::move(v), tok.offset};
    }
    ++w.matched;
    cur = n;
  }
  if (cur == root) {
    w.error = SyntaxError::none;  // blank line
    return w;
  }
  if (!cur->terminal) {
    w.error = SyntaxError::incomplete;
    return w;
  }
  w.handler = cur->handler;
  return w;
}

namespace {
// A session target placeholder whose scheme the partial word starts (or starts with): "dn" and
// "dns:host" show dns:, not ipv4:.
bool may_become_target(const Node& n, std::string_view partial) {
  if (n.kind != Kind::ipv4_target && n.kind != Kind::dns_target) return false;
  std::string_view scheme = n.kind == Kind::ipv4_target ? "ipv4:" : "dns:";
  return scheme.starts_with(partial) || partial.starts_with(scheme);
}
}  // namespace

Candidates candidates(const Node* root, const std::vector<Token>& tokens,
                      std::string_view partial) {
  Candidates c;
  std::vector<const Node*> u;
  const Node* cur = root;
  for (const Token& tok : tokens) {
    const Node* n = nullptr;
    if (match(cur, tok.text, u, n) != Match::one) return c;
    if (n->once) u.push_back(n);
    cur = n;
    if (n->kind == Kind::rest) break;  // the rest of the line is its value
  }
  c.valid = true;
  c.cr = cur != root && cur->terminal && partial.empty();
  for (const Node* n : cur->next) {
    if (n->once && used(u, n)) continue;
    if (n->kind == Kind::keyword) {
      if (keyword_starts(*n, partial)) c.nodes.push_back(n);
    } else if (partial.empty() || accepts(*n, partial) || n->kind == Kind::reg_addr ||
               n->kind == Kind::dns_addr || n->kind == Kind::ifname || n->kind == Kind::ipv4 ||
               n->kind == Kind::ipv6 || n->kind == Kind::ipv6_prefix ||
               n->kind == Kind::ipv4_prefix || may_become_target(*n, partial)) {
      // Structured parameters: a partial word cannot be checked yet, so the placeholder shows.
      c.nodes.push_back(n);
    }
  }
  return c;
}

}  // namespace regfront::config::grammar
