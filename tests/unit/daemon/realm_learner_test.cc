// The learned realms: per registrar, bounded, the least recently used evicted, one registrar
// never evicting another's.
#include "regfront/daemon/realm_learner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace regfront::daemon {
namespace {

bool has(const RealmLearner& l, const std::string& realm) {
  return std::find(l.realms().begin(), l.realms().end(), realm) != l.realms().end();
}

TEST(RealmLearnerTest, ARegistrarCyclingRealmsEvictsOnlyItsOwn) {
  RealmLearner l(4);
  std::uint64_t now = 1000;
  EXPECT_TRUE(l.learn(0, "good-a.example", now));
  EXPECT_TRUE(l.learn(2, "good-c.example", now));
  EXPECT_FALSE(l.learn(0, "good-a.example", now)) << "a repeat changes nothing";
  // Registrar 2 (slot 1) challenges every binding with a new realm.
  for (int i = 0; i < 1000; ++i) EXPECT_TRUE(l.learn(1, "cycled-" + std::to_string(i) + ".example", ++now));
  EXPECT_TRUE(has(l, "good-a.example"));
  EXPECT_TRUE(has(l, "good-c.example"));
  EXPECT_EQ(l.realms().size(), 2u + 4u) << "bounded: 4 per registrar";
  EXPECT_TRUE(has(l, "cycled-999.example"));
  EXPECT_FALSE(has(l, "cycled-995.example"));
  EXPECT_EQ(l.evicted(), 996u);
  // A new realm at registrar 1 is still learned, whatever registrar 2 did.
  EXPECT_TRUE(l.learn(0, "good-a2.example", ++now));
  EXPECT_TRUE(has(l, "good-a2.example"));
}

TEST(RealmLearnerTest, TheLeastRecentlyUsedGoesNotTheOldest) {
  RealmLearner l(2);
  l.learn(0, "stable.example", 1000);
  l.learn(0, "once.example", 2000);
  l.touch(0, "stable.example", 3000);  // still answered
  l.touch(1, "once.example", 4000);    // another registrar's use does not count here
  EXPECT_TRUE(l.learn(0, "new.example", 5000));
  EXPECT_TRUE(has(l, "stable.example"));
  EXPECT_FALSE(has(l, "once.example"));
  EXPECT_TRUE(has(l, "new.example"));
}

TEST(RealmLearnerTest, TheSameRealmAtTwoRegistrarsIsOneRealmForTheSnapshot) {
  RealmLearner l(2);
  l.learn(0, "shared.example", 1);
  l.learn(3, "shared.example", 2);
  EXPECT_EQ(l.realms().size(), 1u);
  // Evicted at one registrar, it stays while the other keeps it.
  l.learn(0, "x.example", 3);
  l.learn(0, "y.example", 4);
  EXPECT_TRUE(has(l, "shared.example"));
  EXPECT_FALSE(l.learn(7, "out-of-range.example", 5)) << "slots are 0..5";
  EXPECT_FALSE(l.learn(0, "", 5));
}

TEST(RealmLearnerTest, ShowRowsListMostRecentFirstWithTheirCounts) {
  RealmLearner l(2);
  l.learn(1, "a.example", 10);
  l.learn(1, "b.example", 20);
  l.touch(1, "a.example", 30);
  l.learn(1, "c.example", 40);  // evicts b
  std::vector<cli::RegistrarRow> rows(2);
  rows[0].index = 1;
  rows[1].index = 2;
  l.annotate(rows);
  EXPECT_TRUE(rows[0].learned_realms.empty());
  EXPECT_EQ(rows[1].learned_realms, (std::vector<std::string>{"c.example", "a.example"}));
  EXPECT_EQ(rows[1].learned_realms_evicted, 1u);
  EXPECT_EQ(rows[1].learned_realms_max, 2u);
  const std::string text = cli::render_registrars(rows, false);
  EXPECT_NE(text.find("  Learned realms: c.example, a.example (2 of 2, 1 evicted)\n"), std::string::npos) << text;
}

}  // namespace
}  // namespace regfront::daemon
