// The digit-trie engine. A pattern's leading run of single characters ("1408555....",
// "+44[1-3]") is a path from the root, one edge per character, an edge labelled with the set
// of symbols it accepts (one bit for an explicit digit); patterns sharing a leading run share
// the path. Where a pattern's run ends, an end records its rank and, if the pattern goes on
// with repetitions or groups ("5+23" is all rest; "408(555)?1" has the rest "(555)?1"), a
// position automaton for that rest.
//
// A walk follows every edge that accepts the next digit. The trie is a tree, so each node is
// reached by one path and visited at most once; the walk's stack is bounded at build time by
// (deepest node + 1) × (most edges at a node). A rest automaton has one state bit per atom (at
// most 64, since a pattern has at most 64 characters) and steps with a few word operations per
// digit.
//
// At 100,000 routes most of a lookup's time is cache misses below the area codes, so the
// layout is about lines touched: a chain of single-child nodes without ends (the unique tail of
// a route, "55...." of "1408555....") is one node whose segment lists the chain's sets, and a
// node's segment, ends and edges sit in one run of words, its first child right after it.
// Against separate node, edge and end arrays laid out breadth first, this took lookups that
// match several dial peers at 100k from 479 to 160 ns and the table from 11.9 to 4.3 MB
// (CPU time, median of 3, perf/call/dial_peer_bench.cc). Prefetching the children a walk
// pushes made no measurable difference.
#include <algorithm>
#include <bit>
#include <utility>
#include <vector>

#include "dial_peer_engines.h"
#include "regfront/common/check.h"

namespace regfront::call::detail {
namespace {

// Position (Glushkov) automaton of an element sequence: first/last sets, nullable, and the
// follow set of every position.
class PositionAutomaton {
 public:
  struct Sets {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
    bool nullable = true;
  };

  // Adds the positions of `seq`; returns false when there are more than 64 atoms.
  bool add(const std::vector<Element>& seq, Sets& out) {
    out = Sets{};
    for (const Element& e : seq) {
      Sets x;
      if (!element(e, x)) return false;
      out = concat(out, x);
    }
    return true;
  }

  const std::vector<SymbolSet>& position_sets() const { return sets_; }
  const std::vector<std::uint64_t>& follow() const { return follow_; }

 private:
  Sets concat(const Sets& a, const Sets& b) {
    link(a.last, b.first);
    return Sets{a.first | (a.nullable ? b.first : 0), b.last | (b.nullable ? a.last : 0),
                a.nullable && b.nullable};
  }

  void link(std::uint64_t from, std::uint64_t to) {
    for (std::uint64_t m = from; m != 0; m &= m - 1)
      follow_[static_cast<std::size_t>(std::countr_zero(m))] |= to;
  }

  bool element(const Element& e, Sets& out) {
    if (e.group) {
      if (!add(e.children, out)) return false;
    } else {
      if (sets_.size() == 64) return false;
      const std::uint64_t bit = std::uint64_t{1} << sets_.size();
      sets_.push_back(e.set);
      follow_.push_back(0);
      out = Sets{bit, bit, false};
    }
    switch (e.repeat) {
      case Repeat::one:
        break;
      case Repeat::optional:
        out.nullable = true;
        break;
      case Repeat::any:
        link(out.last, out.first);
        out.nullable = true;
        break;
      case Repeat::some:
        link(out.last, out.first);
        break;
    }
    return true;
  }

