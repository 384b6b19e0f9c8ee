// control/config/dial_pattern.cc — the syntax check of IOS dial patterns (model.h,
// validate_dial_pattern()). One function, so that the data plane's matcher can replace it with
// a check of its own: the grammar accepts any word where a pattern goes and the actions call this.
//
// The characters and their meaning are those of Cisco's `destination-pattern` reference; the
// limits (32 positions) are IOS's dial-string length.
#include <string>

#include "regfront/config/model.h"

namespace regfront::config {

namespace {

constexpr std::size_t kMaxPatternChars = 64;
constexpr int kMaxPatternPositions = 32;

// One position: a digit, A-D (DTMF), '*' or '#'.
constexpr bool is_symbol(char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'D') || c == '*' || c == '#';
}
constexpr bool is_digit(char c) { return c >= '0' && c <= '9'; }

Status invalid(std::string_view pattern, const std::string& why) {
  return Status::invalid_argument("Invalid pattern " + std::string(pattern) + ": " + why);
}

// The set that starts at p[open] == '['; on success `close` is the index of its ']'.
Status check_set(std::string_view p, std::size_t open, std::size_t& close) {
  std::size_t i = open + 1;
  if (i < p.size() && p[i] == '^') ++i;  // negated set
  std::size_t first = i;
  for (; i < p.size() && p[i] != ']'; ++i) {
    char c = p[i];
    if (c == '-') {
      // A range between two digits, low to high: [2-9].
      if (i == first || i + 1 >= p.size() || p[i + 1] == ']' || !is_digit(p[i - 1]) ||
          !is_digit(p[i + 1])) {
        return invalid(p, "'-' in a set joins two digits ([2-9])");
      }
      if (p[i - 1] > p[i + 1]) {
        return invalid(p, std::string("range ") + p[i - 1] + "-" + p[i + 1] + " runs backwards");
      }
      continue;
    }
    if (!is_symbol(c)) {
      return invalid(p, std::string("'") + c + "' is not allowed in a set");
    }
  }
  if (i >= p.size()) return invalid(p, "unbalanced brackets");
  if (i == first) return invalid(p, "empty set");
  close = i;
  return {};
}

}  // namespace

Status validate_dial_pattern(std::string_view p) {
  if (p.empty()) return Status::invalid_argument("Empty pattern");
  if (p.size() > kMaxPatternChars) {
    return Status::out_of_range("Invalid pattern " + std::string(p) + ": longer than " +
                                std::to_string(kMaxPatternChars) + " characters");
  }
  std::size_t i = 0;
  if (p[i] == '^') ++i;
  if (i < p.size() && p[i] == '+') ++i;  // the E.164 plus, not a repeat
  int positions = 0;
  int depth = 0;
  bool repeatable = false;  // the item before is a position or a group
  bool variable = false;    // ends with T
  for (; i < p.size(); ++i) {
    const char c = p[i];
    if (is_symbol(c) || c == '.') {
      ++positions;
      repeatable = true;
      continue;
    }
    switch (c) {
      case '[': {
        std::size_t close = 0;
        if (Status s = check_set(p, i, close); !s.ok()) return s;
        i = close;
        ++positions;
        repeatable = true;
        break;
      }
      case ']':
        return invalid(p, "unbalanced brackets");
      case '(':
        ++depth;
        repeatable = false;
        break;
      case ')':
        if (depth == 0) return invalid(p, "unbalanced parentheses");
        if (p[i - 1] == '(') return invalid(p, "empty group ()");
        --depth;
        repeatable = true;
        break;
      case '%':
      case '?':
      case '+':
        if (!repeatable) {
          return invalid(p, std::string("'") + c + "' must follow a digit, '.', a set or a group");
        }
        repeatable = false;  // no repeat of a repeat
        break;
      case 'T':
        if (i + 1 != p.size()) return invalid(p, "'T' must be the last character");
        variable = true;
        break;
      case '$':
        if (i + 1 != p.size()) return invalid(p, "'$' must be the last character");
        repeatable = false;
        break;
      case '^':
        return invalid(p, "'^' is allowed first, or first in a set");
      case ',':
        repeatable = false;
        break;
      default:
        return invalid(p, std::string("'") + c + "' is not a pattern character");
    }
  }
  if (depth != 0) return invalid(p, "unbalanced parentheses");
  if (positions == 0 && !variable) return invalid(p, "no digit to match");
  if (positions > kMaxPatternPositions) {
    return Status::out_of_range("Invalid pattern " + std::string(p) + ": more than " +
                                std::to_string(kMaxPatternPositions) + " digits");
  }
  return {};
}

}  // namespace regfront::config
