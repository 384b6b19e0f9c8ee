// Tests of dial-peer matching (dataplane/call): the IOS pattern translation with every
// construct and every refused form, matching and IOS hunt order on both engines, and random
// tables on which the engines must agree with each other and with std::regex.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <regex>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

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

// ---- building ----

TEST(DialPeerMatcherBuild, ReportsThePeerAndTheReason) {
  const DialPeerPattern bad_pattern[] = {{.id = 0, .pattern = "1408", .tag = 1},
                                         {.id = 1, .pattern = "14[08", .tag = 12}};
  auto m = DialPeerMatcher::build(bad_pattern);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::invalid_argument);
  EXPECT_EQ(m.status().message(), "dial-peer 12 pattern \"14[08\": unclosed '[' at position 3");

  const DialPeerPattern top_preference[] = {{.id = 0, .pattern = "1408", .preference = 10, .tag = 7}};
  EXPECT_TRUE(DialPeerMatcher::build(top_preference).ok()) << "IOS preference is 0-10";
  const DialPeerPattern bad_preference[] = {{.id = 0, .pattern = "1408", .preference = 11, .tag = 7}};
  m = DialPeerMatcher::build(bad_preference);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "dial-peer 7 pattern \"1408\": preference 11 is outside 0-10");

  const DialPeerPattern twice[] = {{.id = 3, .pattern = "1", .tag = 1}, {.id = 3, .pattern = "2", .tag = 2}};
  m = DialPeerMatcher::build(twice);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "id 3 appears twice");
}

TEST(DialPeerMatcherBuild, EngineChoice) {
  const DialPeerPattern one[] = {{.id = 0, .pattern = "1"}};
  for (MatchEngine e : {MatchEngine::hyperscan, MatchEngine::trie}) {
    auto m = DialPeerMatcher::build(one, e);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->engine(), e);
    EXPECT_EQ(m->size(), 1u);
    EXPECT_GT(m->memory_bytes(), 0u);
  }
  // The trie measured faster at every size (dial_peer_match.h), so automatic means the trie.
  auto a = DialPeerMatcher::build(one);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->engine(), MatchEngine::trie);
  EXPECT_EQ(match_engine_name(a->engine()), "trie");
  EXPECT_EQ(a->make_scratch(0).status().message(), "hunt depth 0 is outside 1-1024");
  EXPECT_FALSE(a->make_scratch(kMaxHuntDepth + 1).ok());
  EXPECT_TRUE(a->make_scratch(kMaxHuntDepth).ok());
}

// ---- matching and ranking, on both engines ----

struct Peer {
  std::string pattern;
  std::uint8_t preference = 0;
  std::uint32_t tag = 0;
};

class Engines : public testing::TestWithParam<MatchEngine> {
 protected:
  // Builds a matcher whose ids are the peers' indices; tags default to 100 + index.
  DialPeerMatcher build(const std::vector<Peer>& peers) {
    std::vector<DialPeerPattern> p;
    for (std::size_t i = 0; i < peers.size(); ++i) {
      p.push_back({static_cast<std::uint32_t>(i), peers[i].pattern, peers[i].preference,
                   peers[i].tag != 0 ? peers[i].tag : static_cast<std::uint32_t>(100 + i)});
    }
    auto m = DialPeerMatcher::build(p, GetParam());
    EXPECT_TRUE(m.ok()) << m.status().message();
    return std::move(*m);
  }

  static std::vector<std::uint32_t> hunt(const DialPeerMatcher& m, std::string_view number,
                                         std::size_t depth = kDefaultHuntDepth, std::size_t max = 64) {
    auto s = m.make_scratch(depth);
    EXPECT_TRUE(s.ok());
    std::vector<std::uint32_t> ids(64, 0xdeadbeef);
    ids.resize(m.match(number, *s, ids.data(), max));
    return ids;
  }
};

using Ids = std::vector<std::uint32_t>;

// Each row: a table, then numbers with the ids (table indices) they must hunt, best first.
struct MatchRow {
  std::vector<Peer> peers;
  std::vector<std::pair<std::string, Ids>> numbers;
};

