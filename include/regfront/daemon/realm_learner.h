// regfront/daemon/realm_learner.h — the realms registrars challenged with that the configuration
// does not name, kept per registrar so that realm-less credentials (F4.4) can answer them.
//
// Each learned realm costs an HA1 set (80 bytes) per realm-less credential in every snapshot,
// so the learner is bounded: at most `per_registrar` realms per registrar slot (--learned-realms,
// default 8), the least recently used one evicted for a new one (logged, at most 10 lines per
// registrar per 10 s). A registrar that cycles realms therefore evicts only its own; every other registrar keeps what it learned. What a realm-less
// credential can cost is bounded by the configuration: (configured realms + 6 × per_registrar)
// HA1 sets.
//
//   RealmLearner learner(8);
//   if (learner.learn(slot, realm, now_ms)) rebuild();       // a new realm (maybe evicting one)
//   learner.touch(slot, realm, now_ms);                      // a worker answered it again
//   builder.build(…, learner.realms(), …);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "regfront/cli/show.h"
#include "regfront/reg/snapshot.h"

namespace regfront::daemon {

class RealmLearner {
 public:
  static constexpr std::uint32_t kDefaultPerRegistrar = 8;
  static constexpr std::uint32_t kMaxPerRegistrar = 64;

  explicit RealmLearner(std::uint32_t per_registrar = kDefaultPerRegistrar) : per_registrar_(per_registrar) {}

  // Registrar slot `slot` (0..5) challenged with `realm`, which no snapshot names. Returns true
  // when the learned set changed (the realm was added, perhaps evicting that registrar's least
  // recently used one): the caller republishes. Logs each addition and eviction.
  bool learn(std::uint8_t slot, std::string_view realm, std::uint64_t now_ms);
  // A worker answered learned `realm` for registrar slot `slot`: it is recently used.
  void touch(std::uint8_t slot, std::string_view realm, std::uint64_t now_ms);
  // Every learned realm, each once, for the snapshot builder.
  const std::vector<std::string>& realms() const { return union_; }
  // `show sip-ua register registrars`: each row's learned realms (most recent first) and counts.
  void annotate(std::vector<cli::RegistrarRow>& rows) const;

  std::uint64_t learned() const { return learned_; }
  std::uint64_t evicted() const { return evicted_total_; }

 private:
  struct Entry {
    std::string realm;
    std::uint64_t used_ms = 0;
  };
  void rebuild_union();
  // At most kLogLinesPerWindow lines per registrar per window, then one line saying how many
  // were not logged: a registrar cycling realms cannot flood the log.
  bool may_log(std::uint8_t slot, std::uint64_t now_ms);
  static constexpr std::uint64_t kLogWindowMs = 10000;
  static constexpr std::uint32_t kLogLinesPerWindow = 10;
  struct LogWindow {
    std::uint64_t start_ms = 0;
    std::uint32_t lines = 0;
    std::uint64_t suppressed = 0;
  };
  LogWindow log_[reg::kRegistrarSlots];

  std::uint32_t per_registrar_;
  std::vector<Entry> by_slot_[reg::kRegistrarSlots];
  std::uint64_t evicted_[reg::kRegistrarSlots] = {};
  std::vector<std::string> union_;
  std::uint64_t learned_ = 0;
  std::uint64_t evicted_total_ = 0;
};

}  // namespace regfront::daemon
