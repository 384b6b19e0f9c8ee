// dataplane/call/dial_peer_engines.h — the two matching engines behind DialPeerMatcher
// (regfront/call/dial_peer_match.h), private to dataplane/call.
//
// build() orders the whole table once: rank 0 is the dial peer IOS would try first among all
// of them (most explicit digits, then preference, then tag, then id). Both engines speak ranks
// only: they offer the rank of every pattern that matches to a BestRanks kept in the worker's
// scratch, and the matcher maps the surviving ranks back to the caller's ids. Ranking is thus
// one integer comparison per match, and the engines cannot disagree about order.
//
//   BestRanks best{buffer, 0, 16};
//   index.collect(number, …, best);   // best.rank[0 .. best.n) ascending
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "dial_peer_pattern.h"
#include "regfront/call/dial_peer_match.h"
#include "regfront/common/status.h"

struct hs_database;

namespace regfront::call::detail {

// The `k` best (lowest) ranks offered so far, ascending, in caller-owned memory.
struct BestRanks {
  std::uint32_t* rank;
  std::uint32_t n;
  std::uint32_t k;

  // Keeps `r` if it is among the k best so far. Returns false when it was not kept, so a caller
  // offering ranks in ascending order can stop.
  bool offer(std::uint32_t r) noexcept {
    if (n == k) {
      if (k == 0 || r >= rank[k - 1]) return false;
      --n;
    }
    std::uint32_t i = n;
    while (i > 0 && rank[i - 1] > r) {
      rank[i] = rank[i - 1];
      --i;
    }
    rank[i] = r;
    ++n;
    return true;
  }
};

// A valid pattern with its place in the table's order.
struct RankedPattern {
  std::uint32_t rank = 0;
  ParsedPattern parsed;
};

// Every pattern compiled into one block-mode Hyperscan database (expression id = rank), plus
// a prototype scratch that worker scratches are cloned from.
class HyperscanIndex {
 public:
  // Compiles `patterns` (none of them matches every number: the matcher keeps those apart,
  // since Hyperscan refuses expressions that match empty input unless told otherwise).
  static StatusOr<std::unique_ptr<HyperscanIndex>> build(const std::vector<RankedPattern>& patterns);
  ~HyperscanIndex();
  HyperscanIndex(const HyperscanIndex&) = delete;
  HyperscanIndex& operator=(const HyperscanIndex&) = delete;

  // A new scratch for one worker (hs_clone_scratch of the prototype). Control plane.
  StatusOr<hs_scratch*> clone_scratch() const;
  // Bytes of one scratch.
  std::size_t scratch_bytes() const;
  // Bytes of the database and the prototype scratch.
  std::size_t bytes() const;

  // Offers the rank of every pattern matching `number` (already validated). Data plane.
  void collect(std::string_view number, hs_scratch* scratch, BestRanks& best) const noexcept;

 private:
  HyperscanIndex() = default;

  hs_database* db_ = nullptr;
  hs_scratch* prototype_ = nullptr;
};

// A digit trie: each pattern's leading run of single characters (no repetition, no group) is a
// path whose edges are character sets; the rest of the pattern, if any, is a position
// (Glushkov) automaton run from the node where the path ends.
//
// Layout: one array of 32-bit words, nodes depth first (a node's first child follows it), each
// node self-contained so a step costs one cache line or two:
//   [0] edges | segment length << 16   [1] ends
//   segment: the symbol sets of the single-child, end-less steps merged into this node
//   ends:    2 words each, best rank first: rank, program index (kNoProgram) | kWholeNumber
//   edges:   2 words each: symbol set, child offset
class TrieIndex {
 public:
  // Builds the trie from `patterns` (none of them matches every number).
  static StatusOr<std::unique_ptr<TrieIndex>> build(const std::vector<RankedPattern>& patterns);

  // Stack entries a walk may need at most (a scratch holds this many).
  std::size_t frames_needed() const { return frames_needed_; }
  // Bytes the trie holds.
  std::size_t bytes() const;

  // Offers the rank of every pattern matching the number whose symbols are sym[0 .. len).
  // `frames` holds `frame_capacity` >= frames_needed() entries. Data plane.
  void collect(const std::uint8_t* sym, int len, std::uint64_t* frames, std::size_t frame_capacity,
               BestRanks& best) const noexcept;

  // The rest of a pattern as a position automaton: positions are its atoms, in text order.
  struct Program {
    std::uint64_t first = 0;   // positions that can match the rest's first character
    std::uint64_t last = 0;    // positions the rest can end on
    bool nullable = false;     // the rest can match no character
    std::uint32_t follow = 0;  // into follow_: one mask per position, what may come next
    std::uint32_t accept = 0;  // into accept_: one mask per symbol, the positions accepting it
  };
  static constexpr std::uint32_t kNoProgram = 0x7fffffffu;
  static constexpr std::uint32_t kWholeNumber = 0x80000000u;

 private:
  TrieIndex() = default;
  bool run(const Program& p, const std::uint8_t* sym, int len, bool whole_number) const noexcept;

  std::vector<std::uint32_t> words_;
  std::vector<Program> programs_;
  std::vector<std::uint64_t> follow_;
  std::vector<std::uint64_t> accept_;
  std::size_t frames_needed_ = 1;
};

// What a DialPeerMatcher holds; the address a scratch records as its owner.
struct MatcherState {
  MatchEngine engine = MatchEngine::trie;
  std::size_t size = 0;
  std::vector<std::uint32_t> id_of_rank;
  std::vector<std::uint32_t> every_number;  // ranks of patterns matching every number, ascending
  std::unique_ptr<HyperscanIndex> hyperscan;
  std::unique_ptr<TrieIndex> trie;
};

}  // namespace regfront::call::detail
