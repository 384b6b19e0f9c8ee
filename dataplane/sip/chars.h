// dataplane/sip/chars.h — private character-class tables of the SIP parser.
//
// One 256-entry table of bit flags built at compile time; every grammar decision in parser.cc
// asks it instead of chaining comparisons. Indexing is always by `unsigned char`, so any octet
// (including NUL and UTF-8) is a valid index.
#pragma once

#include <array>
#include <cstdint>

namespace regfront::sip::detail {

enum CharClass : std::uint8_t {
  kToken = 1 << 0,       // RFC 3261 §25.1 token: alphanum / "-" "." "!" "%" "*" "_" "+" "`" "'" "~"
  kWsp = 1 << 1,         // SP / HTAB
  kLws = 1 << 2,         // SP / HTAB / CR / LF (characters trimmed as LWS, RFC 3261 §25.1)
  kDigit = 1 << 3,       // DIGIT
  kUri = 1 << 4,         // octets allowed in a Request-URI / <…> URI as written (see below)
  kHost = 1 << 5,        // hostname / IPv4 / IPv6 reference characters, RFC 3261 §25.1 host
  kParamValue = 1 << 6,  // gen-value without quotes: token / host (RFC 3261 §25.1, RFC 5118 §4.5)
  kHostName = 1 << 7,    // hostname / IPv4address characters (no ':' or brackets)
};

constexpr std::array<std::uint8_t, 256> make_table() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    std::uint8_t f = 0;
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool tok = alnum;
    switch (c) {
      case '-': case '.': case '!': case '%': case '*': case '_': case '+': case '`': case '\'':
      case '~':
        tok = true;
        break;
      default:
        break;
    }
    if (tok) f |= kToken;
    if (c == ' ' || c == '\t') f |= kWsp | kLws;
    if (c == '\r' || c == '\n') f |= kLws;
    if (c >= '0' && c <= '9') f |= kDigit;
    // URIs as written on the wire: visible US-ASCII minus the delimiters that can never appear
    // unescaped in a SIP-URI or absoluteURI ("<", ">", '"'; RFC 3261 §25.1, RFC 3986 §2).
    if (c > 0x20 && c < 0x7f && c != '<' && c != '>' && c != '"') f |= kUri;
    if (alnum || c == '-' || c == '.' || c == ':' || c == '[' || c == ']' || c == '_') f |= kHost;
    if (alnum || c == '-' || c == '.' || c == '_') f |= kHostName;
    if (tok || c == ':' || c == '[' || c == ']') f |= kParamValue;
    t[static_cast<std::size_t>(c)] = f;
  }
  return t;
}

inline constexpr std::array<std::uint8_t, 256> kTable = make_table();

inline bool is(unsigned char c, std::uint8_t cls) { return (kTable[c] & cls) != 0; }
inline bool is(char c, std::uint8_t cls) { return is(static_cast<unsigned char>(c), cls); }

inline char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + ('a' - 'A')) : c;
}

}  // namespace regfront::sip::detail