TEST_P(Engines, MatchingTable) {
  const MatchRow rows[] = {
      // Variable-length matching: a pattern matches a leading part; '$' wants the whole number.
      {{{"555"}, {"555$"}, {"5551212"}},
       {{"5551212", {2, 0}}, {"555", {0, 1}}, {"55512", {0}}, {"55", {}}, {"1555", {}}}},
      // Longest explicit match first (TechNote 211306: "2..." vs "200." for 2001).
      {{{"2..."}, {"200."}}, {{"2001", {1, 0}}, {"2101", {0}}, {"200", {}}}},
      {{{"345...."}, {"3456789"}}, {{"3456789", {1, 0}}, {"3451111", {0}}}},
      // Equal match length: the lower preference first, then the lower tag, then the lower id.
      {{{"555....", 2}, {"555....", 1}, {"555....", 1, 7}, {"555....", 1, 7}}, {{"5551234", {2, 3, 1, 0}}}},
      {{{"555"}, {"555....", 0, 5}}, {{"5551234", {1, 0}}}},  // 3 explicit each: the tag decides
      // 'T': any further digits; "T" alone matches every number, even the empty one and '+'.
      {{{"9T"}, {"T"}, {".T"}},
       {{"9", {0, 1, 2}}, {"91234", {0, 1, 2}}, {"8", {1, 2}}, {"", {1}}, {"+44", {1}}}},
      // E.164: a leading '+' in the pattern matches the number's '+', and only that.
      {{{"+1408T"}, {"1408T"}, {"\\+1408555...."}},
       {{"+14085550100", {2, 0}}, {"14085550100", {1}}, {"+1", {}}}},
      // '.' and [^..] match a digit or '*', never '#'; '#', '*' and A-D only themselves.
      {{{"9.$"}, {"[^1-3]22$"}, {"*67#"}, {"A1"}},
       {{"9*", {0}},
        {"9#", {}},
        {"*22", {1}},
        {"022", {1}},
        {"122", {}},
        {"#22", {}},
        {"*67#1", {2}},
        {"*67", {}},
        {"A1", {3}},
        {"a1", {}}}},
      // Repetition: + (1 or more), % (0 or more), ? (0 or 1), on digits and groups.
      {{{"5+23$"}, {"5%23$"}, {"5?23$"}}, {{"523", {0, 1, 2}}, {"55523", {0, 1}}, {"23", {1, 2}}, {"5", {}}}},
      {{{"333(123)%$"}, {"333(123)%"}, {"408(555)?1"}, {"(12)+3$"}},
       {{"333", {0, 1}},
        {"333123123", {0, 1}},
        {"33312", {1}},
        {"4081", {2}},
        {"4085551", {2}},
        {"4085", {}},
        {"123", {3}},
        {"12123", {3}},
        {"1213", {}}}},
      // A pattern that can match nothing: every number without '$', the empty run with it.
      {{{"5%"}, {"5%$"}, {"5"}}, {{"", {0, 1}}, {"555", {2, 0, 1}}, {"4", {0}}}},
      // Not numbers: nothing matches (not even "T").
      {{{"T"}, {"1"}},
       {{"12a", {}},
        {"1+2", {}},
        {"++1", {}},
        {std::string(33, '1'), {}},
        {std::string(32, '1'), {1, 0}},
        {"+" + std::string(32, '1'), {0}},
        {"+" + std::string(33, '1'), {}}}},
      // Pauses are ignored, '^' changes nothing.
      {{{"555,1212$"}, {"^555"}}, {{"5551212", {0, 1}}}},
  };
  for (const MatchRow& row : rows) {
    const DialPeerMatcher m = build(row.peers);
    for (const auto& [number, expected] : row.numbers) {
      SCOPED_TRACE(row.peers.front().pattern + " … / number \"" + number + "\"");
      EXPECT_EQ(hunt(m, number), expected);
    }
  }
}

TEST_P(Engines, HuntDepthAndMaxKeepTheBest) {
  std::vector<Peer> peers;
  for (int i = 0; i < 20; ++i)
    peers.push_back({"1408555" + std::string(static_cast<std::size_t>(i % 5), '0'), 0});
  // 20 peers; i % 5 zeros after "1408555": explicit digits 7..11; within a length, tag order.
  const DialPeerMatcher m = build(peers);
  const Ids all = hunt(m, "14085550000", 32, 64);
  ASSERT_EQ(all.size(), 20u);
  EXPECT_EQ(all[0], 4u);
  EXPECT_EQ(all[1], 9u);
  EXPECT_EQ(all[19], 15u);
  EXPECT_EQ(hunt(m, "14085550000", 4, 64), Ids(all.begin(), all.begin() + 4));
  EXPECT_EQ(hunt(m, "14085550000", 16, 2), Ids(all.begin(), all.begin() + 2));
  EXPECT_EQ(hunt(m, "14085550000", 16, 0), Ids{});
}

