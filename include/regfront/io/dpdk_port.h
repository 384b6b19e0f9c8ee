// regfront/io/dpdk_port.h — set-up and tear-down of the DPDK environment for regfrontd --io dpdk:
// EAL from an argument string, the mbuf pool sized from the configuration, ethdev ports with one
// RX and one TX queue per worker, rte_flow steering of each worker's UDP port to its queue, port
// statistics for `show dataplane`. Control-thread code only (set-up, shutdown, show).
//
//   if (Status s = eal_init("--no-huge --no-pci -m 512 --vdev net_tap0,iface=rftap0", 1); !s.ok()) …;
//   std::vector<PortFacts> facts = probe_ports();          // one per rte_eth_dev_count_avail()
//   StatusOr<rte_mempool*> pool = create_pool(pool_size(sizing));
//   for (port : plan.ports) start_port(port, workers, mtu, *pool, rx_desc, tx_desc);
//   steer_by_udp_port(port, workers, plan.listen_port);    // best effort: false = hand-off only
//   … workers run …
//   stop_ports(plan.ports); rte_mempool_free(pool); rte_eal_cleanup();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "regfront/common/status.h"
#include "regfront/io/dpdk_plan.h"

struct rte_mempool;

namespace regfront::io {

// Splits `args` on spaces (no quoting: EAL arguments have none) and runs rte_eal_init with
// "regfrontd" as argv[0]. When the arguments name no lcores (-l, -c, --lcores), adds
// `--lcores (0-W)@(all CPUs)`: the main lcore plus W worker lcores, floating over every CPU —
// right for labs and CI; appliances pin with their own -l/--lcores.
Status eal_init(const std::string& args, std::uint32_t workers);

// The EAL's ports (rte_eth_dev_count_avail; ids 0..n-1): MAC, checksum offloads, MTU limits.
std::vector<PortFacts> probe_ports();

// Mbufs per worker, from the configuration. Every term is a place an mbuf can wait:
struct PoolSizing {
  std::uint32_t workers = 1;
  std::uint32_t ports = 1;
  std::uint32_t rx_desc = 1024, tx_desc = 1024;  // per queue
  std::uint32_t bindings_per_worker = 0;         // responses in flight at once (bounded below)
  std::uint32_t handoff_ring = 1024;             // per worker pair
  net::NetConfig net;                            // neighbour queues, reassembly, TX batches
};
// The pool for `s`, between 8192 and 512k mbufs; `wanted` (optional) gets the unclamped need,
// so the caller can say when the queues could ask for more than the pool holds.
std::uint32_t pool_size(const PoolSizing& s, std::uint64_t* wanted = nullptr);
StatusOr<rte_mempool*> create_pool(std::uint32_t mbufs);

// Configures `port` with `queues` RX and TX queues (queue i = worker i), RSS over IP/UDP when the
// port has more than one queue and supports it, checksum offloads it has, `mtu`, promiscuous
// off; starts it and sets the link up.
Status start_port(std::uint16_t port, std::uint16_t queues, std::uint16_t mtu, rte_mempool* pool,
                  std::uint16_t rx_desc, std::uint16_t tx_desc);

// rte_flow rules UDP dst (listen_port + i) → queue i for IPv4 and IPv6, each validated first.
// Returns the number of rules installed; 0 means the port cannot steer (hand-off rings do it).
// With `queues` == 1 nothing needs steering: returns 0 without trying.
std::uint32_t steer_by_udp_port(std::uint16_t port, std::uint16_t queues, std::uint16_t listen_port,
                                std::string& why);

struct PortStats {
  std::uint16_t port = 0;
  std::string name;  // device name ("net_tap0")
  std::uint64_t ipackets = 0, opackets = 0, ierrors = 0, oerrors = 0, imissed = 0, rx_nombuf = 0;
  bool link_up = false;
  std::uint32_t link_speed = 0;  // Mb/s
  std::uint32_t flow_rules = 0;
};
PortStats port_stats(std::uint16_t port);

// Flushes flow rules, stops and closes each port.
void stop_ports(const std::vector<std::uint16_t>& ports);

}  // namespace regfront::io
