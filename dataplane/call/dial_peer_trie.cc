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
  std::vector<TrieIndex::End> ends;
  std::uint32_t depth = 0;
};

// Frames pack (depth << 32 | node).
constexpr std::uint64_t frame(std::uint32_t node, std::uint32_t depth) {
  return std::uint64_t{depth} << 32 | node;
}

}  // namespace

StatusOr<std::unique_ptr<TrieIndex>> TrieIndex::build(const std::vector<RankedPattern>& patterns) {
  std::unique_ptr<TrieIndex> t(new TrieIndex());
  std::vector<BuildNode> b(1);
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
    End end;
    end.rank = p.rank;
    end.whole_number = p.parsed.whole_number;
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
      end.program = static_cast<std::uint32_t>(t->programs_.size());
      t->programs_.push_back(prog);
    }
    b[at].ends.push_back(end);
  }

  // Flatten breadth first: a node's edges are contiguous, its children numbered together.
  std::size_t max_edges = 1, max_depth = 0;
  std::vector<std::uint32_t> order{0};  // build index of flat node i
  std::vector<std::uint32_t> flat_of(b.size(), 0);
  for (std::size_t i = 0; i < order.size(); ++i) {
    BuildNode& n = b[order[i]];
    // Explicit digits first: they are the common case at every depth.
    std::stable_sort(n.kids.begin(), n.kids.end(), [](const auto& x, const auto& y) {
      return (std::popcount(x.first) == 1) > (std::popcount(y.first) == 1);
    });
    for (const auto& kid : n.kids) {
      flat_of[kid.second] = static_cast<std::uint32_t>(order.size());
      order.push_back(kid.second);
    }
  }
  t->nodes_.resize(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) {
    BuildNode& n = b[order[i]];
    Node& f = t->nodes_[i];
    f.first_edge = static_cast<std::uint32_t>(t->edges_.size());
    f.edges = static_cast<std::uint32_t>(n.kids.size());
    for (const auto& [set, child] : n.kids) t->edges_.push_back(Edge{set, flat_of[child]});
    // Best first, so a walk can stop offering at the first one the scratch does not keep.
    std::sort(n.ends.begin(), n.ends.end(), [](const End& x, const End& y) { return x.rank < y.rank; });
    f.first_end = static_cast<std::uint32_t>(t->ends_.size());
    f.ends = static_cast<std::uint32_t>(n.ends.size());
    t->ends_.insert(t->ends_.end(), n.ends.begin(), n.ends.end());
    max_edges = std::max(max_edges, n.kids.size());
    max_depth = std::max<std::size_t>(max_depth, n.depth);
  }
  t->frames_needed_ = max_edges * (max_depth + 1) + 1;
  t->nodes_.shrink_to_fit();
  t->edges_.shrink_to_fit();
  t->ends_.shrink_to_fit();
  t->programs_.shrink_to_fit();
  t->follow_.shrink_to_fit();
  t->accept_.shrink_to_fit();
  return t;
}

std::size_t TrieIndex::bytes() const {
  return sizeof(*this) + nodes_.capacity() * sizeof(Node) + edges_.capacity() * sizeof(Edge) +
         ends_.capacity() * sizeof(End) + programs_.capacity() * sizeof(Program) +
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
  std::size_t sp = 0;
  frames[sp++] = frame(0, 0);
  while (sp != 0) {
    const std::uint64_t f = frames[--sp];
    const auto depth = static_cast<int>(f >> 32);
    const Node& n = nodes_[static_cast<std::uint32_t>(f)];
    for (std::uint32_t i = 0; i < n.ends; ++i) {
      const End& e = ends_[n.first_end + i];
      const bool matched = e.program == kNoProgram
                               ? (!e.whole_number || depth == len)
                               : run(programs_[e.program], sym + depth, len - depth, e.whole_number);
      if (matched && !best.offer(e.rank)) break;  // the rest of this node's ends rank lower
    }
    if (depth == len) continue;
    const std::uint32_t bit = std::uint32_t{1} << sym[depth];
    const Edge* edge = &edges_[n.first_edge];
    for (std::uint32_t i = 0; i < n.edges; ++i) {
      if ((edge[i].set & bit) != 0) {
        REGFRONT_DCHECK(sp < frame_capacity);  // frames_needed_ bounds it
        frames[sp++] = frame(edge[i].child, static_cast<std::uint32_t>(depth + 1));
      }
    }
  }
}

}  // namespace regfront::call::detail
