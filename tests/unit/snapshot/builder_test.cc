// snapshot::Builder: registrar slots and their generations, plans stable across rebuilds and
// the owner worker, live changes (leaving bindings, ghosts, slot release and reuse), and HA1s
// (reused from the previous snapshot only for the same key, SHA ones only for SHA realms).
#include "regfront/snapshot/builder.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <tuple>

#include "harness.h"
#include "regfront/auth/digest.h"
#include "regfront/reg/snapshot.h"

namespace regfront::snapshot {
namespace {

using reg::kNoEntry;
using reg::kNoRealm;
using reg::kRegistrarSlots;
using reg::kSnapRegistrarSlots;
using reg::PlanEntry;
using reg::ShaHa1;
using reg::SnapCredential;
using reg::SnapEndpoint;
using reg::Snapshot;
using reg::SnapRegistrar;
using test::endpoint_index;
using test::expect_ha1;
using test::load_config;
using test::loopback_addresses;

TEST(Builder, RegistrarFields) {
  Builder b(2);
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

// A registrar slot's generation changes when, and only when, the registrar there changes
// identity: workers drop the nonce they cached for the one that was there.
TEST(Builder, RegistrarGenerationFollowsIdentity) {
  Builder b(1);
  const auto cfg = [](const char* r1, const char* r2) {
    return load_config(std::string("dial-peer voice 1 pots\n destination-pattern 3001\nsip-ua\n registrar 1 ") + r1 +
                       "\n registrar 2 " + r2 + "\n");
  };
  const auto s1 = b.build(cfg("dns:reg-a.example", "dns:reg-b.example"), loopback_addresses(), 5060);
  const auto s2 = b.build(cfg("dns:reg-a.example expires 600", "dns:reg-b.example"), loopback_addresses(), 5060,
                          {}, s1.get(), 0);
  const auto s3 = b.build(cfg("dns:reg-c.example", "dns:reg-b.example"), loopback_addresses(), 5060, {}, s2.get(), 0);
  EXPECT_NE(s1->registrars[0].generation, 0u);
  EXPECT_NE(s1->registrars[0].generation, s1->registrars[1].generation);
  EXPECT_EQ(s2->registrars[0].generation, s1->registrars[0].generation) << "expires is not identity";
  EXPECT_NE(s3->registrars[0].generation, s2->registrars[0].generation) << "another registrar in slot 1";
  EXPECT_EQ(s3->registrars[1].generation, s1->registrars[1].generation);
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
      const std::string key = std::string(s.number(s.endpoints[e.endpoint])) + "@" + std::to_string(e.registrar);
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

TEST(Builder, PlansStableAcrossRebuilds) {
  constexpr std::uint32_t kWorkers = 3;
  Builder b(kWorkers);
  const auto addrs = loopback_addresses();
  const std::string regs12 = " registrar 1 dns:a.example\n registrar 2 dns:b.example\n";
  const auto s1 = b.build(load_config(endpoints_config({"5001", "5002", "5003", "5004"}, regs12)), addrs, 5060);
  const auto p1 = placements(*s1);
  ASSERT_EQ(p1.size(), 8u);
  std::set<std::uint32_t> gens;
  for (const auto& [key, p] : p1) {
    // Each binding lives with the owner worker of its number, a stable function.
    const std::string number = key.substr(0, key.find('@'));
    EXPECT_EQ(p.worker, owner_worker(number, kWorkers)) << key;
    EXPECT_EQ(owner_worker(number, kWorkers), owner_worker(number, kWorkers));
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
          EXPECT_NE(s3->number(s3->endpoints[now.endpoint]), "5002") << key;
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
    EXPECT_EQ(s3->number(s3->endpoints[p.e.endpoint]), key.substr(0, key.find('@')));
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

// DNS failover: the same registrar (same key) reached at another address. Its bindings are
// new bindings there (new generations, so the worker drops the old ones and registers afresh
// through the pacer), nothing leaves (no unregistration towards a target that may be dead),
// and its cached nonces are forgotten (a new registrar generation); the other registrar's
// bindings do not move. The first resolution (no address before) moves nothing.
TEST(Builder, AnotherAddressRenewsTheRegistrarsBindingsWithoutLeaving) {
  Builder b(2);
  const std::string regs = " registrar 1 dns:a.example\n registrar 2 dns:b.example\n";
  const config::Config cfg = load_config(endpoints_config({"7001", "7002", "7003"}, regs));
  RegistrarAddresses unresolved = loopback_addresses();
  unresolved[0].reset();
  const auto s0 = b.build(cfg, unresolved, 5060);
  RegistrarAddresses addrs = loopback_addresses();
  const auto s1 = b.build(cfg, addrs, 5060, {}, s0.get(), 1000);
  const auto p0 = placements(*s0), p1 = placements(*s1);
  for (const auto& [key, p] : p1) EXPECT_EQ(p.e.generation, p0.at(key).e.generation) << "first address: " << key;
  EXPECT_EQ(s1->registrars[0].generation, s0->registrars[0].generation);

  auto& in = reinterpret_cast<sockaddr_in&>(addrs[0]->addr);
  in.sin_port = htons(ntohs(in.sin_port) + 1);  // the next target
  const auto s2 = b.build(cfg, addrs, 5060, {}, s1.get(), 2000);
  const auto p2 = placements(*s2);
  ASSERT_EQ(p2.size(), p1.size()) << "nothing leaves, nothing is added";
  for (const auto& [key, p] : p2) {
    EXPECT_FALSE(p.e.leaving) << key;
    EXPECT_EQ(p.slot, p1.at(key).slot) << key;
    if (key.back() == '0') EXPECT_NE(p.e.generation, p1.at(key).e.generation) << key;
    else EXPECT_EQ(p.e.generation, p1.at(key).e.generation) << key;
  }
  EXPECT_NE(s2->registrars[0].generation, s1->registrars[0].generation) << "its cached nonces are forgotten";
  EXPECT_EQ(s2->registrars[1].generation, s1->registrars[1].generation);
  EXPECT_EQ(std::memcmp(&s2->registrars[0].addr, &addrs[0]->addr, addrs[0]->addr_len), 0);

  // Rebuilt at the same address: nothing moves again.
  const auto s3 = b.build(cfg, addrs, 5060, {}, s2.get(), 3000);
  for (const auto& [key, p] : placements(*s3)) EXPECT_EQ(p.e.generation, p2.at(key).e.generation) << key;
  EXPECT_EQ(s3->registrars[0].generation, s2->registrars[0].generation);
}

// ---- live changes: leaving bindings, ghosts, slot release and reuse ----

constexpr std::uint64_t kT0 = 5'000'000;  // ms; the builder's clock for these tests

// Three endpoints from `credentials` (realm-specific), one from a dial peer with a realm entry
// and a realm-less one; `extra` holds the registrar lines and whatever else a test needs.
std::string live_config(std::initializer_list<std::string_view> numbers, std::string_view extra) {
  std::string t = "sip-ua\n";
  for (std::string_view n : numbers) {
    const std::string s(n);
    t += " credentials number " + s + " username u" + s + " password 0 p" + s + " realm ra-" + s + ".example\n";
    t += " credentials number " + s + " username w" + s + " password 0 q" + s + " realm rb.example\n";
  }
  t += std::string(extra);
  return t;
}

// Every plan entry (leaving ones included), by "number@registrar slot".
std::map<std::string, Placed> all_entries(const Snapshot& s) { return placements(s); }

TEST(SnapshotLeaving, RemovedEndpointLeavesWithGhostAndCredentials) {
  Builder b(2);
  const auto addrs = loopback_addresses();
  const std::string regs = " registrar 1 dns:a.example\n registrar 2 dns:b.example\n";
  const auto s1 = b.build(load_config(live_config({"6001", "6002", "6003"}, regs)), addrs, 5060, {}, nullptr, kT0);
  EXPECT_EQ(b.next_expiry_ms(), 0u);
  const auto p1 = all_entries(*s1);
  ASSERT_EQ(p1.size(), 6u);
  for (const auto& [key, p] : p1) EXPECT_FALSE(p.e.leaving) << key;

  // 6002 removed (both its credentials, the realm ra-6002.example disappears from the config).
  const std::uint64_t t1 = kT0 + 1000;
  const auto s2 = b.build(load_config(live_config({"6001", "6003"}, regs)), addrs, 5060, {}, s1.get(), t1);
  const auto p2 = all_entries(*s2);
  ASSERT_EQ(p2.size(), 6u);  // 4 configured + 2 leaving
  for (const auto& [key, p] : p1) {
    SCOPED_TRACE(key);
    ASSERT_TRUE(p2.count(key));
    const Placed& q = p2.at(key);
    // Same slot, same generation: the worker recognises its binding and unregisters it.
    EXPECT_EQ(q.worker, p.worker);
    EXPECT_EQ(q.slot, p.slot);
    EXPECT_EQ(q.e.generation, p.e.generation);
    EXPECT_EQ(q.e.registrar, p.e.registrar);  // its registrar is still configured: live slot
    EXPECT_EQ(q.e.leaving, key.rfind("6002@", 0) == 0);
  }
  // The ghost endpoint keeps the number and the realm-specific credentials with their HA1s.
  const std::uint32_t ghost = p2.at("6002@0").e.endpoint;
  EXPECT_EQ(ghost, p2.at("6002@1").e.endpoint) << "one ghost per endpoint";
  const SnapEndpoint& ge = s2->endpoints[ghost];
  EXPECT_EQ(s2->number(ge), "6002");
  EXPECT_EQ(ge.cred_count, 2);
  for (const auto& [realm, user, pw] : {std::tuple{"ra-6002.example", "u6002", "p6002"},
                                        std::tuple{"rb.example", "w6002", "q6002"}}) {
    SCOPED_TRACE(realm);
    const std::uint32_t rid = s2->realms.find(realm);
    ASSERT_NE(rid, kNoRealm) << "the leaving endpoint's realm must stay in the realm table";
    const Snapshot::Choice c = s2->choose_credential(ghost, rid);
    ASSERT_NE(c.cred, nullptr);
    EXPECT_EQ(s2->username(*c.cred), user);
    EXPECT_EQ(c.cred->tier, 2);
    expect_ha1(c.ha1, user, realm, pw);
  }
  // Live endpoints are unaffected.
  EXPECT_EQ(s2->number(s2->endpoints[p2.at("6001@0").e.endpoint]), "6001");
  EXPECT_EQ(s2->username(*s2->choose_credential(p2.at("6003@1").e.endpoint, s2->realms.find("rb.example")).cred), "w6003");

  // Kept until its unregistration had time: at least Timer F (64·T1) after the change.
  const std::uint64_t until = b.next_expiry_ms();
  std::printf("[ measure ] leaving until t1 + %llu ms\n", static_cast<unsigned long long>(until - t1));
  EXPECT_GE(until, t1 + 64ull * s2->t1_ms);
  EXPECT_LE(until, t1 + 64ull * s2->t1_ms + 60000);

  // A rebuild before that keeps the leaving entries (same slot, generation, ghost creds).
  const auto s3 = b.build(load_config(live_config({"6001", "6003"}, regs)), addrs, 5060, {}, s2.get(), until - 1);
  const auto p3 = all_entries(*s3);
  ASSERT_EQ(p3.size(), 6u);
  EXPECT_TRUE(p3.at("6002@0").e.leaving);
  EXPECT_EQ(p3.at("6002@0").e.generation, p1.at("6002@0").e.generation);
  EXPECT_EQ(p3.at("6002@0").slot, p1.at("6002@0").slot);
  {
    const std::uint32_t g3 = p3.at("6002@0").e.endpoint;
    const Snapshot::Choice c = s3->choose_credential(g3, s3->realms.find("ra-6002.example"));
    ASSERT_NE(c.cred, nullptr);
    expect_ha1(c.ha1, "u6002", "ra-6002.example", "p6002");
  }
  EXPECT_EQ(b.next_expiry_ms(), until);

  // At the deadline the slots are released: the entries are gone (kNoEntry).
  const auto s4 = b.build(load_config(live_config({"6001", "6003"}, regs)), addrs, 5060, {}, s3.get(), until);
  const auto p4 = all_entries(*s4);
  EXPECT_EQ(p4.size(), 4u);
  EXPECT_FALSE(p4.count("6002@0"));
  for (const char* k : {"6002@0", "6002@1"}) {
    const Placed& old = p1.at(k);
    ASSERT_LT(old.slot, s4->plans[old.worker].size());
    EXPECT_EQ(s4->plans[old.worker][old.slot].endpoint, kNoEntry) << k;
  }
  EXPECT_EQ(b.next_expiry_ms(), 0u);
  for (const auto& e : s4->endpoints) EXPECT_NE(s4->number(e), "6002");
  EXPECT_EQ(s4->realms.find("ra-6002.example"), kNoRealm);
}

TEST(SnapshotLeaving, ReleasedSlotIsReusedWithNewGeneration) {
  Builder b(1);  // one worker: every binding competes for the same slots
  const auto addrs = loopback_addresses();
  const std::string regs = " registrar 1 dns:a.example\n";
  const auto s1 = b.build(load_config(live_config({"6001", "6002"}, regs)), addrs, 5060, {}, nullptr, kT0);
  const auto p1 = all_entries(*s1);
  std::set<std::uint32_t> gens;
  for (const auto& [k, p] : p1) gens.insert(p.e.generation);
  const auto s2 = b.build(load_config(live_config({"6001"}, regs)), addrs, 5060, {}, s1.get(), kT0 + 10);
  const std::uint64_t until = b.next_expiry_ms();
  ASSERT_GT(until, kT0 + 10);
  // While 6002 is leaving its slot is not given away: a new endpoint gets another slot.
  const auto s3 = b.build(load_config(live_config({"6001", "6007"}, regs)), addrs, 5060, {}, s2.get(), kT0 + 20);
  const auto p3 = all_entries(*s3);
  ASSERT_TRUE(p3.count("6002@0"));
  EXPECT_TRUE(p3.at("6002@0").e.leaving);
  ASSERT_TRUE(p3.count("6007@0"));
  EXPECT_NE(p3.at("6007@0").slot, p1.at("6002@0").slot);
  EXPECT_TRUE(gens.insert(p3.at("6007@0").e.generation).second);
  // Time is up: released; the next new binding takes the freed slot under a new generation.
  const auto s4 = b.build(load_config(live_config({"6001", "6007"}, regs)), addrs, 5060, {}, s3.get(), until);
  EXPECT_FALSE(all_entries(*s4).count("6002@0"));
  EXPECT_EQ(s4->plans[0][p1.at("6002@0").slot].endpoint, kNoEntry);
  const auto s5 = b.build(load_config(live_config({"6001", "6007", "6008"}, regs)), addrs, 5060, {}, s4.get(), until + 1);
  const auto p5 = all_entries(*s5);
  ASSERT_TRUE(p5.count("6008@0"));
  EXPECT_EQ(p5.at("6008@0").slot, p1.at("6002@0").slot) << "a freed slot is reused";
  EXPECT_TRUE(gens.insert(p5.at("6008@0").e.generation).second) << "reuse under a new generation";
  EXPECT_FALSE(p5.at("6008@0").e.leaving);
  EXPECT_EQ(s5->number(s5->endpoints[p5.at("6008@0").e.endpoint]), "6008");
  // Slot count did not grow beyond what was ever needed at once (3).
  EXPECT_EQ(s5->plans[0].size(), 3u);
}

TEST(SnapshotLeaving, RemovedRegistrarGetsGhostSlot) {
  Builder b(2);
  const auto addrs = loopback_addresses();
  const std::string numbers_regs =
      " registrar 1 dns:a.example\n registrar 2 dns:b.example:5070 expires 900\n registrar 3 dns:c.example\n"
      " registration rate 40\n";
  const auto s1 = b.build(load_config(live_config({"6001", "6002"}, numbers_regs)), addrs, 5060, {}, nullptr, kT0);
  const auto p1 = all_entries(*s1);
  ASSERT_EQ(p1.size(), 6u);
  const std::string without2 = " registrar 1 dns:a.example\n registrar 3 dns:c.example\n registration rate 40\n";
  const std::uint64_t t1 = kT0 + 500;
  const auto s2 = b.build(load_config(live_config({"6001", "6002"}, without2)), addrs, 5060, {}, s1.get(), t1);
  EXPECT_FALSE(s2->registrars[1].present);
  // The ghost of registrar 2 in slot 6 + 1, same address, domain and rate.
  const SnapRegistrar& g = s2->registrars[kRegistrarSlots + 1];
  const SnapRegistrar& was = s1->registrars[1];
  ASSERT_TRUE(g.present);
  EXPECT_EQ(g.index, 2);
  EXPECT_EQ(g.domain, "b.example");
  EXPECT_EQ(g.request_uri, "sip:b.example:5070");
  EXPECT_EQ(g.domain, was.domain);
  EXPECT_EQ(g.request_uri, was.request_uri);
  EXPECT_EQ(g.local_ip, was.local_ip);
  EXPECT_EQ(g.addr_len, was.addr_len);
  EXPECT_EQ(std::memcmp(&g.addr, &was.addr, was.addr_len), 0);
  EXPECT_DOUBLE_EQ(g.rate_per_worker, was.rate_per_worker);
  EXPECT_EQ(g.expires, 900u);
  for (int i = kRegistrarSlots; i < kSnapRegistrarSlots; ++i) {
    if (i != kRegistrarSlots + 1) {
      EXPECT_FALSE(s2->registrars[i].present) << i;
    }
  }
  const auto p2 = all_entries(*s2);
  for (const char* n : {"6001", "6002"}) {
    SCOPED_TRACE(n);
    const std::string k = std::string(n) + "@1", kg = std::string(n) + "@7";
    EXPECT_FALSE(p2.count(k));
    ASSERT_TRUE(p2.count(kg));
    const Placed& q = p2.at(kg);
    EXPECT_TRUE(q.e.leaving);
    EXPECT_EQ(q.worker, p1.at(k).worker);
    EXPECT_EQ(q.slot, p1.at(k).slot);
    EXPECT_EQ(q.e.generation, p1.at(k).e.generation);
    // The endpoint is still configured: the ghost binding points at the live endpoint's number
    // and credentials.
    const std::uint32_t ep = q.e.endpoint;
    EXPECT_EQ(s2->number(s2->endpoints[ep]), n);
    const Snapshot::Choice c = s2->choose_credential(ep, s2->realms.find("rb.example"));
    ASSERT_NE(c.cred, nullptr);
    EXPECT_EQ(s2->username(*c.cred), "w" + std::string(n));
    // Registrars 1 and 3 keep their bindings untouched.
    for (const char* r : {"@0", "@2"}) {
      const std::string kk = std::string(n) + r;
      ASSERT_TRUE(p2.count(kk));
      EXPECT_FALSE(p2.at(kk).e.leaving);
      EXPECT_EQ(p2.at(kk).e.generation, p1.at(kk).e.generation);
      EXPECT_EQ(p2.at(kk).slot, p1.at(kk).slot);
    }
  }
  const std::uint64_t until = b.next_expiry_ms();
  EXPECT_GE(until, t1 + 64ull * s2->t1_ms);
  // Still a ghost on the next rebuild, gone at the deadline.
  const auto s3 = b.build(load_config(live_config({"6001", "6002"}, without2)), addrs, 5060, {}, s2.get(), until - 1);
  EXPECT_TRUE(s3->registrars[kRegistrarSlots + 1].present);
  EXPECT_EQ(s3->registrars[kRegistrarSlots + 1].domain, "b.example");
  EXPECT_TRUE(all_entries(*s3).at("6001@7").e.leaving);
  const auto s4 = b.build(load_config(live_config({"6001", "6002"}, without2)), addrs, 5060, {}, s3.get(), until);
  EXPECT_FALSE(s4->registrars[kRegistrarSlots + 1].present);
  EXPECT_EQ(all_entries(*s4).size(), 4u);
  EXPECT_EQ(b.next_expiry_ms(), 0u);
}

TEST(SnapshotLeaving, ReaddressedRegistrarLeavesOldBindingsStartsNewOnes) {
  Builder b(1);
  const auto addrs = loopback_addresses();
  const auto s1 = b.build(load_config(live_config({"6001"}, " registrar 1 dns:a.example\n registrar 2 dns:b.example\n")),
                          addrs, 5060, {}, nullptr, kT0);
  const auto p1 = all_entries(*s1);
  const auto s2 = b.build(load_config(live_config({"6001"}, " registrar 1 dns:a2.example\n registrar 2 dns:b.example\n")),
                          addrs, 5060, {}, s1.get(), kT0 + 1);
  const auto p2 = all_entries(*s2);
  ASSERT_EQ(p2.size(), 3u);
  // The old binding leaves through the ghost of registrar 1 (old domain), same slot/generation.
  ASSERT_TRUE(p2.count("6001@6"));
  EXPECT_TRUE(p2.at("6001@6").e.leaving);
  EXPECT_EQ(p2.at("6001@6").slot, p1.at("6001@0").slot);
  EXPECT_EQ(p2.at("6001@6").e.generation, p1.at("6001@0").e.generation);
  EXPECT_EQ(s2->registrars[kRegistrarSlots].domain, "a.example");
  EXPECT_EQ(s2->registrars[kRegistrarSlots].index, 1);
  // The new binding: live slot 0 with the new domain, another binding slot, a new generation.
  ASSERT_TRUE(p2.count("6001@0"));
  EXPECT_FALSE(p2.at("6001@0").e.leaving);
  EXPECT_EQ(s2->registrars[0].domain, "a2.example");
  EXPECT_NE(p2.at("6001@0").slot, p1.at("6001@0").slot);
  EXPECT_NE(p2.at("6001@0").e.generation, p1.at("6001@0").e.generation);
  // Registrar 2's binding is untouched.
  EXPECT_EQ(p2.at("6001@1").e.generation, p1.at("6001@1").e.generation);
  EXPECT_FALSE(p2.at("6001@1").e.leaving);
}

TEST(SnapshotLeaving, ReaddedWhileLeavingIsANewBinding) {
  Builder b(1);
  const auto addrs = loopback_addresses();
  const std::string regs = " registrar 1 dns:a.example\n";
  const auto s1 = b.build(load_config(live_config({"6001", "6002"}, regs)), addrs, 5060, {}, nullptr, kT0);
  const auto p1 = all_entries(*s1);
  const auto s2 = b.build(load_config(live_config({"6001"}, regs)), addrs, 5060, {}, s1.get(), kT0 + 1);
  ASSERT_TRUE(all_entries(*s2).at("6002@0").e.leaving);
  const auto s3 = b.build(load_config(live_config({"6001", "6002"}, regs)), addrs, 5060, {}, s2.get(), kT0 + 2);
  const auto p3 = all_entries(*s3);
  ASSERT_TRUE(p3.count("6002@0"));
  EXPECT_FALSE(p3.at("6002@0").e.leaving);
  EXPECT_NE(p3.at("6002@0").e.generation, p1.at("6002@0").e.generation)
      << "a binding configured again while unregistering must not be taken for the old one";
  EXPECT_EQ(p3.at("6001@0").e.generation, p1.at("6001@0").e.generation);
  EXPECT_EQ(b.next_expiry_ms(), 0u);
  // The same for a registrar removed and added back with the same address.
  const auto s4 = b.build(load_config(live_config({"6001", "6002"}, "")), addrs, 5060, {}, s3.get(), kT0 + 3);
  EXPECT_TRUE(all_entries(*s4).at("6001@6").e.leaving);
  const auto s5 = b.build(load_config(live_config({"6001", "6002"}, regs)), addrs, 5060, {}, s4.get(), kT0 + 4);
  const auto p5 = all_entries(*s5);
  ASSERT_TRUE(p5.count("6001@0"));
  EXPECT_FALSE(p5.at("6001@0").e.leaving);
  EXPECT_NE(p5.at("6001@0").e.generation, p1.at("6001@0").e.generation);
  EXPECT_FALSE(p5.count("6001@6"));
}

// Endpoints come and go at random: a binding still configured keeps its slot and generation,
// every configured binding has a slot, no slot holds two (the builder's open-addressed slot
// and number indexes, with their deletions).
// A registrar re-addressed while nothing is left to unregister releases its slots at once, and
// with them the numbers' interned ids when those were their only slots; the numbers are still
// configured and get new slots at the new address, and a new number added in the same build
// must not share an id with them.
TEST(SnapshotSlots, NumbersWhoseOnlySlotsWereReleasedGetSlotsOfTheirOwn) {
  Builder b(1);
  auto config = [](std::string_view address, std::initializer_list<const char*> numbers) {
    std::string t = "sip-ua\n registrar 1 ipv4:" + std::string(address) + "\n";
    for (const char* n : numbers) t += std::string(" credentials number ") + n + " username u password 0 p realm r\n";
    return load_config(t);
  };
  b.build(config("127.0.0.1:5071", {"7001", "7002"}), loopback_addresses(), 5060);
  b.build(config("127.0.0.1:5072", {"7001", "7002", "7003"}), loopback_addresses(), 5060);
  const auto s = b.build(config("127.0.0.1:5072", {"7001", "7002", "7003"}), loopback_addresses(), 5060);
  const auto placed = placements(*s);
  EXPECT_EQ(placed.size(), 3u);
  for (const char* n : {"7001", "7002", "7003"}) EXPECT_EQ(placed.count(std::string(n) + "@0"), 1u) << n;
}

TEST(SnapshotSlots, RandomChurnKeepsSlots) {
  Builder b(3);
  std::uint64_t seed = 12345;
  auto next = [&] { return (seed = seed * 6364136223846793005ull + 1442695040888963407ull) >> 33; };
  std::map<std::string, Placed> before;
  for (int round = 0; round < 40; ++round) {
    std::string text = "sip-ua\n registrar 1 ipv4:127.0.0.1:5071\n registrar 2 ipv4:127.0.0.1:5072\n";
    std::set<std::string> configured;
    for (int n = 0; n < 300; ++n) {
      if (next() % 3 == 0) continue;
      const std::string num = std::to_string(7000 + n);
      configured.insert(num);
      text += " credentials number " + num + " username u" + num + " password 0 p realm r\n";
    }
    const auto s = b.build(load_config(text), loopback_addresses(), 5060);
    const auto now = placements(*s);
    EXPECT_EQ(now.size(), 2 * configured.size()) << round;
    // Each endpoint is found by its number, and its chain of slots holds exactly its two
    // bindings (the call relay's live-binding lookup), however the slots moved around it.
    for (const std::string& num : configured) {
      const std::uint32_t ei = s->find_endpoint(num);
      ASSERT_NE(ei, reg::kNoEntry) << num;
      EXPECT_EQ(s->number(s->endpoints[ei]), num);
      const auto& plan = s->plans[reg::owner_of(num, 3)];
      std::set<int> registrars;
      int length = 0;
      for (std::uint32_t slot = s->endpoints[ei].first_slot; slot != reg::kNoEntry && length < 10;
           slot = plan[slot].next_slot, ++length) {
        EXPECT_EQ(plan[slot].endpoint, ei) << num;
        registrars.insert(plan[slot].registrar);
      }
      EXPECT_EQ(length, 2) << num;
      EXPECT_EQ(registrars, (std::set<int>{0, 1})) << num;
    }
    for (const auto& [key, p] : now) {
      EXPECT_TRUE(configured.count(key.substr(0, key.find('@')))) << key;
      if (const auto it = before.find(key); it != before.end()) {
        EXPECT_EQ(p.worker, it->second.worker) << key;
        EXPECT_EQ(p.slot, it->second.slot) << key;
        EXPECT_EQ(p.e.generation, it->second.e.generation) << key;
      }
    }
    before = now;
  }
}

// A rebuild copies HA1s from the previous snapshot only when username, realm and password are
// unchanged: changed passwords and usernames get their own.
TEST(SnapshotCredentials, Ha1ReusedOnlyForTheSameKey) {
  auto text = [](int version) {
    std::string t = "sip-ua\n registrar 1 ipv4:127.0.0.1:5071\n";
    t += std::string(" authentication username any password 0 ") + (version >= 3 ? "pw-any3" : "pw-any") + "\n";
    for (int n = 0; n < 50; ++n) {
      const std::string num = std::to_string(8000 + n);
      const std::string pw = n % 3 == 0 ? "pw" + std::to_string(version) : "pw";
      const std::string user = n % 5 == 0 ? "u" + std::to_string(version) : "u";
      t += " credentials number " + num + " username " + user + num + " password 0 " + pw + " realm r" +
           std::to_string(n % 2) + "\n";
    }
    return t;
  };
  Builder b(2);
  auto prev = b.build(load_config(text(1)), loopback_addresses(), 5060);
  for (int version = 2; version <= 4; ++version) {
    const config::Config cfg = load_config(text(version));
    auto s = b.build(cfg, loopback_addresses(), 5060, {}, prev.get(), 1000 * version);
    for (const auto& c : cfg.sip_ua.credentials) {
      const Snapshot::Choice ch = s->choose_credential(endpoint_index(*s, c.number), s->realms.find(c.realm));
      ASSERT_NE(ch.cred, nullptr) << c.number;
      EXPECT_EQ(s->username(*ch.cred), c.username.view());
      expect_ha1(ch.ha1, c.username, c.realm, c.password);
      // The realm-less entry answers the endpoint's other realm (F4.4), from anyrealm_ha1.
      const std::string other = c.realm == "r0" ? "r1" : "r0";
      const Snapshot::Choice any = s->choose_credential(endpoint_index(*s, c.number), s->realms.find(other));
      ASSERT_NE(any.cred, nullptr) << c.number;
      EXPECT_EQ(s->username(*any.cred), "any");
      expect_ha1(any.ha1, "any", other, version >= 3 ? "pw-any3" : "pw-any", true);
    }
    prev = std::move(s);
  }
}

// HA1s are copied, not recomputed, when every credential moved one index (an entry inserted in
// front) and when a neighbour's password changed; the changed one is computed afresh.
TEST(SnapshotCredentials, Ha1ReusedWhenIndicesShift) {
  auto text = [](bool inserted) {
    std::string t = "sip-ua\n registrar 1 ipv4:127.0.0.1:5071\n";
    if (inserted) t += " credentials number 7999 username u7999 password 0 new realm r\n";
    for (int n = 0; n < 40; ++n) {
      const std::string num = std::to_string(8000 + n);
      t += " credentials number " + num + " username u" + num + " password 0 " +
           (inserted && n == 20 ? "changed" : "pw") + " realm r\n";
    }
    return t;
  };
  Builder b(2);
  auto prev = b.build(load_config(text(false)), loopback_addresses(), 5060);
  for (SnapCredential& c : prev->credentials) c.md5[15] ^= 0x5a;  // a copy keeps the mark
  const config::Config cfg = load_config(text(true));
  auto s = b.build(cfg, loopback_addresses(), 5060, {}, prev.get(), 1000);
  for (const auto& c : cfg.sip_ua.credentials) {
    SCOPED_TRACE(c.number.view());
    const Snapshot::Choice ch = s->choose_credential(endpoint_index(*s, c.number), s->realms.find("r"));
    ASSERT_NE(ch.cred, nullptr);
    if (c.number == "7999" || c.number == "8020") {
      expect_ha1(ch.ha1, c.username, c.realm, c.password);
      continue;
    }
    const Snapshot::Choice was = prev->choose_credential(endpoint_index(*prev, c.number), prev->realms.find("r"));
    ASSERT_NE(was.cred, nullptr);
    EXPECT_EQ(std::memcmp(ch.cred->md5, was.cred->md5, sizeof ch.cred->md5), 0) << "copied";
  }
}

// credential_from_previous names, for each credential of the previous snapshot, the one with the
// same username, realm and tier in the new one — whether it stayed, moved a little (an entry
// added ahead of it), moved far (ten removed ahead of it), or is gone (kNoEntry).
TEST(SnapshotCredentials, PreviousIdsFollowEveryMove) {
  auto text = [](int from, int to, bool extra) {
    std::string t = "sip-ua\n registrar 1 ipv4:127.0.0.1:5071\n";
    if (extra) t += " authentication username extra password 0 x realm extra.example\n";
    for (int n = from; n < to; ++n) {
      const std::string num = std::to_string(8000 + n);
      t += " credentials number " + num + " username u" + num + " password 0 p realm r\n";
    }
    return t;
  };
  Builder b(2);
  const auto check = [](const Snapshot& prev, const Snapshot& now) {
    ASSERT_EQ(now.previous_version, prev.version);
    ASSERT_EQ(now.credential_from_previous.size(), prev.credentials.size());
    for (std::uint32_t i = 0; i < prev.credentials.size(); ++i) {
      const SnapCredential& was = prev.credentials[i];
      const std::uint32_t j = now.credential_from_previous[i];
      bool exists = false;
      for (const SnapCredential& c : now.credentials) {
        exists = exists || (now.username(c) == prev.username(was) && c.tier == was.tier);
      }
      if (!exists) {
        EXPECT_EQ(j, reg::kNoEntry) << prev.username(was);
        continue;
      }
      ASSERT_NE(j, reg::kNoEntry) << prev.username(was);
      EXPECT_EQ(now.username(now.credentials[j]), prev.username(was));
      EXPECT_EQ(now.credentials[j].tier, was.tier);
    }
  };
  auto s1 = b.build(load_config(text(0, 40, false)), loopback_addresses(), 5060);
  auto s2 = b.build(load_config(text(0, 40, true)), loopback_addresses(), 5060, {}, s1.get(), 1000);  // +1 ahead
  check(*s1, *s2);
  auto s3 = b.build(load_config(text(10, 40, true)), loopback_addresses(), 5060, {}, s2.get(), 2000);  // -10 ahead
  check(*s2, *s3);
  auto s4 = b.build(load_config(text(10, 40, false)), loopback_addresses(), 5060, {}, s3.get(), 3000);  // one gone
  check(*s3, *s4);
  EXPECT_EQ(s4->credential_from_previous[0], reg::kNoEntry);  // the sip-ua entry, first
}

TEST(SnapshotCredentials, ShaHa1sOnlyForShaRealmsAndReused) {
  const std::string text =
      "sip-ua\n registrar 1 ipv4:127.0.0.1:5071\n"
      " credentials number 7001 username a7001 password 0 p1 realm md5.example\n"
      " credentials number 7001 username b7001 password 0 p2 realm sha.example\n"
      " credentials number 7002 username a7002 password 0 p3 realm md5.example\n"
      " credentials number 7002 username b7002 password 0 p4 realm sha.example\n"
      " authentication username ua-sha password 0 p5 realm sha.example\n";
  const config::Config cfg = load_config(text);
  Builder b(1);
  auto check = [&](const Snapshot& s, bool sha_known) {
    for (const auto& c : cfg.sip_ua.credentials) {
      SCOPED_TRACE(c.username.view());
      const Snapshot::Choice ch = s.choose_credential(endpoint_index(s, c.number), s.realms.find(c.realm));
      ASSERT_NE(ch.cred, nullptr);
      expect_ha1(ch.ha1, c.username, c.realm, c.password, sha_known && c.realm == "sha.example");
    }
  };
  // Before any SHA challenge: MD5 HA1s only, no SHA table at all.
  auto s1 = b.build(cfg, loopback_addresses(), 5060, {}, nullptr, 0);
  check(*s1, false);
  EXPECT_TRUE(s1->sha_ha1.empty());
  EXPECT_EQ(sizeof(SnapCredential), 32u);
  // Mark s1's MD5 HA1s: the next build must copy them (reuse), not recompute.
  for (SnapCredential& c : s1->credentials) c.md5[15] ^= 0x5a;
  // sha.example challenged with SHA: its two credentials and the sip-ua one get SHA HA1s.
  auto s2 = b.build(cfg, loopback_addresses(), 5060, {}, s1.get(), 1, {"sha.example"});
  EXPECT_EQ(s2->sha_ha1.size(), 3u);
  for (std::size_t i = 0; i < s2->credentials.size(); ++i) {
    EXPECT_EQ(s2->credentials[i].md5[15], s1->credentials[i].md5[15]) << "MD5 HA1 reused";
  }
  for (SnapCredential& c : s1->credentials) c.md5[15] ^= 0x5a;
  for (SnapCredential& c : s2->credentials) c.md5[15] ^= 0x5a;
  check(*s2, true);
  const std::uint32_t sha_id = s2->realms.find("sha.example");
  ASSERT_LT(s2->ua_auth_by_realm[sha_id], s2->credentials.size());
  EXPECT_NE(s2->credentials[s2->ua_auth_by_realm[sha_id]].sha_row, kNoEntry);
  // Rebuilt again: the SHA HA1s are copied from the previous snapshot too.
  for (ShaHa1& x : s2->sha_ha1) x.sha256[0] ^= 0xa5;
  auto s3 = b.build(cfg, loopback_addresses(), 5060, {}, s2.get(), 2, {"sha.example"});
  ASSERT_EQ(s3->sha_ha1.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_EQ(s3->sha_ha1[i].sha256[0], s2->sha_ha1[i].sha256[0]) << "SHA HA1 reused";
  for (ShaHa1& x : s2->sha_ha1) x.sha256[0] ^= 0xa5;
  for (ShaHa1& x : s3->sha_ha1) x.sha256[0] ^= 0xa5;
  check(*s3, true);
  // A SHA realm the configuration does not name changes nothing.
  auto s4 = b.build(cfg, loopback_addresses(), 5060, {}, s3.get(), 3, {"sha.example", "nowhere.example"});
  EXPECT_EQ(s4->sha_ha1.size(), 3u);
  EXPECT_EQ(s4->realms.find("nowhere.example"), kNoRealm);
  check(*s4, true);
}

}  // namespace
}  // namespace regfront::snapshot
