// Tests of the IOS dial-peer pattern translation (dataplane/call): every construct and every
// refused form.
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

#include "regfront/call/dial_peer_match.h"

namespace regfront::call {
namespace {

// ---- translation ----

struct TranslationCase {
  const char* pattern;
  const char* regex;
  int explicit_digits;
  bool whole_number = false;
  bool variable_length = false;
  bool every_number = false;
};

TEST(TranslateDialPattern, EveryConstruct) {
  const TranslationCase cases[] = {
      // digits, '*', '#', letters A-D; '.' is a digit or '*'
      {"5551234", "^5551234", 7},
      {"1408555....", "^1408555[0-9*][0-9*][0-9*][0-9*]", 7},
      {"*67#", "^\\*67#", 4},
      {"A1B2CD", "^A1B2CD", 6},
      {".", "^[0-9*]", 0},
      // ',' is a pause: nothing to match
      {"555,1212", "^5551212", 7},
      {"9,,1", "^91", 2},
      // brackets: lists, ranges, ',' inside, negation (the digits and '*' not listed)
      {"[1-3]22", "^[1-3]22", 2},
      {"[135]777", "^[135]777", 3},
      {"[5,8]00", "^[58]00", 2},
      {"[0-24-68]", "^[0-24-68]", 0},
      {"[^1-3]22", "^[04-9*]22", 2},
      {"[^0-9]1", "^[*]1", 1},
      {"[5]5", "^[5]5", 1},  // a bracket is never explicit, even with one digit
      {"[12]", "^[12]", 0},
      {"[0-9]", "^[0-9]", 0},
      // repetition of the element before: % (0+), + (1+), ? (0-1); groups
      {"5+23", "^5+23", 3},
      {"5%23", "^5*23", 2},
      {"5?23", "^5?23", 2},
      {".+", "^[0-9*]+", 0},
      {"408(555)?1", "^408(?:555)?1", 4},
      {"333(123)%", "^333(?:123)*", 3},
      {"(12)+3", "^(?:12)+3", 3},
      {"((1)2)3", "^(?:(?:1)2)3", 3},
      {"(1[2-3].)+", "^(?:1[23][0-9*])+", 1},
      // E.164 '+' first (also after '^' and escaped); '\' before a dial character
      {"+14085550100", "^\\+14085550100", 11},
      {"^+44T", "^\\+44", 2, false, true},
      {"\\+1408", "^\\+1408", 4},
      {"\\*1", "^\\*1", 2},
      {"\\51", "^51", 2},
      // anchors: '^' changes nothing, '$' asks for the whole number
      {"^555", "^555", 3},
      {"555$", "^555\\z", 3, true},
      {"^555....$", "^555[0-9*][0-9*][0-9*][0-9*]\\z", 3, true},
      // 'T' (last): any further digits, which variable-length matching already allows
      {"9T", "^9", 1, false, true},
      {".T", "^[0-9*]", 0, false, true},
      {"+T", "^\\+", 0, false, true},
      {"T", "^", 0, false, true, true},
      // patterns that can match nothing: without '$' they match every number
      {"5%", "^5*", 0, false, false, true},
      {"(12)?", "^(?:12)?", 0, false, false, true},
      {"5%$", "^5*\\z", 0, true},
  };
  for (const TranslationCase& c : cases) {
    SCOPED_TRACE(c.pattern);
    auto t = translate_dial_pattern(c.pattern);
    ASSERT_TRUE(t.ok()) << t.status().message();
    EXPECT_EQ(t->regex, c.regex);
    EXPECT_EQ(t->explicit_digits, c.explicit_digits);
    EXPECT_EQ(t->whole_number, c.whole_number);
    EXPECT_EQ(t->variable_length, c.variable_length);
    EXPECT_EQ(t->matches_every_number, c.every_number);
  }
}

TEST(TranslateDialPattern, EveryRefusedForm) {
  const std::pair<std::string, const char*> cases[] = {
      {"", "empty pattern"},
      {std::string(65, '1'), "pattern longer than 64 characters"},
      {"^", "pattern has no digits"},
      {"$", "pattern has no digits"},
      {",", "pattern has no digits"},
      {"^$", "pattern has no digits"},
      {"+", "pattern has no digits"},
      {"+$", "pattern has no digits"},
      {"55x", "'x' at position 3 is not allowed in a dial-peer pattern"},
      {"5|6", "'|' at position 2 is not allowed in a dial-peer pattern"},
      {"55 5", "' ' at position 3 is not allowed in a dial-peer pattern"},
      {"a1", "'a' at position 1 is not allowed in a dial-peer pattern"},
      {"E1", "'E' at position 1 is not allowed in a dial-peer pattern"},
      {"9T1", "'T' at position 2 must end the pattern"},
      {"9T$", "'T' at position 2 must end the pattern"},
      {"(9T)", "'T' at position 3 inside parentheses"},
      {"55$5", "'$' at position 3 must end the pattern"},
      {"(5$)", "'$' at position 3 inside parentheses"},
      {"5^5", "'^' at position 2 is allowed only first or right after '['"},
      {"^^5", "'^' at position 2 is allowed only first or right after '['"},
      {"%5", "'%' at position 1 has nothing to repeat"},
      {"?5", "'?' at position 1 has nothing to repeat"},
      {"(%1)", "'%' at position 2 has nothing to repeat"},
      {"5%%", "'%' at position 3 follows another repetition"},
      {"5+?", "'?' at position 3 follows another repetition"},
      {"++1", "'+' at position 2 would repeat the E.164 '+'"},
      {"+?1", "'?' at position 2 would repeat the E.164 '+'"},
      {"5\\+", "the E.164 '+' at position 2 is allowed only first"},
      {"(+1)", "'+' at position 2 has nothing to repeat"},
      {"5\\", "'\\' at the end of the pattern"},
      {"\\x", "'\\' at position 1 must be followed by a dial character, not 'x'"},
      {"\\.", "'\\' at position 1 must be followed by a dial character, not '.'"},
      {"[12", "unclosed '[' at position 1"},
      {"5[", "unclosed '[' at position 2"},
      {"[]", "empty '[]' at position 1"},
      {"[^]", "empty '[]' at position 1"},
      {"[,]", "empty '[]' at position 1"},
      {"(12", "unclosed '(' at position 1"},
      {"(1(2)", "unclosed '(' at position 1"},
      {"()", "empty '()' at position 1"},
      {"1(,)", "empty '()' at position 2"},
      {"12)", "')' without '(' at position 3"},
      {"[5-3]", "range 5-3 at position 2 is reversed"},
      {"[5-]", "range at position 2 needs a digit after '-'"},
      {"[*]", "'*' at position 2 inside brackets: only digits 0-9 and ranges"},
      {"[-5]", "'-' at position 2 inside brackets: only digits 0-9 and ranges"},
      {"[A]", "'A' at position 2 inside brackets: only digits 0-9 and ranges"},
      {"[1^2]", "'^' at position 3 inside brackets: only digits 0-9 and ranges"},
      {"(((((((((1)))))))))", "parentheses nested deeper than 8 at position 9"},
  };
  for (const auto& [pattern, message] : cases) {
    SCOPED_TRACE(pattern);
    auto t = translate_dial_pattern(pattern);
    ASSERT_FALSE(t.ok()) << t->regex;
    EXPECT_EQ(t.status().code(), StatusCode::invalid_argument);
    EXPECT_EQ(t.status().message(), message);
    EXPECT_EQ(t.status().message().find('%') == std::string::npos, pattern.find('%') == std::string::npos)
        << "a '%' only when the pattern has one";
  }
  // Exactly at the bounds: 64 characters, eight levels of parentheses.
  EXPECT_TRUE(translate_dial_pattern(std::string(64, '1')).ok());
  EXPECT_TRUE(translate_dial_pattern("((((((((1))))))))").ok());
}

}  // namespace
}  // namespace regfront::call
