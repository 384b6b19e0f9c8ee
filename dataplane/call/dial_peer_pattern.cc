// IOS dial-peer pattern parser and its translation to a Hyperscan expression. The semantics
// each construct gets, and where they come from, are in include/regfront/call/dial_peer_match.h.
#include "dial_peer_pattern.h"

#include <algorithm>
#include <bit>
#include <string>

namespace regfront::call::detail {
namespace {

constexpr bool is_dial_char(char c) { return symbol_of(c) >= 0 && c != '+'; }

std::string at(std::size_t pos) { return " at position " + std::to_string(pos + 1); }

std::string quoted(char c) { return std::string("'") + c + "'"; }

class Parser {
 public:
  explicit Parser(std::string_view s) : s_(s) {}

  Status run(ParsedPattern& out) {
    if (s_.empty()) return Status::invalid_argument("empty pattern");
    if (s_.size() > kMaxPatternLength) {
      return Status::invalid_argument("pattern longer than " + std::to_string(kMaxPatternLength) +
                                      " characters");
    }
    out_ = &out;
    if (s_[pos_] == '^') ++pos_;  // every pattern is matched from the number's start anyway
    // The E.164 plus: a '+' (or "\+") before anything else is the number's own '+', not a
    // repetition.
    if (pos_ < s_.size() && s_[pos_] == '+') {
      out.elements.push_back(plus_element());
      ++pos_;
    } else if (pos_ + 1 < s_.size() && s_[pos_] == '\\' && s_[pos_ + 1] == '+') {
      out.elements.push_back(plus_element());
      pos_ += 2;
    }
    bool closed = false;
    if (Status st = sequence(out.elements, 0, closed); !st.ok()) return st;
    const bool only_plus = out.elements.empty() || (out.elements.size() == 1 && is_plus(out.elements[0]));
    if (only_plus && !out.variable_length) return Status::invalid_argument("pattern has no digits");
    out.nullable = nullable(out.elements);
    out.explicit_digits = static_cast<std::uint8_t>(std::min(255, explicit_digits(out.elements)));
    return {};
  }

 private:
  static bool is_plus(const Element& e) { return !e.group && e.set == (SymbolSet{1} << kPlusSymbol); }

  static Element plus_element() {
    Element e;
    e.literal = true;
    e.set = SymbolSet{1} << kPlusSymbol;
    return e;
  }

  static Element atom(SymbolSet set, bool literal) {
    Element e;
    e.literal = literal;
    e.set = set;
    return e;
  }

  // Parses elements into `out` until the end of the text or, inside a group (depth > 0), the
  // ')' that closes it; `closed` says which.
  Status sequence(std::vector<Element>& out, int depth, bool& closed) {
    closed = false;
    while (pos_ < s_.size()) {
      const std::size_t here = pos_;
      const char c = s_[pos_++];
      if (is_dial_char(c)) {
        out.push_back(atom(SymbolSet{1} << symbol_of(c), true));
        continue;
      }
      switch (c) {
        case ',':  // a dialling pause: nothing to match
          break;
        case '.':
          out.push_back(atom(kWildcardSet, false));
          break;
        case '[': {
          Element e;
          if (Status st = bracket(here, e); !st.ok()) return st;
          out.push_back(std::move(e));
          break;
        }
        case '(': {
          if (depth + 1 > kMaxGroupDepth) {
            return Status::invalid_argument("parentheses nested deeper than " +
                                            std::to_string(kMaxGroupDepth) + at(here));
          }
          Element g;
          g.group = true;
          bool group_closed = false;
          if (Status st = sequence(g.children, depth + 1, group_closed); !st.ok()) return st;
          if (!group_closed) return Status::invalid_argument("unclosed '('" + at(here));
          if (g.children.empty()) return Status::invalid_argument("empty '()'" + at(here));
          out.push_back(std::move(g));
          break;
        }
        case ')':
          if (depth == 0) return Status::invalid_argument("')' without '('" + at(here));
          closed = true;
          return {};
        case '%':
        case '+':
        case '?': {
          if (out.empty()) return Status::invalid_argument(quoted(c) + at(here) + " has nothing to repeat");
          Element& last = out.back();
          if (last.repeat != Repeat::one) {
            return Status::invalid_argument(quoted(c) + at(here) + " follows another repetition");
          }
          if (is_plus(last)) {
            return Status::invalid_argument(quoted(c) + at(here) + " would repeat the E.164 '+'");
          }
          last.repeat = c == '%' ? Repeat::any : c == '+' ? Repeat::some : Repeat::optional;
          break;
        }
        case '\\': {
          if (pos_ >= s_.size()) return Status::invalid_argument("'\\' at the end of the pattern");
          const char e = s_[pos_++];
          if (e == '+')
            return Status::invalid_argument("the E.164 '+'" + at(here) + " is allowed only first");
          if (!is_dial_char(e)) {
            return Status::invalid_argument("'\\'" + at(here) +
                                            " must be followed by a dial character, not " + quoted(e));
          }
          out.push_back(atom(SymbolSet{1} << symbol_of(e), true));
          break;
        }
        case 'T':
          if (depth > 0) return Status::invalid_argument("'T'" + at(here) + " inside parentheses");
          if (pos_ != s_.size()) return Status::invalid_argument("'T'" + at(here) + " must end the pattern");
          out_->variable_length = true;
          break;
        case '$':
          if (depth > 0) return Status::invalid_argument("'$'" + at(here) + " inside parentheses");
          if (pos_ != s_.size()) return Status::invalid_argument("'$'" + at(here) + " must end the pattern");
          if (out.empty()) return Status::invalid_argument("pattern has no digits");
          out_->whole_number = true;
          break;
        case '^':
          return Status::invalid_argument("'^'" + at(here) + " is allowed only first or right after '['");
        default:
          return Status::invalid_argument(quoted(c) + at(here) + " is not allowed in a dial-peer pattern");
      }
    }
    return {};
  }

