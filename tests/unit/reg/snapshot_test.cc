// Snapshot::choose_credential (F4 order, F4.5) and RealmTable::find (case-sensitive realms), on
// snapshots the real snapshot::Builder built.
#include "regfront/reg/snapshot.h"

#include <gtest/gtest.h>

#include <string>

#include "harness.h"
#include "regfront/snapshot/builder.h"

namespace regfront::reg {
namespace {

using test::endpoint_index;
using test::expect_ha1;
using test::load_config;
using test::loopback_addresses;

constexpr std::string_view kTiers = R"(
dial-peer voice 100 pots
 destination-pattern 1001
 authentication username dp-a password 0 pw-dp-a realm realm-a
 authentication username dp-any password 0 pw-dp-any
dial-peer voice 200 pots
 destination-pattern 1002
sip-ua
 credentials number 1001 username cr-a password 0 pw-cr-a realm realm-a
 credentials number 1001 username cr-b password 0 pw-cr-b realm realm-b
 authentication username ua-b password 0 pw-ua-b realm realm-b
 authentication username ua-c password 0 pw-ua-c realm realm-c
 authentication username ua-any password 0 pw-ua-any
 registrar 1 dns:realm-d expires 3600
)";

struct Expect {
  std::string_view number, realm, user, password;
  int tier;
};

TEST(SnapshotCredentials, F4Order) {
  snapshot::Builder b(1);
  const auto s = b.build(load_config(kTiers), loopback_addresses(), 5060);
  const Expect cases[] = {
      {"1001", "realm-a", "dp-a", "pw-dp-a", 1},      // tier 1 beats tier 2 (cr-a)
      {"1001", "realm-b", "cr-b", "pw-cr-b", 2},      // tier 2 beats tier 3 (ua-b)
      {"1001", "realm-c", "ua-c", "pw-ua-c", 3},      // tier 3
      {"1001", "realm-d", "dp-any", "pw-dp-any", 4},  // tier 4: dial peer's before sip-ua's
      {"1002", "realm-a", "ua-any", "pw-ua-any", 4},  // no tier 1-3 for realm-a: sip-ua realm-less
      {"1002", "realm-b", "ua-b", "pw-ua-b", 3},
      {"1002", "realm-d", "ua-any", "pw-ua-any", 4},
  };
  for (const Expect& e : cases) {
    SCOPED_TRACE(std::string(e.number) + " @ " + std::string(e.realm));
    const std::uint32_t realm_id = s->realms.find(e.realm);
    ASSERT_NE(realm_id, kNoRealm);
    const Snapshot::Choice c = s->choose_credential(endpoint_index(*s, e.number), realm_id);
    ASSERT_NE(c.cred, nullptr);
    EXPECT_EQ(s->username(*c.cred), e.user);
    EXPECT_EQ(c.cred->tier, e.tier);
    expect_ha1(c.ha1, e.user, e.realm, e.password, e.tier == 4);
  }
}

TEST(SnapshotCredentials, RealmIsCaseSensitive) {
  snapshot::Builder b(1);
  const auto s = b.build(load_config(kTiers), loopback_addresses(), 5060);
  EXPECT_EQ(s->realms.find("Realm-A"), kNoRealm);
  EXPECT_EQ(s->realms.find("REALM-B"), kNoRealm);
  EXPECT_NE(s->realms.find("realm-a"), kNoRealm);
  // An unnamed realm cannot be answered even by realm-less entries (their HA1 needs the realm).
  const Snapshot::Choice c = s->choose_credential(endpoint_index(*s, "1001"), s->realms.find("Realm-A"));
  EXPECT_EQ(c.cred, nullptr);
}

TEST(SnapshotCredentials, NoneMatchesGivesNullptr) {
  snapshot::Builder b(1);
  const auto s = b.build(load_config(R"(
dial-peer voice 1 pots
 destination-pattern 2001
 authentication username dp password 0 pw realm realm-a
sip-ua
 authentication username ua password 0 pw realm realm-b
 registrar 1 dns:realm-c
)"),
                         loopback_addresses(), 5060);
  const std::uint32_t ep = endpoint_index(*s, "2001");
  EXPECT_NE(s->choose_credential(ep, s->realms.find("realm-a")).cred, nullptr);
  EXPECT_NE(s->choose_credential(ep, s->realms.find("realm-b")).cred, nullptr);
  EXPECT_EQ(s->choose_credential(ep, s->realms.find("realm-c")).cred, nullptr);  // F4.5
  EXPECT_EQ(s->choose_credential(ep, kNoRealm).cred, nullptr);
}

}  // namespace
}  // namespace regfront::reg
