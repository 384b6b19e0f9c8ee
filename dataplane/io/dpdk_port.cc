// EAL, mempool and ethdev set-up for the DPDK backend (see regfront/io/dpdk_port.h).
#include "regfront/io/dpdk_port.h"

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_flow.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <unistd.h>

#include <algorithm>
#include <sstream>

namespace regfront::io {
namespace {

std::uint32_t flow_rules[RTE_MAX_ETHPORTS];

std::string rte_error(int e) { return rte_strerror(e < 0 ? -e : e); }

}  // namespace

Status eal_init(const std::string& args, std::uint32_t workers) {
  std::vector<std::string> words{"regfrontd"};
  std::istringstream in(args);
  std::string w;
  bool lcores = false;
  while (in >> w) {
    if (w == "-l" || w == "-c" || w.rfind("--lcores", 0) == 0 || w.rfind("-l", 0) == 0) lcores = true;
    words.push_back(w);
  }
  if (!lcores) {
    const long cpus = std::max(1L, ::sysconf(_SC_NPROCESSORS_ONLN));
    words.push_back("--lcores");
    words.push_back("(0-" + std::to_string(workers) + ")@(0-" + std::to_string(cpus - 1) + ")");
  }
  std::vector<char*> argv;
  for (auto& s : words) argv.push_back(s.data());
  argv.push_back(nullptr);
  if (rte_eal_init(int(words.size()), argv.data()) < 0) {
    return Status::internal("EAL initialisation failed: " + rte_error(rte_errno));
  }
  return {};
}

std::vector<PortFacts> probe_ports() {
  std::vector<PortFacts> out(rte_eth_dev_count_avail());
  for (std::uint16_t p = 0; p < out.size(); ++p) {
    rte_ether_addr mac{};
    rte_eth_macaddr_get(p, &mac);
    std::copy(std::begin(mac.addr_bytes), std::end(mac.addr_bytes), out[p].mac.begin());
    rte_eth_dev_info info{};
    if (rte_eth_dev_info_get(p, &info) == 0) {
      out[p].caps.tx_ipv4_cksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
      out[p].caps.tx_udp_cksum = (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
      if (info.max_mtu != 0) out[p].max_mtu = std::uint16_t(std::min<std::uint32_t>(info.max_mtu, 65535));
      out[p].min_mtu = std::uint16_t(std::max<std::uint32_t>(info.min_mtu, 68));
    }
  }
  return out;
}

std::uint32_t pool_size(const PoolSizing& s, std::uint64_t* wanted) {
  const net::NetConfig& n = s.net;
  // Per worker: every descriptor of its RX and TX queues may hold an mbuf; a burst being
  // classified; frames in its per-port TX batches; frames waiting for ARP/NDP; fragments held
  // by reassembly (a few per datagram); responses in flight (one mbuf each while a burst is
  // processed, bounded: the rest wait in the NIC's descriptors, counted above); what its
  // hand-off rings to the other workers hold.
  const std::uint64_t inflight = std::min<std::uint32_t>(s.bindings_per_worker, 4096);
  const std::uint64_t per_worker = std::uint64_t(s.ports) * (s.rx_desc + s.tx_desc + n.tx_batch) + 2 * 64 +
                                   (n.neighbour_queue_total != 0 ? n.neighbour_queue_total : std::uint64_t(n.neighbours) * n.neighbour_queue) + 4ull * n.frag_max_datagrams +
                                   inflight + std::uint64_t(s.workers - 1) * s.handoff_ring;
  const std::uint64_t total = per_worker * s.workers + 1024;  // + control-thread slack
  if (wanted != nullptr) *wanted = total;
  return std::uint32_t(std::clamp<std::uint64_t>(total, 8192, 512 * 1024));
}

StatusOr<rte_mempool*> create_pool(std::uint32_t mbufs) {
  // 2 KiB data room: a 1500-byte frame in one segment; jumbo frames chain. The per-lcore cache
  // keeps the workers' alloc/free off the shared ring.
  rte_mempool* p = rte_pktmbuf_pool_create("regfront_mbufs", mbufs, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
                                           int(rte_socket_id()));
  if (p == nullptr) {
    return Status::resource_exhausted("cannot create a pool of " + std::to_string(mbufs) + " mbufs: " +
                                      rte_error(rte_errno));
  }
  return p;
}

Status start_port(std::uint16_t port, std::uint16_t queues, std::uint16_t mtu, rte_mempool* pool,
                  std::uint16_t rx_desc, std::uint16_t tx_desc) {
  const std::string name = "dpdk" + std::to_string(port);
  auto fail = [&](const char* what, int rc) {
    return Status::internal("Interface " + name + ": " + what + ": " + rte_error(rc));
  };
  rte_eth_dev_info info{};
  if (int rc = rte_eth_dev_info_get(port, &info); rc != 0) return fail("device info", rc);
  if (queues > info.max_rx_queues || queues > info.max_tx_queues) {
    return Status::failed_precondition("Interface " + name + ": " + std::to_string(queues) +
                                       " workers need as many queues; the port has " +
                                       std::to_string(std::min(info.max_rx_queues, info.max_tx_queues)) +
                                       " (for net_tap add queues=N, for net_af_packet qpairs=N)");
  }
  rte_eth_conf conf{};
  conf.rxmode.mtu = mtu;
  conf.txmode.offloads = info.tx_offload_capa & (RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
                                                  RTE_ETH_TX_OFFLOAD_MULTI_SEGS);
  if (queues > 1 && info.flow_type_rss_offloads != 0) {
    // Spread what rte_flow does not steer; the hand-off rings fix what lands on the wrong worker.
    conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
    conf.rx_adv_conf.rss_conf.rss_hf = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
  }
  if (int rc = rte_eth_dev_configure(port, queues, queues, &conf); rc != 0) return fail("configure", rc);
  std::uint16_t nrx = rx_desc, ntx = tx_desc;
  if (int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &nrx, &ntx); rc != 0) return fail("descriptors", rc);
  const int socket = rte_eth_dev_socket_id(port);
  for (std::uint16_t q = 0; q < queues; ++q) {
    if (int rc = rte_eth_rx_queue_setup(port, q, nrx, socket < 0 ? SOCKET_ID_ANY : socket, nullptr, pool); rc != 0)
      return fail("RX queue", rc);
    rte_eth_txconf txc = info.default_txconf;
    txc.offloads = conf.txmode.offloads;
    if (int rc = rte_eth_tx_queue_setup(port, q, ntx, socket < 0 ? SOCKET_ID_ANY : socket, &txc); rc != 0)
      return fail("TX queue", rc);
  }
  if (int rc = rte_eth_dev_start(port); rc != 0) return fail("start", rc);
  // Only frames for our MAC (and broadcast/multicast for ARP/NDP); -ENOTSUP on some vdevs.
  rte_eth_promiscuous_disable(port);
  rte_eth_allmulticast_enable(port);  // NDP solicited-node multicast
  rte_eth_dev_set_link_up(port);      // -ENOTSUP where the link is always up
  return {};
}

std::uint32_t steer_by_udp_port(std::uint16_t port, std::uint16_t queues, std::uint16_t listen_port,
                                std::string& why) {
  if (queues <= 1) return 0;
  std::uint32_t installed = 0;
  for (std::uint16_t q = 0; q < queues; ++q) {
    for (const rte_flow_item_type l3 : {RTE_FLOW_ITEM_TYPE_IPV4, RTE_FLOW_ITEM_TYPE_IPV6}) {
      rte_flow_attr attr{};
      attr.ingress = 1;
      rte_flow_item_udp spec{}, mask{};
      spec.hdr.dst_port = rte_cpu_to_be_16(std::uint16_t(listen_port + q));
      mask.hdr.dst_port = 0xffff;
      rte_flow_item pattern[4]{};
      pattern[0].type = RTE_FLOW_ITEM_TYPE_ETH;
      pattern[1].type = l3;
      pattern[2].type = RTE_FLOW_ITEM_TYPE_UDP;
      pattern[2].spec = &spec;
      pattern[2].mask = &mask;
      pattern[3].type = RTE_FLOW_ITEM_TYPE_END;
      rte_flow_action_queue queue{q};
      rte_flow_action actions[2]{};
      actions[0].type = RTE_FLOW_ACTION_TYPE_QUEUE;
      actions[0].conf = &queue;
      actions[1].type = RTE_FLOW_ACTION_TYPE_END;
      rte_flow_error e{};
      if (rte_flow_validate(port, &attr, pattern, actions, &e) != 0 ||
          rte_flow_create(port, &attr, pattern, actions, &e) == nullptr) {
        why = e.message ? e.message : rte_error(rte_errno);
        continue;
      }
      ++installed;
    }
  }
  flow_rules[port] = installed;
  return installed;
}

PortStats port_stats(std::uint16_t port) {
  PortStats s;
  s.port = port;
  char name[RTE_ETH_NAME_MAX_LEN] = "";
  if (rte_eth_dev_get_name_by_port(port, name) == 0) s.name = name;
  rte_eth_stats st{};
  if (rte_eth_stats_get(port, &st) == 0) {
    s.ipackets = st.ipackets;
    s.opackets = st.opackets;
    s.ierrors = st.ierrors;
    s.oerrors = st.oerrors;
    s.imissed = st.imissed;
    s.rx_nombuf = st.rx_nombuf;
  }
  rte_eth_link link{};
  if (rte_eth_link_get_nowait(port, &link) == 0) {
    s.link_up = link.link_status == RTE_ETH_LINK_UP;
    s.link_speed = link.link_speed;
  }
  s.flow_rules = port < RTE_MAX_ETHPORTS ? flow_rules[port] : 0;
  return s;
}

void stop_ports(const std::vector<std::uint16_t>& ports) {
  for (std::uint16_t p : ports) {
    rte_flow_error e{};
    rte_flow_flush(p, &e);
    rte_eth_dev_stop(p);
    rte_eth_dev_close(p);
  }
}

}  // namespace regfront::io