TEST_P(Engines, EmptyTableMatchesNothing) {
  const DialPeerMatcher m = build({});
  EXPECT_EQ(hunt(m, "14085550100"), Ids{});
  EXPECT_EQ(hunt(m, ""), Ids{});
}

TEST_P(Engines, ScratchesMoveAndMatchersMove) {
  DialPeerMatcher m = build({{"1408T"}, {"1T"}});
  auto s = m.make_scratch();
  ASSERT_TRUE(s.ok());
  MatchScratch moved = std::move(*s);
  DialPeerMatcher m2 = std::move(m);  // the scratch belongs to the table, not to the handle
  std::uint32_t ids[4];
  ASSERT_EQ(m2.match("14085550100", moved, ids, 4), 2u);
  EXPECT_EQ(ids[0], 0u);
  EXPECT_EQ(ids[1], 1u);
  EXPECT_GT(moved.bytes(), 0u);
  EXPECT_EQ(moved.hunt_depth(), kDefaultHuntDepth);
}

TEST_P(Engines, AScratchFromAnotherTableIsRefused) {
  const DialPeerMatcher a = build({{"1T"}});
  const DialPeerMatcher b = build({{"1T"}, {"1(2)?3T"}});
  auto s = a.make_scratch();
  std::uint32_t ids[4];
#ifdef NDEBUG
  EXPECT_EQ(b.match("123", *s, ids, 4), 0u);
#else
  EXPECT_DEATH(b.match("123", *s, ids, 4), "owner");
#endif
}

INSTANTIATE_TEST_SUITE_P(Call, Engines, testing::Values(MatchEngine::hyperscan, MatchEngine::trie),
                         [](const testing::TestParamInfo<MatchEngine>& i) {
                           return std::string(match_engine_name(i.param));
                         });

// ---- random tables: the engines agree with each other and with std::regex ----

// Patterns over few digits, so that numbers over the same digits match several of them.
class RandomPatterns {
 public:
  explicit RandomPatterns(std::uint32_t seed) : rng_(seed) {}

  std::string pattern() {
    std::string p;
    if (pick(10) == 0) p += '+';
    if (pick(3) != 0) {
      // The common shape: explicit digits, then wildcards ("1408555....").
      for (int i = 0, n = 1 + pick(7); i < n; ++i) p += digit();
      for (int i = 0, n = pick(5); i < n; ++i) p += '.';
    } else {
      for (int i = 0, n = 1 + pick(5); i < n; ++i) p += element(0);
    }
    switch (pick(6)) {
      case 0:
        p += '$';
        break;
      case 1:
        p += 'T';
        break;
      default:
        break;
    }
    return p;
  }

  std::string number() {
    std::string n;
    if (pick(10) == 0) n += '+';
    for (int i = 0, len = pick(13); i < len; ++i) n += pick(25) == 0 ? "*#A0"[pick(4)] : digit();
    if (pick(50) == 0) n += 'x';  // not a number
    return n;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint32_t>(n)); }
  char digit() { return "14085"[pick(5)]; }

  std::string element(int depth) {
    std::string e;
    switch (pick(depth < 2 ? 6 : 5)) {
      case 0:
      case 1:
        e = std::string(1, pick(12) == 0 ? "*#A"[pick(3)] : digit());
        break;
      case 2:
        e = ".";
        break;
      case 3: {
        e = pick(4) == 0 ? "[^" : "[";
        const int lo = pick(9);
        e += static_cast<char>('0' + lo);
        if (pick(2) == 0) e += std::string("-") + static_cast<char>('0' + lo + pick(10 - lo));
        if (pick(3) == 0) e += std::string(",") + digit();
        e += ']';
        break;
      }
      case 4:
        e = std::string(1, digit());
        break;
      default: {
        e = "(";
        for (int i = 0, n = 1 + pick(3); i < n; ++i) e += element(depth + 1);
        e += ')';
      }
    }
    switch (pick(8)) {
      case 0:
        e += '%';
        break;
      case 1:
        e += '+';
        break;
      case 2:
        e += '?';
        break;
      default:
        break;
    }
    return e;
  }

  std::mt19937 rng_;
};