  std::vector<SymbolSet> sets_;
  std::vector<std::uint64_t> follow_;
};

struct BuildNode {
  std::vector<std::pair<SymbolSet, std::uint32_t>> kids;
  std::vector<std::pair<std::uint32_t, std::uint32_t>> ends;  // rank, program word
  std::uint32_t depth = 0;
};

// Frames pack (depth << 32 | node offset).
constexpr std::uint64_t frame(std::uint32_t node, std::uint32_t depth) {
  return std::uint64_t{depth} << 32 | node;
}

// Writes node `b` (and, depth first, its subtree) at the end of `words`; returns its offset.
// Single-child, end-less descendants are merged into the node's segment.
std::uint32_t emit(std::vector<BuildNode>& tree, std::uint32_t b, std::vector<std::uint32_t>& words) {
  std::vector<SymbolSet> segment;
  while (b != 0 && tree[b].kids.size() == 1 && tree[b].ends.empty()) {
    segment.push_back(tree[b].kids[0].first);
    b = tree[b].kids[0].second;
  }
  BuildNode& n = tree[b];
  // Explicit digits first: they are the common case at every depth. Ends best first, so a
  // walk can stop offering at the first one the scratch does not keep.
  std::stable_sort(n.kids.begin(), n.kids.end(), [](const auto& x, const auto& y) {
    return (std::popcount(x.first) == 1) > (std::popcount(y.first) == 1);
  });
  std::sort(n.ends.begin(), n.ends.end());
  const auto at = static_cast<std::uint32_t>(words.size());
  words.push_back(static_cast<std::uint32_t>(n.kids.size()) | static_cast<std::uint32_t>(segment.size())
                                                                  << 16);
  words.push_back(static_cast<std::uint32_t>(n.ends.size()));
  words.insert(words.end(), segment.begin(), segment.end());
  for (const auto& [rank, program] : n.ends) {
    words.push_back(rank);
    words.push_back(program);
  }
  const std::size_t edges = words.size();
  for (const auto& [set, child] : n.kids) {
    words.push_back(set);
    words.push_back(0);  // the child's offset, once written
  }
  const std::vector<std::pair<SymbolSet, std::uint32_t>> kids =
      n.kids;  // `tree` is not resized; n stays valid
  for (std::size_t i = 0; i < kids.size(); ++i) words[edges + 2 * i + 1] = emit(tree, kids[i].second, words);
  return at;
}

}  // namespace

StatusOr<std::unique_ptr<TrieIndex>> TrieIndex::build(const std::vector<RankedPattern>& patterns) {
  std::unique_ptr<TrieIndex> t(new TrieIndex());
  std::vector<BuildNode> b(1);
  std::size_t max_depth = 0;
  for (const RankedPattern& p : patterns) {
    const std::vector<Element>& el = p.parsed.elements;
    std::size_t run = 0;
    std::uint32_t at = 0;
    for (; run < el.size() && !el[run].group && el[run].repeat == Repeat::one; ++run) {
      const SymbolSet set = el[run].set;
      std::uint32_t next = 0;
      for (const auto& [s, child] : b[at].kids) {
        if (s == set) next = child;
      }
      if (next == 0) {
        next = static_cast<std::uint32_t>(b.size());
        b[at].kids.emplace_back(set, next);
        BuildNode n;
        n.depth = b[at].depth + 1;
        b.push_back(std::move(n));  // invalidates references into b: none held
      }
      at = next;
    }
    max_depth = std::max<std::size_t>(max_depth, b[at].depth);
    std::uint32_t program = kNoProgram;
    if (run < el.size()) {
      const std::vector<Element> rest(el.begin() + static_cast<std::ptrdiff_t>(run), el.end());
      PositionAutomaton a;
      PositionAutomaton::Sets sets;
      if (!a.add(rest, sets)) return Status::internal("dial-peer pattern with more than 64 positions");
      Program prog;
      prog.first = sets.first;
      prog.last = sets.last;
      prog.nullable = sets.nullable;
      prog.follow = static_cast<std::uint32_t>(t->follow_.size());
      prog.accept = static_cast<std::uint32_t>(t->accept_.size());
      t->follow_.insert(t->follow_.end(), a.follow().begin(), a.follow().end());
      for (int s = 0; s < kSymbolCount; ++s) {
        std::uint64_t m = 0;
        for (std::size_t i = 0; i < a.position_sets().size(); ++i) {
          if (a.position_sets()[i] >> s & 1u) m |= std::uint64_t{1} << i;
        }
        t->accept_.push_back(m);
      }
      program = static_cast<std::uint32_t>(t->programs_.size());
      t->programs_.push_back(prog);
    }
    b[at].ends.emplace_back(p.rank, program | (p.parsed.whole_number ? kWholeNumber : 0u));
  }

  std::size_t max_edges = 1;
  for (const BuildNode& n : b) max_edges = std::max(max_edges, n.kids.size());
  t->words_.reserve(2 * b.size() + 2 * patterns.size());
  emit(b, 0, t->words_);
  t->frames_needed_ = max_edges * (max_depth + 1) + 1;
  t->words_.shrink_to_fit();
  t->programs_.shrink_to_fit();
  t->follow_.shrink_to_fit();
  t->accept_.shrink_to_fit();
  return t;
}

std::size_t TrieIndex::bytes() const {
  return sizeof(*this) + words_.capacity() * sizeof(std::uint32_t) + programs_.capacity() * sizeof(Program) +
         (follow_.capacity() + accept_.capacity()) * sizeof(std::uint64_t);
}

bool TrieIndex::run(const Program& p, const std::uint8_t* sym, int len, bool whole_number) const noexcept {
  if (p.nullable && (!whole_number || len == 0)) return true;
  if (len == 0) return false;
  const std::uint64_t* follow = &follow_[p.follow];
  const std::uint64_t* accept = &accept_[p.accept];
  std::uint64_t state = p.first & accept[sym[0]];  // positions that matched the last digit
  for (int i = 1; i < len; ++i) {
    if (state == 0) return false;
    if (!whole_number && (state & p.last) != 0) return true;  // a leading part matched
    std::uint64_t next = 0;
    for (std::uint64_t m = state; m != 0; m &= m - 1) next |= follow[std::countr_zero(m)];
    state = next & accept[sym[i]];
  }
  return (state & p.last) != 0;
}

void TrieIndex::collect(const std::uint8_t* sym, int len, std::uint64_t* frames, std::size_t frame_capacity,
                        BestRanks& best) const noexcept {
  REGFRONT_DCHECK(frame_capacity >= frames_needed_);
  const std::uint32_t* words = words_.data();
  std::size_t sp = 0;
  frames[sp++] = frame(0, 0);
  while (sp != 0) {
    const std::uint64_t f = frames[--sp];
    auto depth = static_cast<int>(f >> 32);
    const std::uint32_t* w = words + static_cast<std::uint32_t>(f);
    const std::uint32_t edges = w[0] & 0xffffu;
    const auto segment = static_cast<int>(w[0] >> 16);
    const std::uint32_t ends = w[1];
    w += 2;
    if (depth + segment > len) continue;  // the number ends inside the merged chain
    bool on = true;
    for (int i = 0; i < segment && on; ++i) on = (w[i] >> sym[depth + i] & 1u) != 0;
    if (!on) continue;
    depth += segment;
    w += segment;
    for (std::size_t i = 0; i < ends; ++i, w += 2) {
      const bool whole = (w[1] & kWholeNumber) != 0;
      const std::uint32_t program = w[1] & ~kWholeNumber;
      const bool matched = program == kNoProgram ? (!whole || depth == len)
                                                 : run(programs_[program], sym + depth, len - depth, whole);
      if (matched && !best.offer(w[0])) {  // the rest of this node's ends rank lower
        w += 2 * (ends - i);
        break;
      }
    }
    if (depth == len) continue;
    const std::uint32_t bit = std::uint32_t{1} << sym[depth];
    for (std::size_t i = 0; i < edges; ++i) {
      if ((w[2 * i] & bit) != 0) {
        REGFRONT_DCHECK(sp < frame_capacity);  // frames_needed_ bounds it
        frames[sp++] = frame(w[2 * i + 1], static_cast<std::uint32_t>(depth + 1));
      }
    }
  }
}

}  // namespace regfront::call::detail
