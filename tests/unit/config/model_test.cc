// The model's own pieces: validate_dial_pattern() (a table of accepted and refused patterns, and
// every prefix of the accepted ones), OptionalBox's value semantics, the size a POTS dial peer
// keeps, and that VoIP dial peers are never endpoints (F2).
#include <gtest/gtest.h>

#include <string>

#include "regfront/config/model.h"

namespace regfront::config {
namespace {

const char* const kValidPatterns[] = {
    "1234",
    "+14085550100",          // E.164 plus
    "408555....",
    "T",                     // anything, up to the interdigit timeout
    "9T",
    "011T",
    "[2-9]..[2-9]......",
    "[^0]...",               // negated set
    "[2-46-8]11",
    "[*#]",
    "1(23)+4",
    "1(2[3-5])%6",
    "12?3",
    "9,1408",                // a pause
    "^1234$",
    "^+1408",
    "*67",
    "#",
    "ABCD",
    ".",
    "12345678901234567890123456789012",  // 32 positions
};

struct BadPattern {
  const char* pattern;
  StatusCode code;
  const char* message;
};

const BadPattern kInvalidPatterns[] = {
    {"", StatusCode::invalid_argument, "Empty pattern"},
    {"408x", StatusCode::invalid_argument, "Invalid pattern 408x: 'x' is not a pattern character"},
    {"abc", StatusCode::invalid_argument, "Invalid pattern abc: 'a' is not a pattern character"},
    {"[2-9", StatusCode::invalid_argument, "Invalid pattern [2-9: unbalanced brackets"},
    {"2-9]", StatusCode::invalid_argument, "Invalid pattern 2-9]: '-' is not a pattern character"},
    {"29]", StatusCode::invalid_argument, "Invalid pattern 29]: unbalanced brackets"},
    {"[]1", StatusCode::invalid_argument, "Invalid pattern []1: empty set"},
    {"[^]1", StatusCode::invalid_argument, "Invalid pattern [^]1: empty set"},
    {"[9-2]", StatusCode::invalid_argument, "Invalid pattern [9-2]: range 9-2 runs backwards"},
    {"[-2]", StatusCode::invalid_argument, "Invalid pattern [-2]: '-' in a set joins two digits ([2-9])"},
    {"[2-]", StatusCode::invalid_argument, "Invalid pattern [2-]: '-' in a set joins two digits ([2-9])"},
    {"[[1]]", StatusCode::invalid_argument, "Invalid pattern [[1]]: '[' is not allowed in a set"},
    {"[.]", StatusCode::invalid_argument, "Invalid pattern [.]: '.' is not allowed in a set"},
    {"(12", StatusCode::invalid_argument, "Invalid pattern (12: unbalanced parentheses"},
    {"12)", StatusCode::invalid_argument, "Invalid pattern 12): unbalanced parentheses"},
    {"1()2", StatusCode::invalid_argument, "Invalid pattern 1()2: empty group ()"},
    {"%1", StatusCode::invalid_argument, "Invalid pattern %1: '%' must follow a digit, '.', a set or a group"},
    {"1??", StatusCode::invalid_argument, "Invalid pattern 1??: '?' must follow a digit, '.', a set or a group"},
    {"++1", StatusCode::invalid_argument, "Invalid pattern ++1: '+' must follow a digit, '.', a set or a group"},
    {"T1", StatusCode::invalid_argument, "Invalid pattern T1: 'T' must be the last character"},
    {"1$2", StatusCode::invalid_argument, "Invalid pattern 1$2: '$' must be the last character"},
    {"1^2", StatusCode::invalid_argument, "Invalid pattern 1^2: '^' is allowed first, or first in a set"},
    {"+", StatusCode::invalid_argument, "Invalid pattern +: no digit to match"},
    {",,", StatusCode::invalid_argument, "Invalid pattern ,,: no digit to match"},
    {"1 2", StatusCode::invalid_argument, "Invalid pattern 1 2: ' ' is not a pattern character"},
    {"123456789012345678901234567890123", StatusCode::out_of_range,
     "Invalid pattern 123456789012345678901234567890123: more than 32 digits"},
};

TEST(DialPattern, Accepted) {
  for (const char* p : kValidPatterns) {
    Status s = validate_dial_pattern(p);
    EXPECT_TRUE(s.ok()) << p << ": " << s.message();
  }
}

TEST(DialPattern, RefusedWithAReason) {
  for (const BadPattern& c : kInvalidPatterns) {
    Status s = validate_dial_pattern(c.pattern);
    EXPECT_EQ(s.code(), c.code) << c.pattern;
    EXPECT_EQ(s.message(), c.message) << c.pattern;
  }
  const std::string long_pattern = "1" + std::string(63, ',') + "2";  // 65 characters
  Status s = validate_dial_pattern(long_pattern);
  EXPECT_EQ(s.code(), StatusCode::out_of_range);
  EXPECT_EQ(s.message(), "Invalid pattern " + long_pattern + ": longer than 64 characters");
  EXPECT_TRUE(validate_dial_pattern("1" + std::string(62, ',') + "2").ok());  // 64
}

// Every prefix of an accepted pattern is either accepted or refused with a reason; none crashes
// or reads past the end (ASan in the dev preset).
TEST(DialPattern, EveryPrefix) {
  for (const char* p : kValidPatterns) {
    std::string_view full(p);
    for (std::size_t n = 0; n <= full.size(); ++n) {
      std::string copy(full.substr(0, n));  // its own allocation: no terminator to lean on
      Status s = validate_dial_pattern(copy);
      if (!s.ok()) {
        EXPECT_FALSE(s.message().empty()) << copy;
      }
    }
  }
}

TEST(OptionalBox, ValueSemantics) {
  OptionalBox<VoipSettings> a;
  EXPECT_FALSE(a);
  EXPECT_EQ(a, OptionalBox<VoipSettings>{});
  OptionalBox<VoipSettings> b;
  b.emplace().huntstop = true;
  EXPECT_TRUE(b.has_value());
  EXPECT_NE(a, b);
  a = b;  // deep copy
  EXPECT_EQ(a, b);
  a->huntstop = false;
  EXPECT_TRUE(b->huntstop);
  EXPECT_NE(a, b);
  a.emplace();  // a default value differs from no value
  EXPECT_NE(a, OptionalBox<VoipSettings>{});
  OptionalBox<VoipSettings> c(std::move(b));
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  EXPECT_TRUE(c->huntstop);
  c.reset();
  EXPECT_FALSE(c);
  EXPECT_EQ(sizeof(OptionalBox<VoipSettings>), sizeof(void*));
}

// The model holds one POTS dial peer per registered number (100k+, 200k for a million bindings):
// the VoIP settings and `voice-class sip localhost` must not grow it beyond one pointer each
// (112 bytes with libstdc++ before the VoIP settings, 120 with localhost in an std::optional).
TEST(DialPeerModel, PotsPeersStaySmall) {
  EXPECT_LE(sizeof(DialPeer), 80u);
  EXPECT_EQ(sizeof(DialPeer::localhost), sizeof(void*));
  DialPeer pots;
  EXPECT_EQ(pots.type, DialPeerType::pots);
  EXPECT_FALSE(pots.voip);
  EXPECT_FALSE(pots.is_voip());
  EXPECT_FALSE(pots.localhost);
}

TEST(OptionalBox, ComparesWithAValue) {
  OptionalBox<Localhost> box;
  EXPECT_FALSE(box == (Localhost{"sbc.example.com", true}));  // empty: equal to no value
  box.emplace(Localhost{"sbc.example.com", true});
  EXPECT_TRUE(box == (Localhost{"sbc.example.com", true}));
  EXPECT_FALSE(box == (Localhost{"sbc.example.com", false}));
  EXPECT_FALSE(box == Localhost{});
}

TEST(DialPeerModel, VoipDialPeersAreNotEndpoints) {
  Config cfg;
  cfg.dial_peers[1].destination_pattern = "1111";
  DialPeer& v = cfg.dial_peers[2];
  v.type = DialPeerType::voip;
  v.voip.emplace();
  v.destination_pattern = "2222";
  DialPeer& v2 = cfg.dial_peers[3];
  v2.type = DialPeerType::voip;
  v2.voip.emplace();
  v2.destination_pattern = "1111";  // the same number as a POTS peer: still one endpoint
  EXPECT_TRUE(is_endpoint_dial_peer(cfg.dial_peers[1]));
  EXPECT_FALSE(is_endpoint_dial_peer(v));
  EXPECT_EQ(endpoint_numbers(cfg), (std::vector<std::string>{"1111"}));
}


// The hash is part of the deployment contract: boxes of different versions must agree on who
// owns a number. The values agree with an independent script of the same two published
// algorithms (FNV-1a 64, jump consistent hash); a change here moves numbers between boxes.
TEST(Shards, TheHashIsFixed) {
  EXPECT_EQ(shard_of("4085550100", 1), 0u);
  const std::uint32_t pinned[] = {shard_of("4085550100", 4), shard_of("+14085551234", 16), shard_of("1", 1024)};
  EXPECT_EQ(pinned[0], 3u);
  EXPECT_EQ(pinned[1], 6u);
  EXPECT_EQ(pinned[2], 595u);
}

TEST(Shards, EvenAndConsistent) {
  constexpr std::uint32_t kNumbers = 30000;
  for (std::uint32_t n = 1; n <= 8; ++n) {
    std::vector<std::uint32_t> count(n + 1, 0);
    std::uint32_t moved = 0;
    for (std::uint32_t k = 0; k < kNumbers; ++k) {
      const std::string number = std::to_string(4085000000ull + k);
      const std::uint32_t a = shard_of(number, n);
      const std::uint32_t b = shard_of(number, n + 1);
      ASSERT_LT(a, n);
      ++count[a];
      if (a != b) {
        ++moved;
        EXPECT_EQ(b, n) << number << ": a number that moves goes to the new shard only";
      }
    }
    for (std::uint32_t s = 0; s < n; ++s) {
      EXPECT_NEAR(double(count[s]), double(kNumbers) / n, 0.05 * kNumbers / n) << s << " of " << n;
    }
    EXPECT_NEAR(double(moved), double(kNumbers) / (n + 1), 0.05 * kNumbers / (n + 1)) << n << " -> " << n + 1;
  }
}

TEST(Shards, EndpointNumbersKeepTheirShardOnly) {
  Config cfg;
  for (int k = 0; k < 300; ++k) {
    const std::string n = std::to_string(5550000 + k);
    cfg.sip_ua.credentials.push_back(Credential{n, "u" + n, "p", "r"});
  }
  std::size_t total = 0;
  for (std::uint32_t i = 0; i < 3; ++i) {
    cfg.sip_ua.shard_index = i;
    cfg.sip_ua.shard_count = 3;
    for (const std::string& n : endpoint_numbers(cfg)) {
      EXPECT_EQ(shard_of(n, 3), i);
      ++total;
    }
  }
  EXPECT_EQ(total, 300u);
  cfg.sip_ua.shard_count = 0;
  EXPECT_EQ(endpoint_numbers(cfg).size(), 300u);
}

}  // namespace
}  // namespace regfront::config
