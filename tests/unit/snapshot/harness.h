// Test fakes for the snapshot builder's inputs (configuration from IOS text, resolved registrar
// addresses on 127.0.0.1) and checks on a snapshot it built. The registration engine's tests
// build their snapshots with the same fakes (tests/unit/reg/harness.h).
//
//   Builder b(1);
//   const auto s = b.build(test::load_config(text), test::loopback_addresses(), 5060);
//   const auto c = s->choose_credential(test::endpoint_index(*s, "1001"), s->realms.find("realm-a"));
//   test::expect_ha1(c.ha1, "alice", "realm-a", "secret");
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "regfront/auth/digest.h"
#include "regfront/config/commands.h"
#include "regfront/config/model.h"
#include "regfront/reg/snapshot.h"
#include "regfront/snapshot/builder.h"

namespace regfront::snapshot::test {

inline config::Config load_config(std::string_view text) {
  config::Config cfg;
  const config::LoadResult r = config::load_startup_config(text, cfg);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? std::string() : r.errors.front().format());
  return cfg;
}

// Registrar slot i (0-based) listens on 127.0.0.1:(6000 + i).
inline constexpr std::uint16_t kRegistrarBasePort = 6000;

inline RegistrarAddresses loopback_addresses() {
  RegistrarAddresses a;
  for (int i = 0; i < reg::kRegistrarSlots; ++i) {
    ResolvedRegistrar r;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(static_cast<std::uint16_t>(kRegistrarBasePort + i));
    inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
    std::memcpy(&r.addr, &sin, sizeof sin);
    r.addr_len = sizeof sin;
    r.local_ip = "127.0.0.1";
    a[static_cast<std::size_t>(i)] = r;
  }
  return a;
}

// The index of the endpoint with `number` in s.endpoints (a failure when there is none).
inline std::uint32_t endpoint_index(const reg::Snapshot& s, std::string_view number) {
  for (std::uint32_t i = 0; i < s.endpoints.size(); ++i) {
    if (s.number(s.endpoints[i]) == number) return i;
  }
  ADD_FAILURE() << "no endpoint " << number;
  return 0;
}

// `got` holds the HA1s of (user, realm, pw): MD5 always; the SHA ones exactly when `sha` (a SHA
// realm, or a realm-less credential).
inline void expect_ha1(const auth::Ha1View& got, std::string_view user, std::string_view realm,
                       std::string_view pw, bool sha = false) {
  const auth::Ha1Set want = auth::compute_ha1(user, realm, pw);
  for (std::size_t h = 0; h < auth::kHashCount; ++h) {
    const auto hash = static_cast<auth::Hash>(h);
    if (h != 0 && !sha) {
      EXPECT_FALSE(got.has(hash)) << user << " " << realm << " hash " << h;
      continue;
    }
    ASSERT_TRUE(got.has(hash)) << user << " " << realm << " hash " << h;
    EXPECT_EQ(got.hex(hash).view(), want.hex(hash).view()) << user << " " << realm << " hash " << h;
  }
}

}  // namespace regfront::snapshot::test
