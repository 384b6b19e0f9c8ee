// Rendering of the show commands (IOS-style text or JSON, docs/show-json.md), kept apart
// from the daemon so it works on plain rows. Parsing is the grammar's (control/config).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "regfront/reg/engine.h"

namespace regfront::daemon {

struct StatusRow {
  std::string number;
  int registrar = 0;
  std::string state;
  std::uint32_t granted = 0;
  std::int64_t seconds_left = 0;
  std::uint16_t last_code = 0;
  std::string username;
  std::string realm;
};
std::string render_register_status(const std::vector<StatusRow>& rows, bool json);

struct RegistrarRow {
  int index = 0;
  std::string address;
  std::string resolved;
  bool active = false;
  std::uint32_t registered = 0;
  std::uint32_t total = 0;
  std::uint32_t inflight = 0;
  std::uint32_t rate = 0;
  std::string dns_error;
  std::uint16_t last_failure_code = 0;   // 0: none
  std::int64_t last_failure_ago_s = -1;  // seconds ago; -1: none
};
std::string render_registrars(const std::vector<RegistrarRow>& rows, bool json);

std::string render_statistics(const reg::Snapshot& snap, const std::vector<const reg::WorkerCounters*>& workers,
                              bool json);

struct DataplaneRow {
  std::uint32_t worker = 0;
  std::size_t bindings = 0;
  std::uint64_t rx = 0, tx = 0, dropped = 0;
  std::uint64_t heap_allocated = 0;  // bytes the poll loop allocated (must stay 0)
  bool heap_tracked = false;         // false: heap_allocated unknown (JSON null)
  // --io dpdk: the worker's I/O and network-stack counters (name, value), in declaration order.
  std::vector<std::pair<std::string, std::uint64_t>> io;
};
// --io dpdk: one DPDK port (rte_eth_stats).
struct PortRow {
  std::uint16_t port = 0;
  std::string device;
  bool link_up = false;
  std::uint64_t ipackets = 0, opackets = 0, ierrors = 0, imissed = 0, oerrors = 0, rx_nombuf = 0;
  std::uint32_t flow_rules = 0;
};
// --io dpdk: the mbuf pool (size 0 with sockets).
struct PoolRow {
  unsigned size = 0;
  unsigned available = 0;
};
std::string render_dataplane(const std::vector<DataplaneRow>& rows, bool json,
                             const std::vector<PortRow>& ports = {}, const PoolRow& pool = {});

}  // namespace regfront::daemon