struct Table {
  std::vector<std::string> text;
  std::vector<DialPeerPattern> peers;
};

Table random_table(RandomPatterns& gen, std::size_t n, std::mt19937& rng) {
  Table t;
  t.text.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::string p = gen.pattern();
    if (p.size() > 64) p = "1";  // rare: deep groups
    EXPECT_TRUE(translate_dial_pattern(p).ok()) << p;
    t.text.push_back(std::move(p));
  }
  for (std::size_t i = 0; i < n; ++i) {
    // Few tags and preferences, so ties reach the id.
    t.peers.push_back({static_cast<std::uint32_t>(i), t.text[i], static_cast<std::uint8_t>(rng() % 3),
                       static_cast<std::uint32_t>(rng() % 50)});
  }
  return t;
}

TEST(DialPeerMatchRandom, EnginesAgreeOnThousandsOfPatternsAndNumbers) {
  std::mt19937 rng(20240611);
  RandomPatterns gen(7);
  const Table t = random_table(gen, 3000, rng);
  auto hs = DialPeerMatcher::build(t.peers, MatchEngine::hyperscan);
  auto trie = DialPeerMatcher::build(t.peers, MatchEngine::trie);
  ASSERT_TRUE(hs.ok()) << hs.status().message();
  ASSERT_TRUE(trie.ok()) << trie.status().message();
  auto hs_scratch = hs->make_scratch(32);
  auto trie_scratch = trie->make_scratch(32);
  std::uint32_t a[32], b[32];
  std::size_t matched = 0, several = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string number = gen.number();
    const std::size_t na = hs->match(number, *hs_scratch, a, 32);
    const std::size_t nb = trie->match(number, *trie_scratch, b, 32);
    ASSERT_EQ(Ids(a, a + na), Ids(b, b + nb)) << "number \"" << number << "\"";
    matched += na != 0;
    several += na > 1;
  }
  // The tables are meant to overlap: most numbers match, many match several patterns.
  EXPECT_GT(matched, 2500u);
  EXPECT_GT(several, 1000u);
}

TEST(DialPeerMatchRandom, EnginesAgreeWithStdRegex) {
  std::mt19937 rng(99);
  RandomPatterns gen(11);
  const Table t = random_table(gen, 400, rng);
  struct Ref {
    std::regex re;
    std::uint8_t explicit_digits;
  };
  std::vector<Ref> ref;
  for (const std::string& p : t.text) {
    auto tr = translate_dial_pattern(p);
    ASSERT_TRUE(tr.ok());
    std::string re = tr->regex;
    if (tr->whole_number) re.replace(re.size() - 2, 2, "$");  // ECMAScript has no \z
    ref.push_back({std::regex(re, std::regex::ECMAScript), tr->explicit_digits});
  }
  // The IOS order from the regexes alone: most explicit digits, lower preference, lower tag,
  // lower id.
  RandomPatterns numbers(5);
  std::vector<std::pair<std::string, Ids>> expected;
  for (int i = 0; i < 400; ++i) {
    const std::string number = numbers.number();
    const bool is_number = number.find('x') == std::string::npos;
    std::vector<std::tuple<int, int, std::uint32_t, std::uint32_t>> want;
    for (std::size_t j = 0; j < ref.size() && is_number; ++j) {
      if (std::regex_search(number, ref[j].re)) {
        want.emplace_back(-ref[j].explicit_digits, t.peers[j].preference, t.peers[j].tag, t.peers[j].id);
      }
    }
    std::sort(want.begin(), want.end());
    Ids ids;
    for (const auto& w : want) ids.push_back(std::get<3>(w));
    expected.emplace_back(number, std::move(ids));
  }
  for (MatchEngine e : {MatchEngine::hyperscan, MatchEngine::trie}) {
    auto m = DialPeerMatcher::build(t.peers, e);
    ASSERT_TRUE(m.ok());
    auto s = m->make_scratch(400);
    std::vector<std::uint32_t> got;
    for (const auto& [number, want] : expected) {
      got.resize(400);
      got.resize(m->match(number, *s, got.data(), got.size()));
      ASSERT_EQ(got, want) << match_engine_name(e) << " number \"" << number << "\"";
    }
  }
}

}  // namespace
}  // namespace regfront::call
