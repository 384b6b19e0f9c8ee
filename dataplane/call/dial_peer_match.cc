// DialPeerMatcher: orders the table once (the IOS hunt order over every pattern), keeps the
// patterns that match every number apart, and hands the rest to the engine chosen.
#include "regfront/call/dial_peer_match.h"

#include <hs.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "dial_peer_engines.h"
#include "regfront/common/check.h"

namespace regfront::call {

std::string_view match_engine_name(MatchEngine e) {
  switch (e) {
    case MatchEngine::automatic:
      return "automatic";
    case MatchEngine::hyperscan:
      return "hyperscan";
    case MatchEngine::trie:
      return "trie";
  }
  return "?";
}

StatusOr<TranslatedPattern> translate_dial_pattern(std::string_view pattern) {
  auto parsed = detail::parse_dial_pattern(pattern);
  if (!parsed.ok()) return parsed.status();
  TranslatedPattern t;
  t.regex = detail::to_regex(*parsed);
  t.explicit_digits = parsed->explicit_digits;
  t.whole_number = parsed->whole_number;
  t.variable_length = parsed->variable_length;
  t.matches_every_number = !parsed->whole_number && parsed->nullable;
  return t;
}

// ---- MatchScratch ----

MatchScratch::MatchScratch(MatchScratch&& o) noexcept
    : owner_(std::exchange(o.owner_, nullptr)),
      hs_(std::exchange(o.hs_, nullptr)),
      best_(std::move(o.best_)),
      depth_(std::exchange(o.depth_, 0)),
      frames_(std::move(o.frames_)),
      frame_capacity_(std::exchange(o.frame_capacity_, 0)) {}

MatchScratch& MatchScratch::operator=(MatchScratch&& o) noexcept {
  if (this != &o) {
    hs_free_scratch(hs_);
    owner_ = std::exchange(o.owner_, nullptr);
    hs_ = std::exchange(o.hs_, nullptr);
    best_ = std::move(o.best_);
    depth_ = std::exchange(o.depth_, 0);
    frames_ = std::move(o.frames_);
    frame_capacity_ = std::exchange(o.frame_capacity_, 0);
  }
  return *this;
}

MatchScratch::~MatchScratch() { hs_free_scratch(hs_); }  // accepts null

std::size_t MatchScratch::bytes() const {
  std::size_t hs = 0;
  if (hs_ != nullptr) hs_scratch_size(hs_, &hs);
  return sizeof(*this) + hs + depth_ * sizeof(std::uint32_t) + frame_capacity_ * sizeof(std::uint64_t);
}

// ---- DialPeerMatcher ----

DialPeerMatcher::DialPeerMatcher(std::unique_ptr<detail::MatcherState> state) : state_(std::move(state)) {}
DialPeerMatcher::DialPeerMatcher(DialPeerMatcher&&) noexcept = default;
DialPeerMatcher& DialPeerMatcher::operator=(DialPeerMatcher&&) noexcept = default;
DialPeerMatcher::~DialPeerMatcher() = default;

StatusOr<DialPeerMatcher> DialPeerMatcher::build(std::span<const DialPeerPattern> patterns,
                                                 MatchEngine engine) {
  auto state = std::make_unique<detail::MatcherState>();
  state->engine = engine != MatchEngine::automatic      ? engine
                  : patterns.size() <= kTrieMaxPatterns ? MatchEngine::trie
                                                        : MatchEngine::hyperscan;
  state->size = patterns.size();

  std::vector<detail::ParsedPattern> parsed;
  parsed.reserve(patterns.size());
  for (const DialPeerPattern& p : patterns) {
    const std::string context =
        "dial-peer " + std::to_string(p.tag) + " pattern \"" + std::string(p.pattern) + "\"";
    if (p.preference > kMaxPreference) {
      return Status::invalid_argument("preference " + std::to_string(p.preference) + " is outside 0-10")
          .with_context(context);
    }
    auto one = detail::parse_dial_pattern(p.pattern);
    if (!one.ok()) return one.status().with_context(context);
    parsed.push_back(std::move(*one));
  }
  {
    std::vector<std::uint32_t> ids(patterns.size());
    std::transform(patterns.begin(), patterns.end(), ids.begin(),
                   [](const DialPeerPattern& p) { return p.id; });
    std::sort(ids.begin(), ids.end());
    if (auto dup = std::adjacent_find(ids.begin(), ids.end()); dup != ids.end()) {
      return Status::invalid_argument("id " + std::to_string(*dup) + " appears twice");
    }
  }

  // The IOS hunt order over the whole table (dial-peer hunt 0): most explicit digits, lower
  // preference, then — where IOS picks at random — lower tag, lower id.
  std::vector<std::uint32_t> order(patterns.size());
  std::iota(order.begin(), order.end(), 0u);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    const DialPeerPattern& x = patterns[a];
    const DialPeerPattern& y = patterns[b];
    if (parsed[a].explicit_digits != parsed[b].explicit_digits) {
      return parsed[a].explicit_digits > parsed[b].explicit_digits;
    }
    if (x.preference != y.preference) return x.preference < y.preference;
    if (x.tag != y.tag) return x.tag < y.tag;
    return x.id < y.id;
  });

  std::vector<detail::RankedPattern> ranked;
  ranked.reserve(patterns.size());
  state->id_of_rank.resize(patterns.size());
  for (std::uint32_t rank = 0; rank < order.size(); ++rank) {
    const std::uint32_t i = order[rank];
    state->id_of_rank[rank] = patterns[i].id;
    if (!parsed[i].whole_number && parsed[i].nullable) {
      state->every_number.push_back(rank);  // "T", "5%": an empty leading part matches
    } else {
      ranked.push_back(detail::RankedPattern{rank, std::move(parsed[i])});
    }
  }

  if (state->engine == MatchEngine::hyperscan) {
    auto hs = detail::HyperscanIndex::build(ranked);
    if (!hs.ok()) return hs.status();
    state->hyperscan = std::move(*hs);
  } else {
    auto trie = detail::TrieIndex::build(ranked);
    if (!trie.ok()) return trie.status();
    state->trie = std::move(*trie);
  }
  return DialPeerMatcher(std::move(state));
}

