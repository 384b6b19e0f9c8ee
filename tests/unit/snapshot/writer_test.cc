// snapshot::add_realm, set_number and set_username: the writes that fill a reg::Snapshot.
#include "regfront/snapshot/writer.h"

#include <gtest/gtest.h>

#include <string>

#include "regfront/reg/snapshot.h"

namespace regfront::snapshot {
namespace {

TEST(Writer, AddRealmGivesStableDenseIdsThatFindReturns) {
  reg::RealmTable t;
  EXPECT_EQ(t.find("a.example"), reg::kNoRealm);
  EXPECT_EQ(add_realm(t, "a.example"), 0u);
  EXPECT_EQ(add_realm(t, "b.example"), 1u);
  EXPECT_EQ(add_realm(t, "a.example"), 0u) << "a known realm keeps its id";
  EXPECT_EQ(add_realm(t, "A.example"), 2u) << "realms are case-sensitive";
  // Past the first table size (8 slots, load factor 1/2): the slots are rebuilt, ids unchanged.
  for (int i = 0; i < 40; ++i) EXPECT_EQ(add_realm(t, "r" + std::to_string(i)), 3u + i);
  ASSERT_EQ(t.names.size(), 43u);
  EXPECT_GE(t.slots.size(), 2 * t.names.size());
  for (std::uint32_t id = 0; id < t.names.size(); ++id) EXPECT_EQ(t.find(t.names[id]), id) << t.names[id];
  EXPECT_EQ(t.find("r40"), reg::kNoRealm);
}

TEST(Writer, NumbersAndUsernamesGoToTheStringPool) {
  reg::Snapshot s;
  reg::SnapEndpoint e;
  set_number(s, e, "4085550100");
  EXPECT_EQ(s.number(e), "4085550100");

  reg::SnapCredential a;
  set_username(s, a, "alice");
  s.credentials.push_back(a);
  reg::SnapCredential a2;  // the same username as the last credential: its bytes are shared
  set_username(s, a2, "alice");
  EXPECT_EQ(a2.username_at, a.username_at);
  s.credentials.push_back(a2);
  reg::SnapCredential b;
  set_username(s, b, "bob");
  s.credentials.push_back(b);
  EXPECT_EQ(s.username(s.credentials[0]), "alice");
  EXPECT_EQ(s.username(s.credentials[1]), "alice");
  EXPECT_EQ(s.username(s.credentials[2]), "bob");
  EXPECT_EQ(s.strings, "4085550100alicebob");
}

TEST(Writer, OverlongNumberAndUsernameAreCut) {
  reg::Snapshot s;
  reg::SnapEndpoint e;
  set_number(s, e, std::string(0x10000 + 5, '1'));
  EXPECT_EQ(s.number(e).size(), 0xffffu);
  reg::SnapCredential c;
  set_username(s, c, std::string(reg::SnapCredential::kMaxUsername + 5, 'u'));
  EXPECT_EQ(s.username(c).size(), reg::SnapCredential::kMaxUsername);
}

}  // namespace
}  // namespace regfront::snapshot
