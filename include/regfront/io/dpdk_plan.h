// regfront/io/dpdk_config.h — the IOS configuration (interfaces, routes, voice service voip/sip)
// mapped onto what the DPDK backend needs: a net::NetConfig per worker, the ports to start, and
// the address/port the SIP side speaks from. Pure set-up code: no EAL needed, unit-tested.
//
//   std::vector<PortFacts> facts = …;            // per DPDK port: MAC, offloads, MTU limits
//   DpdkPlan plan;
//   if (!plan_dpdk(cfg, facts, workers, plan, err)) refuse(err);
//   NetStack stack(plan.net, pool);              // every worker gets the same NetConfig
//   plan.local_ip(AF_INET)                       // "10.77.0.1": the registrar's local_ip
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

#include "regfront/config/model.h"
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
  std::uint16_t listen_port = config::kDefaultSipPort;  // worker i owns listen_port + i
  std::string source_interface;     // the interface SIP speaks from ("dpdk0")
  net::IpAddr source4, source6;     // its addresses (family 0 when it has none of that family)

  // Our address towards a registrar of `family` (AF_INET/AF_INET6) as the snapshot carries it
  // ("10.77.0.1", "[2001:db8::1]"); empty when no interface has an address of that family.
  std::string local_ip(int family) const;
  // The source address for a destination of `family` (nullptr when none), for send_udp.
  const net::IpAddr* source(int family) const;
};

// Maps `cfg` for `workers` workers over ports described by `facts`. Interfaces that are shut
// down are left out; `bind control source-interface` picks the SIP source (else the first
// interface, in IOS order, that has an address). Returns false with an IOS-style message.
// The port-existence checks are config::validate_interfaces' (called before this).
bool plan_dpdk(const config::Config& cfg, const std::vector<PortFacts>& facts, std::uint32_t workers,
               DpdkPlan& out, std::string& err);

// sockaddr_storage ↔ net::Endpoint (the engine speaks sockaddr, the stack Endpoint).
net::Endpoint to_endpoint(const sockaddr_storage& ss);
socklen_t to_sockaddr(const net::Endpoint& e, sockaddr_storage& ss);

}  // namespace regfront::io