StatusOr<MatchScratch> DialPeerMatcher::make_scratch(std::size_t hunt_depth) const {
  if (hunt_depth == 0 || hunt_depth > kMaxHuntDepth) {
    return Status::invalid_argument("hunt depth " + std::to_string(hunt_depth) + " is outside 1-" +
                                    std::to_string(kMaxHuntDepth));
  }
  MatchScratch s;
  s.owner_ = state_.get();
  s.depth_ = hunt_depth;
  s.best_ = std::make_unique<std::uint32_t[]>(hunt_depth);
  if (state_->hyperscan) {
    auto hs = state_->hyperscan->clone_scratch();
    if (!hs.ok()) return hs.status();
    s.hs_ = *hs;
  }
  if (state_->trie) {
    s.frame_capacity_ = state_->trie->frames_needed();
    s.frames_ = std::make_unique<std::uint64_t[]>(s.frame_capacity_);
  }
  return s;
}

std::size_t DialPeerMatcher::match(std::string_view number, MatchScratch& scratch, std::uint32_t* out_ids,
                                   std::size_t max) const noexcept {
  const detail::MatcherState& st = *state_;
  // A scratch made by another table (another snapshot's) is sized for that table: a bug in the
  // caller, caught in debug builds and refused, not run, in release ones.
  REGFRONT_DCHECK(scratch.owner_ == &st);
  if (scratch.owner_ != &st) return 0;
  std::uint8_t sym[detail::kMaxNumberSymbols];
  const int len = detail::number_symbols(number, sym);
  if (len < 0) return 0;
  detail::BestRanks best{scratch.best_.get(), 0, static_cast<std::uint32_t>(std::min(max, scratch.depth_))};
  if (best.k == 0) return 0;
  for (const std::uint32_t rank : st.every_number) {
    if (!best.offer(rank)) break;  // ascending: the rest rank lower still
  }
  if (st.hyperscan) {
    st.hyperscan->collect(number, scratch.hs_, best);
  } else {
    st.trie->collect(sym, len, scratch.frames_.get(), scratch.frame_capacity_, best);
  }
  for (std::uint32_t i = 0; i < best.n; ++i) out_ids[i] = st.id_of_rank[best.rank[i]];
  return best.n;
}

MatchEngine DialPeerMatcher::engine() const { return state_->engine; }

std::size_t DialPeerMatcher::size() const { return state_->size; }

std::size_t DialPeerMatcher::memory_bytes() const {
  const detail::MatcherState& st = *state_;
  std::size_t n =
      sizeof(st) + (st.id_of_rank.capacity() + st.every_number.capacity()) * sizeof(std::uint32_t);
  if (st.hyperscan) n += st.hyperscan->bytes();
  if (st.trie) n += st.trie->bytes();
  return n;
}

}  // namespace regfront::call
