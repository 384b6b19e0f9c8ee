// Snapshot::choose_credential (F4 order, F4.5, case-sensitive realms) and SnapshotBuilder
// (HA1 values, stable plans across rebuilds, owner worker).
#include "regfront/reg/snapshot.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "harness.h"
#include "regfront/auth/digest.h"
#include "regfront/control/snapshot_builder.h"

namespace regfront::reg {
namespace {

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

std::uint32_t endpoint_index(const Snapshot& s, std::string_view number) {
  for (std::uint32_t i = 0; i < s.endpoints.size(); ++i) {
    if (s.endpoints[i].number == number) return i;
  }
  ADD_FAILURE() << "no endpoint " << number;
  return 0;
}

void expect_ha1(const auth::Ha1Set& got, std::string_view user, std::string_view realm, std::string_view pw) {
  const auth::Ha1Set want = auth::compute_ha1(user, realm, pw);
  for (std::size_t h = 0; h < auth::kHashCount; ++h) {
    EXPECT_EQ(got.by_hash[h].view(), want.by_hash[h].view()) << user << " " << realm << " hash " << h;
    EXPECT_GT(got.by_hash[h].length, 0);
  }
}

struct Expect {
  std::string_view number, realm, user, password;
  int tier;
};

TEST(SnapshotCredentials, F4Order) {
  control::SnapshotBuilder b(1);
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
    ASSERT_NE(c.ha1, nullptr);
    EXPECT_EQ(c.cred->username, e.user);
    EXPECT_EQ(c.cred->tier, e.tier);
    expect_ha1(*c.ha1, e.user, e.realm, e.password);
  }
}

TEST(SnapshotCredentials, RealmIsCaseSensitive) {
  control::SnapshotBuilder b(1);
  const auto s = b.build(load_config(kTiers), loopback_addresses(), 5060);
  EXPECT_EQ(s->realms.find("Realm-A"), kNoRealm);
  EXPECT_EQ(s->realms.find("REALM-B"), kNoRealm);
  EXPECT_NE(s->realms.find("realm-a"), kNoRealm);
  // An unnamed realm cannot be answered even by realm-less entries (their HA1 needs the realm).
  const Snapshot::Choice c = s->choose_credential(endpoint_index(*s, "1001"), s->realms.find("Realm-A"));
  EXPECT_EQ(c.cred, nullptr);
}

TEST(SnapshotCredentials, NoneMatchesGivesNullptr) {
  control::SnapshotBuilder b(1);
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

TEST(SnapshotBuilder, RegistrarFields) {
  control::SnapshotBuilder b(2);
  const auto s = b.build(load_config(R"(
dial-peer voice 1 pots
 destination-pattern 3001
sip-ua
 registrar 1 dns:reg-a.example:5070 expires 600 auth-realm pinned.example refresh-ratio 60
 registrar 3 dns:reg-c.example
 retry register 9
 timers register 250
 registration rate 40
)"),
                         loopback_addresses(), 5099);
  EXPECT_EQ(s->listen_port, 5099);
  EXPECT_EQ(s->t1_ms, 250u);
  EXPECT_EQ(s->retry_register, 9);
  const SnapRegistrar& r1 = s->registrars[0];
  ASSERT_TRUE(r1.present);
  EXPECT_EQ(r1.index, 1);
  EXPECT_EQ(r1.domain, "reg-a.example");
  EXPECT_EQ(r1.request_uri, "sip:reg-a.example:5070");
  EXPECT_EQ(r1.expires, 600u);
  EXPECT_EQ(r1.refresh_ratio, 60);
  EXPECT_EQ(r1.auth_realm, s->realms.find("pinned.example"));
  EXPECT_NE(r1.auth_realm, kNoRealm);
  EXPECT_EQ(r1.local_ip, "127.0.0.1");
  EXPECT_GT(r1.addr_len, 0u);
  EXPECT_DOUBLE_EQ(r1.rate_per_worker, 20.0);
  EXPECT_FALSE(s->registrars[1].present);
  EXPECT_TRUE(s->registrars[2].present);
  EXPECT_EQ(s->registrars[2].auth_realm, kNoRealm);
}

// (worker, slot) → entry, for every used plan entry.
struct Placed {
  std::uint32_t worker, slot;
  PlanEntry e;
};
std::map<std::string, Placed> placements(const Snapshot& s) {
  std::map<std::string, Placed> out;
  for (std::uint32_t w = 0; w < s.plans.size(); ++w) {
    for (std::uint32_t slot = 0; slot < s.plans[w].size(); ++slot) {
      const PlanEntry& e = s.plans[w][slot];
      if (e.endpoint == kNoEntry) continue;
      const std::string key = s.endpoints[e.endpoint].number + "@" + std::to_string(e.registrar);
      EXPECT_TRUE(out.emplace(key, Placed{w, slot, e}).second) << "duplicate " << key;
    }
  }
  return out;
}

std::string endpoints_config(std::initializer_list<std::string_view> numbers, std::string_view registrars) {
  std::string t;
  int tag = 1;
  for (std::string_view n : numbers) {
    t += "dial-peer voice " + std::to_string(tag++) + " pots\n destination-pattern " + std::string(n) + "\n";
  }
  t += "sip-ua\n";
  t += std::string(registrars);
  return t;
}

TEST(SnapshotBuilder, PlansStableAcrossRebuilds) {
  constexpr std::uint32_t kWorkers = 3;
  control::SnapshotBuilder b(kWorkers);
  const auto addrs = loopback_addresses();
  const std::string regs12 = " registrar 1 dns:a.example\n registrar 2 dns:b.example\n";
  const auto s1 = b.build(load_config(endpoints_config({"5001", "5002", "5003", "5004"}, regs12)), addrs, 5060);
  const auto p1 = placements(*s1);
  ASSERT_EQ(p1.size(), 8u);
  std::set<std::uint32_t> gens;
  for (const auto& [key, p] : p1) {
    // Each binding lives with the owner worker of its number, a stable function.
    const std::string number = key.substr(0, key.find('@'));
    EXPECT_EQ(p.worker, control::owner_worker(number, kWorkers)) << key;
    EXPECT_EQ(control::owner_worker(number, kWorkers), control::owner_worker(number, kWorkers));
    EXPECT_LT(p.worker, kWorkers);
    EXPECT_TRUE(gens.insert(p.e.generation).second) << "generations must be unique";
  }

  // Same configuration: identical plan.
  const auto s2 = b.build(load_config(endpoints_config({"5001", "5002", "5003", "5004"}, regs12)), addrs, 5060);
  EXPECT_GT(s2->version, s1->version);
  const auto p2 = placements(*s2);
  ASSERT_EQ(p2.size(), p1.size());
  for (const auto& [key, p] : p1) {
    ASSERT_TRUE(p2.count(key)) << key;
    EXPECT_EQ(p2.at(key).worker, p.worker);
    EXPECT_EQ(p2.at(key).slot, p.slot);
    EXPECT_EQ(p2.at(key).e.generation, p.e.generation);
  }

  // Endpoint 5002 removed, 5005 added, a registrar's expiry changed (same identity), a third
  // registrar added.
  const std::string regs123 =
      " registrar 1 dns:a.example expires 900\n registrar 2 dns:b.example\n registrar 3 dns:c.example\n";
  const auto s3 = b.build(load_config(endpoints_config({"5001", "5003", "5004", "5005"}, regs123)), addrs, 5060);
  const auto p3 = placements(*s3);
  ASSERT_EQ(p3.size(), 12u);
  for (const auto& [key, p] : p1) {
    if (key.rfind("5002@", 0) == 0) {
      EXPECT_FALSE(p3.count(key));
      // Its old slot no longer holds it: empty, or (freed slots are reused) given to another
      // binding under a new generation, so the worker drops what ran there.
      if (p.slot < s3->plans[p.worker].size()) {
        const PlanEntry& now = s3->plans[p.worker][p.slot];
        if (now.endpoint != kNoEntry) {
          EXPECT_NE(now.generation, p.e.generation) << key;
          EXPECT_NE(s3->endpoints[now.endpoint].number, "5002") << key;
        }
      }
      continue;
    }
    ASSERT_TRUE(p3.count(key)) << key;
    EXPECT_EQ(p3.at(key).slot, p.slot) << key;
    EXPECT_EQ(p3.at(key).e.generation, p.e.generation) << key;
  }
  for (const auto& [key, p] : p3) {
    if (p1.count(key)) continue;
    EXPECT_TRUE(gens.insert(p.e.generation).second) << "new binding " << key << " needs a new generation";
    EXPECT_EQ(s3->endpoints[p.e.endpoint].number, key.substr(0, key.find('@')));
  }

  // The registrar's address changes: its bindings are new bindings (new generations).
  const std::string regs_moved =
      " registrar 1 dns:a2.example expires 900\n registrar 2 dns:b.example\n registrar 3 dns:c.example\n";
  const auto s4 = b.build(load_config(endpoints_config({"5001", "5003", "5004", "5005"}, regs_moved)), addrs, 5060);
  const auto p4 = placements(*s4);
  for (const auto& [key, p] : p4) {
    const bool on_moved = key.back() == '0';  // registrar slot 0
    if (on_moved) {
      EXPECT_TRUE(gens.insert(p.e.generation).second) << key;
    } else {
      EXPECT_EQ(p.e.generation, p3.at(key).e.generation) << key;
      EXPECT_EQ(p.slot, p3.at(key).slot) << key;
    }
  }
}

}  // namespace
}  // namespace regfront::reg
