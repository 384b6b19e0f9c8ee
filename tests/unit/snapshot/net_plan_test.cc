// The IOS configuration mapped onto the DPDK backend's plan (snapshot::plan_network):
// interfaces, VLANs, routes, UDP ports per worker, the SIP source address. No EAL needed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "regfront/config/commands.h"
#include "regfront/snapshot/net_plan.h"

namespace regfront::snapshot {
using io::DpdkPlan;
using io::PortFacts;
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

// The README's example block, verbatim.
constexpr std::string_view kReadmeExample = R"(interface dpdk0
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

TEST(PlanNetwork, ReadmeExample) {
  StatusOr<DpdkPlan> planned = plan_network(load(kReadmeExample), ports(1), 2);
  ASSERT_TRUE(planned.ok()) << planned.status().message();
  const DpdkPlan& plan = *planned;
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

TEST(PlanNetwork, ShutdownInterfacesAreLeftOutAndTheFirstAddressedOneSpeaks) {
  StatusOr<DpdkPlan> planned = plan_network(load("interface dpdk0\n shutdown\n ip address 10.1.0.1 255.255.255.0\n"
                                                  "interface dpdk1\n ip address 10.2.0.1 255.255.0.0\n"),
                                             ports(2), 1);
  ASSERT_TRUE(planned.ok()) << planned.status().message();
  const DpdkPlan& plan = *planned;
  ASSERT_EQ(plan.net.interfaces.size(), 1u);
  EXPECT_EQ(plan.net.interfaces[0].port, 1);
  EXPECT_EQ(plan.ports, (std::vector<std::uint16_t>{1}));
  EXPECT_EQ(plan.source_interface, "dpdk1");
  EXPECT_EQ(plan.local_ip(AF_INET), "10.2.0.1");
  EXPECT_EQ(plan.local_ip(AF_INET6), "");  // no IPv6 anywhere
  EXPECT_EQ(plan.source(AF_INET6), nullptr);
}

TEST(PlanNetwork, NoAddressedInterfaceIsRefused) {
  StatusOr<DpdkPlan> planned = plan_network(load("interface dpdk0\n"), ports(1), 1);
  ASSERT_FALSE(planned.ok());
  EXPECT_EQ(planned.status().code(), StatusCode::failed_precondition);
  EXPECT_NE(planned.status().message().find("No DPDK interface has an IP address"), std::string::npos);
  EXPECT_EQ(planned.status().message().find('%'), std::string::npos) << "the CLI edge adds the %";
}

TEST(PlanNetwork, AnInterfaceOnAMissingPortIsNotFound) {
  StatusOr<DpdkPlan> planned = plan_network(load("interface dpdk2\n ip address 10.1.0.1 255.255.255.0\n"), ports(1), 1);
  ASSERT_FALSE(planned.ok());
  EXPECT_EQ(planned.status().code(), StatusCode::not_found);
  EXPECT_EQ(planned.status().message(), "Interface dpdk2 does not exist: the EAL found 1 DPDK port(s)");
}

TEST(PlanNetwork, ListenPortsBeyond65535AreOutOfRange) {
  StatusOr<DpdkPlan> planned =
      plan_network(load("interface dpdk0\n ip address 10.1.0.1 255.255.255.0\nvoice service voip\n sip\n  "
                        "listen-port non-secure 65535\n"),
                   ports(1), 2);
  ASSERT_FALSE(planned.ok());
  EXPECT_EQ(planned.status().code(), StatusCode::out_of_range);
}

}  // namespace
}  // namespace regfront::snapshot
