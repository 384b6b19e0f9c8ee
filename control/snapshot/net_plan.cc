// The IOS interface configuration → the DPDK backend's plan (see regfront/snapshot/net_plan.h).
#include "regfront/snapshot/net_plan.h"

#include <algorithm>
#include <cstring>

namespace regfront::snapshot {

namespace {

// IOS order: by port, the physical interface before its sub-interfaces, then by number.
std::vector<const config::Interface*> ordered(const config::Config& cfg) {
  std::vector<const config::Interface*> v;
  for (const auto& [name, itf] : cfg.interfaces) v.push_back(&itf);
  std::sort(v.begin(), v.end(), [](const config::Interface* a, const config::Interface* b) {
    return a->port != b->port ? a->port < b->port : a->subif < b->subif;
  });
  return v;
}

net::IpAddr v6(const config::Ipv6Address& a) {
  std::uint8_t b[16];
  std::memcpy(b, a.data(), 16);
  return net::IpAddr::v6(b);
}

}  // namespace

StatusOr<io::DpdkPlan> plan_network(const config::Config& cfg, const std::vector<io::PortFacts>& facts,
                                    std::uint32_t workers) {
  io::DpdkPlan out;
  if (workers == 0) return Status::invalid_argument("At least one worker is needed");
  const config::Interface* first_addressed = nullptr;
  const config::Interface* bound = nullptr;
  for (const config::Interface* itf : ordered(cfg)) {
    if (itf->port >= facts.size()) {
      return Status::not_found("Interface " + itf->name + " does not exist: the EAL found " +
                               std::to_string(facts.size()) + " DPDK port(s)");
    }
    if (itf->shutdown) continue;
    if (itf->is_subinterface() && itf->vlan == 0) {
      return Status::failed_precondition("Interface " + itf->name + ": configure encapsulation dot1Q before using it");
    }
    const bool addressed = itf->ipv4.has_value() || !itf->ipv6.empty();
    if (!addressed) continue;  // nothing to receive or send on it
    const io::PortFacts& pf = facts[itf->port];
    net::InterfaceConfig ic;
    ic.port = itf->port;
    ic.vlan = itf->vlan;
    ic.mac = pf.mac;
    // The IOS model has no `mtu` command yet: the Ethernet default, within the port's limits.
    ic.mtu = std::clamp<std::uint16_t>(1500, pf.min_mtu, pf.max_mtu);
    if (itf->ipv4) ic.ipv4.push_back(net::Prefix{net::IpAddr::v4(itf->ipv4->address), itf->ipv4->length});
    for (const config::Ipv6Prefix& p : itf->ipv6) ic.ipv6.push_back(net::Prefix{v6(p.address), p.length});
    out.net.interfaces.push_back(std::move(ic));
    if (std::find(out.ports.begin(), out.ports.end(), itf->port) == out.ports.end()) out.ports.push_back(itf->port);
    if (first_addressed == nullptr) first_addressed = itf;
    if (itf->name == cfg.voice.sip.bind_control_interface) bound = itf;
  }
  if (out.net.interfaces.empty()) {
    return Status::failed_precondition(
        "No DPDK interface has an IP address: configure `interface dpdk0` / `ip address …`");
  }
  const std::string& want = cfg.voice.sip.bind_control_interface;
  if (!want.empty() && bound == nullptr) {
    return Status::failed_precondition("bind control source-interface " + want +
                                       ": the interface is shut down or has no IP address");
  }
  const config::Interface* src = bound != nullptr ? bound : first_addressed;
  out.source_interface = src->name;
  if (src->ipv4) out.source4 = net::IpAddr::v4(src->ipv4->address);
  if (!src->ipv6.empty()) out.source6 = v6(src->ipv6.front().address);
  // A family the source interface lacks is spoken from the first interface that has it.
  for (const net::InterfaceConfig& ic : out.net.interfaces) {
    if (out.source4.family == 0 && !ic.ipv4.empty()) out.source4 = ic.ipv4.front().addr;
    if (out.source6.family == 0 && !ic.ipv6.empty()) out.source6 = ic.ipv6.front().addr;
  }
  std::sort(out.ports.begin(), out.ports.end());

  for (const config::Route& r : cfg.routes) {
    net::RouteConfig rc;
    if (r.ipv6) {
      rc.dst = net::Prefix{v6(r.network6.address), r.network6.length};
      rc.gateway = v6(r.gateway6);
    } else {
      rc.dst = net::Prefix{net::IpAddr::v4(r.network4.address), r.network4.length};
      rc.gateway = net::IpAddr::v4(r.gateway4);
    }
    out.net.routes.push_back(rc);
  }

  out.listen_port = cfg.voice.sip.listen_port ? cfg.voice.sip.listen_port : config::kDefaultSipPort;
  if (std::uint32_t(out.listen_port) + workers - 1 > 65535) {
    return Status::out_of_range("listen-port non-secure " + std::to_string(out.listen_port) + ": " +
                                std::to_string(workers) + " workers need ports up to " +
                                std::to_string(out.listen_port + workers - 1));
  }
  for (std::uint32_t i = 0; i < workers; ++i) out.net.udp_ports.push_back(std::uint16_t(out.listen_port + i));
  // The engine has at most EngineOptions::max_inflight (8192) transactions in flight per worker,
  // each with one datagram outstanding: when the TX path can hold that many frames it never
  // drops one (a drop costs the binding a Timer E, 500 ms). Two places must hold them:
  //  * the next hops' queue: at a cold start every paced REGISTER of the first milliseconds
  //    waits for the registrars' next hops (one ARP round trip; 8 per next hop dropped the rest);
  //  * the TX batch, when the NIC's ring is full (a burst of paced starts at a high
  //    `registration rate` is thousands of frames at once).
  out.net.neighbour_queue = 8192;
  out.net.neighbour_queue_total = 8192;
  out.net.tx_batch = 8192 + 1024;
  out.net.port_caps.resize(facts.size());
  for (std::size_t p = 0; p < facts.size(); ++p) out.net.port_caps[p] = facts[p].caps;
  return out;
}

}  // namespace regfront::snapshot
