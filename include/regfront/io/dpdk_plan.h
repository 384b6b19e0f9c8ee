// regfront/io/dpdk_plan.h — what the DPDK backend needs to know of the network, as plain data:
// the NetStack configuration every worker gets, the ports to start, and the address and UDP
// port SIP speaks from. The control plane fills it from the IOS configuration
// (regfront/snapshot/net_plan.h); the data plane never sees configuration-model types.
//
//   StatusOr<DpdkPlan> plan = snapshot::plan_network(cfg, probe_ports(), workers);
//   NetStack stack(plan->net, pool);           // every worker gets the same NetConfig
//   plan->local_ip(AF_INET)                    // "10.77.0.1": the registrar's local_ip
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "regfront/net/stack.h"

namespace regfront::io {

// What the EAL tells us about one port (index = DPDK port id).
struct PortFacts {
  net::MacAddr mac{};
  net::PortCaps caps;
  std::uint16_t max_mtu = 9000;  // rte_eth_dev_info.max_mtu
  std::uint16_t min_mtu = 68;
};

struct DpdkPlan {
  net::NetConfig net;               // interfaces, routes, UDP ports (listen_port + worker)
  std::vector<std::uint16_t> ports; // DPDK ports to start (some interface uses them), ascending
  std::uint16_t listen_port = 5060;  // worker i owns listen_port + i
  std::string source_interface;     // the interface SIP speaks from ("dpdk0")
  net::IpAddr source4, source6;     // its addresses (family 0 when it has none of that family)

  // Our address towards a registrar of `family` (AF_INET/AF_INET6) as the snapshot carries it
  // ("10.77.0.1", "[2001:db8::1]"); empty when no interface has an address of that family.
  std::string local_ip(int family) const;
  // The source address for a destination of `family` (nullptr when none), for send_udp.
  const net::IpAddr* source(int family) const;
};

// sockaddr_storage ↔ net::Endpoint (the engine speaks sockaddr, the stack Endpoint).
net::Endpoint to_endpoint(const sockaddr_storage& ss);
socklen_t to_sockaddr(const net::Endpoint& e, sockaddr_storage& ss);

}  // namespace regfront::io
