// The Hyperscan engine: one block-mode database for the whole table, each expression's id its
// rank, so the match callback only offers the id to the worker's BestRanks.
#include <hs.h>

#include <string>
#include <vector>

#include "dial_peer_engines.h"
#include "regfront/common/check.h"

namespace regfront::call::detail {
namespace {

// Hyperscan calls this for each match end; SINGLEMATCH makes it once per expression.
int on_match(unsigned int id, unsigned long long /*from*/, unsigned long long /*to*/, unsigned int /*flags*/,
             void* ctx) {
  static_cast<BestRanks*>(ctx)->offer(id);
  return 0;  // go on: a later expression may rank better
}

}  // namespace

StatusOr<std::unique_ptr<HyperscanIndex>> HyperscanIndex::build(const std::vector<RankedPattern>& patterns) {
  std::unique_ptr<HyperscanIndex> index(new HyperscanIndex());
  if (patterns.empty()) return index;  // nothing to scan for

  std::vector<std::string> regex;
  std::vector<const char*> expressions;
  std::vector<unsigned int> flags, ids;
  regex.reserve(patterns.size());
  for (const RankedPattern& p : patterns) {
    regex.push_back(to_regex(p.parsed));
    // Patterns with '$' may still match the empty number ("5%$"); the others that can match
    // nothing never get here (they match every number).
    flags.push_back(HS_FLAG_SINGLEMATCH | (p.parsed.nullable ? HS_FLAG_ALLOWEMPTY : 0u));
    ids.push_back(p.rank);
  }
  expressions.reserve(regex.size());
  for (const std::string& r : regex) expressions.push_back(r.c_str());

  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(expressions.data(), flags.data(), ids.data(),
                       static_cast<unsigned int>(expressions.size()), HS_MODE_BLOCK, nullptr, &index->db_,
                       &err) != HS_SUCCESS) {
    std::string what = "hyperscan: ";
    what += err != nullptr && err->message != nullptr ? err->message : "compile failed";
    if (err != nullptr && err->expression >= 0)
      what += " (expression " + regex[static_cast<std::size_t>(err->expression)] + ")";
    hs_free_compile_error(err);
    return Status::internal(what);
  }
  if (hs_alloc_scratch(index->db_, &index->prototype_) != HS_SUCCESS) {
    return Status::internal("hyperscan: cannot allocate scratch");
  }
  return index;
}

HyperscanIndex::~HyperscanIndex() {
  hs_free_scratch(prototype_);
  hs_free_database(db_);
}

StatusOr<hs_scratch*> HyperscanIndex::clone_scratch() const {
  if (prototype_ == nullptr) return static_cast<hs_scratch*>(nullptr);
  hs_scratch_t* s = nullptr;
  if (hs_clone_scratch(prototype_, &s) != HS_SUCCESS)
    return Status::internal("hyperscan: cannot clone scratch");
  return s;
}

std::size_t HyperscanIndex::scratch_bytes() const {
  std::size_t n = 0;
  if (prototype_ != nullptr) hs_scratch_size(prototype_, &n);
  return n;
}

std::size_t HyperscanIndex::bytes() const {
  std::size_t n = 0;
  if (db_ != nullptr) hs_database_size(db_, &n);
  return n + scratch_bytes();
}

void HyperscanIndex::collect(std::string_view number, hs_scratch* scratch, BestRanks& best) const noexcept {
  if (db_ == nullptr) return;
  // A number is at most 33 bytes. The empty number is scanned too ("5%$" matches it), from a
  // non-null pointer.
  const char* data = number.empty() ? "" : number.data();
  [[maybe_unused]] const hs_error_t rc =
      hs_scan(db_, data, static_cast<unsigned int>(number.size()), 0, scratch, on_match, &best);
  REGFRONT_DCHECK(rc == HS_SUCCESS);  // HS_SCRATCH_IN_USE: one scratch shared by two threads
}

}  // namespace regfront::call::detail
