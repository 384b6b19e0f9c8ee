// dataplane/call/dial_peer_pattern.h — the parsed form of an IOS dial-peer number pattern
// (`destination-pattern`, `incoming called-number`), private to dataplane/call.
//
// One parser feeds both matchers: to_regex() turns the parsed form into the Hyperscan
// expression, and the digit trie walks the same elements. The grammar and the IOS semantics it
// follows are documented in include/regfront/call/dial_peer_match.h.
//
//   auto p = parse_dial_pattern("1408555....");
//   if (p.ok()) { p->explicit_digits == 7; to_regex(*p) == "^1408555[0-9*][0-9*][0-9*][0-9*]"; }
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/common/status.h"

namespace regfront::call::detail {

// The characters a number may hold, numbered 0..16: '0'-'9' are 0-9, '*' 10, '#' 11, 'A'-'D'
// 12-15, and the E.164 '+' 16 (only as a number's first character).
inline constexpr int kSymbolCount = 17;
inline constexpr int kPlusSymbol = 16;
using SymbolSet = std::uint32_t;  // bit s set: symbol s is in the set

// What '.' and negated brackets draw from: the digits and '*' (not '#', which ends dialling,
// nor the letters, which are only ever matched literally).
inline constexpr SymbolSet kWildcardSet = 0x7ffu;

// Longest pattern text accepted (as the configuration grammar's bound), and deepest nesting.
inline constexpr std::size_t kMaxPatternLength = 64;
inline constexpr int kMaxGroupDepth = 8;

// A number is an optional '+' and at most this many dial characters.
inline constexpr std::size_t kMaxNumberDigits = 32;
inline constexpr std::size_t kMaxNumberSymbols = kMaxNumberDigits + 1;

// The symbol of a character of a number, or -1 if numbers cannot hold it.
constexpr int symbol_of(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c == '*') return 10;
  if (c == '#') return 11;
  if (c >= 'A' && c <= 'D') return 12 + (c - 'A');
  if (c == '+') return kPlusSymbol;
  return -1;
}

// The character of a symbol (inverse of symbol_of).
constexpr char symbol_char(int s) { return "0123456789*#ABCD+"[s]; }

// Converts `number` to symbols in `out` (kMaxNumberSymbols entries). Returns how many, or -1
// when it is not a number: a character outside the alphabet, a '+' that is not first, or more
// than kMaxNumberDigits dial characters. The empty number is a number (0 symbols).
int number_symbols(std::string_view number, std::uint8_t* out) noexcept;

// How many times an element may occur: once, `?` (0-1), `%` (0 or more), `+` (1 or more).
enum class Repeat : std::uint8_t { one, optional, any, some };

// One element: a single-character atom (a set of symbols) or a parenthesised group.
struct Element {
  bool group = false;
  bool literal = false;  // an explicit dial character or '+' (not '.', not brackets)
  SymbolSet set = 0;     // atoms: the symbols it accepts
  Repeat repeat = Repeat::one;
  std::vector<Element> children;  // groups: the sequence inside
};

struct ParsedPattern {
  std::vector<Element> elements;
  bool whole_number = false;     // ended in '$': the number must end where the pattern does
  bool variable_length = false;  // ended in 'T': any further digits (en bloc: no effect)
  bool nullable = false;         // the elements can match no characters at all
  // Dial characters every match consumes through explicit (literal) pattern characters; the
  // ranking's "longest match". The E.164 '+' is not a digit and does not count.
  std::uint8_t explicit_digits = 0;
};

// Parses an IOS pattern. Errors are invalid_argument with a plain message naming the
// character and its 1-based position, e.g. "unclosed '[' at position 3".
StatusOr<ParsedPattern> parse_dial_pattern(std::string_view text);

// The expression Hyperscan compiles: "^" + elements + ("\z" with '$'). Without '$' the
// expression is matched against leading parts of the number (IOS variable-length matching).
std::string to_regex(const ParsedPattern& p);

}  // namespace regfront::call::detail
