// The IOS configuration mapped onto the DPDK backend's plan (io::plan_dpdk): interfaces,
// VLANs, routes, UDP ports per worker, the SIP source address; and the sockaddr ↔ Endpoint
// conversions between the engine and the network stack. Pure set-up code: no EAL.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "regfront/config/commands.h"
#include "regfront/io/dpdk_config.h"
#include "regfront/io/dpdk_port.h"

namespace regfront::io {
namespace {

config::Config load(std::string_view text) {
  config::Config cfg;
  const auto r = config::load_startup_config(text, cfg);
  EXPECT_TRUE(r.ok()) << (r.errors.empty() ? "" : r.errors.front().format());
  return cfg;
}

std::vector<PortFacts> ports(std::size_t n) {
  std::vector<PortFacts> f(n);
  for (std::size_t i = 0; i < n; ++i) f[i].mac = {0x02, 0, 0, 0, 0, static_cast<std::uint8_t>(i + 1)};
  return f;
}

// The issue's example block, verbatim.
constexpr std::string_view kIssueExample = R"(interface dpdk0
 ip address 10.77.0.1 255.255.255.0
 ipv6 address 2001:db8:77::1/64
interface dpdk0.100
 encapsulation dot1Q 100
 ip address 10.78.0.1 255.255.255.0
ip route 0.0.0.0 0.0.0.0 10.77.0.254
voice service voip
 sip
  bind control source-interface dpdk0
  listen-port non-secure 5060
)";

TEST(PlanDpdk, IssueExample) {
  DpdkPlan plan;
  std::string err;
  ASSERT_TRUE(plan_dpdk(load(kIssueExample), ports(1), 2, plan, err)) << err;
  EXPECT_EQ(plan.ports, (std::vector<std::uint16_t>{0}));
  EXPECT_EQ(plan.listen_port, 5060);
  // Worker i owns listen port + i.
  EXPECT_NE(std::find(plan.net.udp_ports.begin(), plan.net.udp_ports.end(), 5060), plan.net.udp_ports.end());
  EXPECT_NE(std::find(plan.net.udp_ports.begin(), plan.net.udp_ports.end(), 5061), plan.net.udp_ports.end());
  ASSERT_EQ(plan.net.interfaces.size(), 2u);
  const net::InterfaceConfig* untagged = nullptr;
  const net::InterfaceConfig* vlan100 = nullptr;
  for (const auto& i : plan.net.interfaces) (i.vlan == 0 ? untagged : vlan100) = &i;
  ASSERT_TRUE(untagged && vlan100);
  EXPECT_EQ(untagged->port, 0);
  EXPECT_EQ(untagged->mac, ports(1)[0].mac);
  ASSERT_EQ(untagged->ipv4.size(), 1u);
  EXPECT_EQ(untagged->ipv4[0].addr.to_string(), "10.77.0.1");
  EXPECT_EQ(untagged->ipv4[0].len, 24);
  ASSERT_EQ(untagged->ipv6.size(), 1u);
  EXPECT_EQ(untagged->ipv6[0].len, 64);
  EXPECT_EQ(vlan100->vlan, 100);
  EXPECT_EQ(vlan100->ipv4[0].addr.to_string(), "10.78.0.1");
  ASSERT_EQ(plan.net.routes.size(), 1u);
  EXPECT_EQ(plan.net.routes[0].dst.len, 0);
  EXPECT_EQ(plan.net.routes[0].gateway.to_string(), "10.77.0.254");
  // SIP speaks from the bound interface.
  EXPECT_EQ(plan.source_interface, "dpdk0");
  EXPECT_EQ(plan.local_ip(AF_INET), "10.77.0.1");
  EXPECT_EQ(plan.local_ip(AF_INET6), "[2001:db8:77::1]");
  ASSERT_NE(plan.source(AF_INET), nullptr);
  EXPECT_EQ(plan.source(AF_INET)->to_string(), "10.77.0.1");
}

TEST(PlanDpdk, ShutdownInterfacesAreLeftOutAndTheFirstAddressedOneSpeaks) {
  DpdkPlan plan;
  std::string err;
  ASSERT_TRUE(plan_dpdk(load("interface dpdk0\n shutdown\n ip address 10.1.0.1 255.255.255.0\n"
                             "interface dpdk1\n ip address 10.2.0.1 255.255.0.0\n"),
                        ports(2), 1, plan, err))
      << err;
  ASSERT_EQ(plan.net.interfaces.size(), 1u);
  EXPECT_EQ(plan.net.interfaces[0].port, 1);
  EXPECT_EQ(plan.ports, (std::vector<std::uint16_t>{1}));
  EXPECT_EQ(plan.source_interface, "dpdk1");
  EXPECT_EQ(plan.local_ip(AF_INET), "10.2.0.1");
  EXPECT_EQ(plan.local_ip(AF_INET6), "");  // no IPv6 anywhere
  EXPECT_EQ(plan.source(AF_INET6), nullptr);
}

TEST(PlanDpdk, NoAddressedInterfaceIsRefused) {
  DpdkPlan plan;
  std::string err;
  EXPECT_FALSE(plan_dpdk(load("interface dpdk0\n"), ports(1), 1, plan, err));
  EXPECT_FALSE(err.empty());
  EXPECT_EQ(err.rfind("%", 0), 0u) << err;  // IOS-style
}

TEST(EndpointConversion, RoundTripsBothFamilies) {
  sockaddr_in v4{};
  v4.sin_family = AF_INET;
  v4.sin_port = htons(5080);
  inet_pton(AF_INET, "192.0.2.7", &v4.sin_addr);
  sockaddr_storage ss{};
  std::memcpy(&ss, &v4, sizeof v4);
  const net::Endpoint e4 = to_endpoint(ss);
  EXPECT_EQ(e4.addr.to_string(), "192.0.2.7");
  EXPECT_EQ(e4.port, 5080);
  sockaddr_storage back{};
  EXPECT_EQ(to_sockaddr(e4, back), sizeof(sockaddr_in));
  EXPECT_EQ(std::memcmp(&back, &ss, sizeof(sockaddr_in)), 0);

  sockaddr_in6 v6{};
  v6.sin6_family = AF_INET6;
  v6.sin6_port = htons(5060);
  inet_pton(AF_INET6, "2001:db8::9", &v6.sin6_addr);
  std::memset(&ss, 0, sizeof ss);
  std::memcpy(&ss, &v6, sizeof v6);
  const net::Endpoint e6 = to_endpoint(ss);
  EXPECT_EQ(e6.addr.to_string(), "2001:db8::9");
  EXPECT_EQ(e6.port, 5060);
  std::memset(&back, 0, sizeof back);
  EXPECT_EQ(to_sockaddr(e6, back), sizeof(sockaddr_in6));
  const auto& b6 = reinterpret_cast<const sockaddr_in6&>(back);
  EXPECT_EQ(b6.sin6_port, htons(5060));
  EXPECT_EQ(std::memcmp(&b6.sin6_addr, &v6.sin6_addr, 16), 0);
}

TEST(PoolSize, CapsAndReportsWhatTheQueuesWouldWant) {
  PoolSizing one;
  one.net.neighbour_queue_total = 8192;
  one.net.tx_batch = 8192 + 1024;
  std::uint64_t wanted = 0;
  const std::uint32_t small = pool_size(one, &wanted);
  EXPECT_EQ(small, wanted) << "one worker, one port: under the cap";
  EXPECT_GE(small, 8192u);
  PoolSizing many = one;
  many.workers = 8;
  many.ports = 2;
  many.handoff_ring = 8192;
  const std::uint32_t capped = pool_size(many, &wanted);
  EXPECT_EQ(capped, 512u * 1024u);
  EXPECT_GT(wanted, std::uint64_t{capped}) << "8 workers x 2 ports want more than the cap";
}

}  // namespace
}  // namespace regfront::io
