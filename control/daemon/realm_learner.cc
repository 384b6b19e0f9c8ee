// The learned realms, per registrar, least recently used evicted (see regfront/daemon/realm_learner.h).
#include "regfront/daemon/realm_learner.h"

#include <algorithm>

#include "regfront/daemon/log.h"

namespace regfront::daemon {

bool RealmLearner::learn(std::uint8_t slot, std::string_view realm, std::uint64_t now_ms) {
  if (slot >= reg::kRegistrarSlots || realm.empty()) return false;
  std::vector<Entry>& list = by_slot_[slot];
  for (Entry& e : list) {
    if (e.realm == realm) {  // already learned (another worker asked first): only recent again
      e.used_ms = now_ms;
      return false;
    }
  }
  if (list.size() >= per_registrar_) {
    const auto lru = std::min_element(list.begin(), list.end(),
                                      [](const Entry& a, const Entry& b) { return a.used_ms < b.used_ms; });
    if (may_log(slot, now_ms)) {
      event(kNotifications, "SIP", "REALM_EVICTED",
            "Registrar %u: learned realm \"%s\" evicted for \"%.*s\" (at most %u per registrar, least "
            "recently used goes)",
            slot + 1u, lru->realm.c_str(), static_cast<int>(realm.size()), realm.data(), per_registrar_);
    }
    list.erase(lru);
    ++evicted_[slot];
    ++evicted_total_;
  }
  list.push_back(Entry{std::string(realm), now_ms});
  ++learned_;
  if (may_log(slot, now_ms)) {
    event(kInformational, "SIP", "REALM_LEARNED",
          "Registrar %u: realm \"%.*s\" challenged: adding HA1s for realm-less credentials", slot + 1u,
          static_cast<int>(realm.size()), realm.data());
  }
  rebuild_union();
  return true;
}

bool RealmLearner::may_log(std::uint8_t slot, std::uint64_t now_ms) {
  LogWindow& w = log_[slot];
  if (now_ms >= w.start_ms + kLogWindowMs) {
    if (w.suppressed != 0) {
      log("registrar %u: %llu more realm learning line(s) not logged in the last %llu s", slot + 1u,
          static_cast<unsigned long long>(w.suppressed), static_cast<unsigned long long>(kLogWindowMs / 1000));
    }
    w = LogWindow{now_ms, 0, 0};
  }
  if (w.lines < kLogLinesPerWindow) {
    ++w.lines;
    return true;
  }
  ++w.suppressed;
  return false;
}

void RealmLearner::touch(std::uint8_t slot, std::string_view realm, std::uint64_t now_ms) {
  if (slot >= reg::kRegistrarSlots) return;
  for (Entry& e : by_slot_[slot]) {
    if (e.realm == realm) e.used_ms = std::max(e.used_ms, now_ms);
  }
}

void RealmLearner::annotate(std::vector<cli::RegistrarRow>& rows) const {
  for (cli::RegistrarRow& row : rows) {
    if (row.index < 1 || row.index > reg::kRegistrarSlots) continue;
    std::vector<Entry> list = by_slot_[row.index - 1];
    std::stable_sort(list.begin(), list.end(), [](const Entry& a, const Entry& b) { return a.used_ms > b.used_ms; });
    row.learned_realms.clear();
    for (const Entry& e : list) row.learned_realms.push_back(e.realm);
    row.learned_realms_evicted = evicted_[row.index - 1];
    row.learned_realms_max = per_registrar_;
  }
}

void RealmLearner::rebuild_union() {
  union_.clear();
  for (const auto& list : by_slot_) {
    for (const Entry& e : list) {
      if (std::find(union_.begin(), union_.end(), e.realm) == union_.end()) union_.push_back(e.realm);
    }
  }
}

}  // namespace regfront::daemon
