// match() on one matcher from several threads at once, each with its own scratch (the workers'
// situation): every thread gets what a lone thread gets. Label "threads": the tsan preset runs
// it under ThreadSanitizer.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "regfront/call/dial_peer_match.h"

namespace regfront::call {
namespace {

TEST(DialPeerMatchThreads, DistinctScratchesShareOneMatcher) {
  std::vector<std::string> text;
  for (int i = 0; i < 2000; ++i) {
    text.push_back("1408" + std::to_string(500 + i % 500) +
                   std::string(static_cast<std::size_t>(i % 4), '.') + (i % 7 == 0 ? "$" : ""));
  }
  text.push_back("1T");
  text.push_back("14(08)?5+T");
  std::vector<DialPeerPattern> peers;
  for (std::size_t i = 0; i < text.size(); ++i) {
    peers.push_back({static_cast<std::uint32_t>(i), text[i], static_cast<std::uint8_t>(i % 3),
                     static_cast<std::uint32_t>(i)});
  }
  std::vector<std::string> numbers;
  for (int i = 0; i < 500; ++i) numbers.push_back("1408" + std::to_string(500 + (i * 37) % 600) + "12");

  for (MatchEngine e : {MatchEngine::hyperscan, MatchEngine::trie}) {
    auto m = DialPeerMatcher::build(peers, e);
    ASSERT_TRUE(m.ok()) << m.status().message();
    // What one thread sees.
    std::vector<std::vector<std::uint32_t>> expected;
    {
      auto s = m->make_scratch();
      std::uint32_t ids[kDefaultHuntDepth];
      for (const std::string& n : numbers) {
        expected.emplace_back(ids, ids + m->match(n, *s, ids, kDefaultHuntDepth));
      }
    }
    constexpr int kThreads = 4;
    std::vector<MatchScratch> scratches;
    for (int t = 0; t < kThreads; ++t) scratches.push_back(std::move(*m->make_scratch()));
    std::vector<int> mismatches(kThreads, 0);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::uint32_t ids[kDefaultHuntDepth];
        for (int round = 0; round < 20; ++round) {
          for (std::size_t i = 0; i < numbers.size(); ++i) {
            const std::size_t n =
                m->match(numbers[i], scratches[static_cast<std::size_t>(t)], ids, kDefaultHuntDepth);
            if (std::vector<std::uint32_t>(ids, ids + n) != expected[i])
              ++mismatches[static_cast<std::size_t>(t)];
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t)
      EXPECT_EQ(mismatches[static_cast<std::size_t>(t)], 0) << match_engine_name(e);
  }
}

}  // namespace
}  // namespace regfront::call
