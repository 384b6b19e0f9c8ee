// regfront/snapshot/net_plan.h — the IOS interface configuration (`interface dpdkN[.V]`,
// `ip route`, `voice service voip` → `sip` → `bind control source-interface`,
// `listen-port non-secure`) turned into the DPDK backend's plan (regfront/io/dpdk_plan.h).
// Control plane, start-up: the data plane receives only the plain plan.
//
//   StatusOr<io::DpdkPlan> plan = snapshot::plan_network(cfg, io::probe_ports(), workers);
//   if (!plan.ok()) refuse(plan.status());      // e.g. "Interface dpdk3 does not exist: …"
#pragma once

#include <cstdint>
#include <vector>

#include "regfront/common/status.h"
#include "regfront/config/model.h"
#include "regfront/io/dpdk_plan.h"

namespace regfront::snapshot {

// Maps `cfg` for `workers` workers over the ports described by `facts`. Interfaces that are shut
// down are left out; `bind control source-interface` picks the SIP source (else the first
// interface, in IOS order, that has an address). The port-existence checks of the model are
// config::validate_interfaces' (called before this); a failure here says what the
// configuration lacks, in the words an IOS error would use (without the `%`).
StatusOr<io::DpdkPlan> plan_network(const config::Config& cfg, const std::vector<io::PortFacts>& facts,
                                    std::uint32_t workers);

}  // namespace regfront::snapshot