  // After '[' at `open`: digits, ranges "a-b", a leading '^' (negation), ',' ignored.
  Status bracket(std::size_t open, Element& e) {
    bool negate = false;
    if (pos_ < s_.size() && s_[pos_] == '^') {
      negate = true;
      ++pos_;
    }
    SymbolSet set = 0;
    while (true) {
      if (pos_ >= s_.size()) return Status::invalid_argument("unclosed '['" + at(open));
      const std::size_t here = pos_;
      const char c = s_[pos_++];
      if (c == ']') break;
      if (c == ',') continue;
      if (c < '0' || c > '9') {
        return Status::invalid_argument(quoted(c) + at(here) +
                                        " inside brackets: only digits 0-9 and ranges");
      }
      char hi = c;
      if (pos_ < s_.size() && s_[pos_] == '-') {
        if (pos_ + 1 >= s_.size() || s_[pos_ + 1] < '0' || s_[pos_ + 1] > '9') {
          return Status::invalid_argument("range" + at(here) + " needs a digit after '-'");
        }
        hi = s_[pos_ + 1];
        pos_ += 2;
        if (hi < c)
          return Status::invalid_argument("range " + std::string{c, '-', hi} + at(here) + " is reversed");
      }
      for (char d = c; d <= hi; ++d) set |= SymbolSet{1} << (d - '0');
    }
    if (set == 0) return Status::invalid_argument("empty '[]'" + at(open));
    // A negated bracket keeps at least '*', which brackets cannot list: never empty.
    e = atom(negate ? (kWildcardSet & ~set) : set, false);
    return {};
  }

  static bool nullable(const std::vector<Element>& seq) {
    return std::all_of(seq.begin(), seq.end(), [](const Element& e) {
      return e.repeat == Repeat::optional || e.repeat == Repeat::any || (e.group && nullable(e.children));
    });
  }

  static int explicit_digits(const std::vector<Element>& seq) {
    int n = 0;
    for (const Element& e : seq) {
      if (e.repeat == Repeat::optional || e.repeat == Repeat::any) continue;  // may occur 0 times
      if (e.group) {
        n += explicit_digits(e.children);
      } else if (e.literal && !is_plus(e)) {
        ++n;
      }
    }
    return n;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
  ParsedPattern* out_ = nullptr;
};

void append_set(std::string& out, SymbolSet set) {
  const int n = std::popcount(set);
  if (n == 1) {
    const int s = std::countr_zero(set);
    if (s == 10) {
      out += "\\*";
    } else if (s == kPlusSymbol) {
      out += "\\+";
    } else {
      out += symbol_char(s);
    }
    return;
  }
  out += '[';
  for (int d = 0; d <= 9;) {
    if ((set >> d & 1u) == 0) {
      ++d;
      continue;
    }
    int e = d;
    while (e + 1 <= 9 && (set >> (e + 1) & 1u)) ++e;
    out += static_cast<char>('0' + d);
    if (e - d >= 2) out += '-';
    if (e - d >= 1) out += static_cast<char>('0' + e);
    d = e + 1;
  }
  for (int s = 10; s < kSymbolCount; ++s) {
    if (set >> s & 1u) out += s == 10 ? std::string("*") : std::string(1, symbol_char(s));
  }
  out += ']';
}

void append_sequence(std::string& out, const std::vector<Element>& seq) {
  for (const Element& e : seq) {
    if (e.group) {
      out += "(?:";
      append_sequence(out, e.children);
      out += ')';
    } else if (e.literal) {
      append_set(out, e.set);
    } else {
      // A '.' or a bracket stays a class even when it holds one digit, so the expression shows
      // what the pattern said.
      if (std::popcount(e.set) == 1) {
        out += '[';
        out += symbol_char(std::countr_zero(e.set));
        out += ']';
      } else {
        append_set(out, e.set);
      }
    }
    switch (e.repeat) {
      case Repeat::one:
        break;
      case Repeat::optional:
        out += '?';
        break;
      case Repeat::any:
        out += '*';
        break;
      case Repeat::some:
        out += '+';
        break;
    }
  }
}

}  // namespace

int number_symbols(std::string_view number, std::uint8_t* out) noexcept {
  if (number.size() > kMaxNumberSymbols) return -1;
  std::size_t i = 0;
  if (!number.empty() && number[0] == '+') {
    out[0] = kPlusSymbol;
    i = 1;
  }
  if (number.size() - i > kMaxNumberDigits) return -1;
  for (; i < number.size(); ++i) {
    const int s = symbol_of(number[i]);
    if (s < 0 || s == kPlusSymbol) return -1;
    out[i] = static_cast<std::uint8_t>(s);
  }
  return static_cast<int>(number.size());
}

StatusOr<ParsedPattern> parse_dial_pattern(std::string_view text) {
  ParsedPattern p;
  Parser parser(text);
  if (Status st = parser.run(p); !st.ok()) return st;
  return p;
}

std::string to_regex(const ParsedPattern& p) {
  std::string out = "^";
  append_sequence(out, p.elements);
  if (p.whole_number) out += "\\z";
  return out;
}

}  // namespace regfront::call::detail
