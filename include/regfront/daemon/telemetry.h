// regfront/daemon/telemetry.h — regfrontd in DPDK telemetry, beside the built-in /ethdev/*:
// `dpdk-telemetry.py -f PREFIX` (or any client of the telemetry socket) lists
//
//   /regfront/info              version, I/O, workers, bindings, snapshot version, uptime
//   /regfront/workers           the worker ids
//   /regfront/worker,ID         one worker's counters (as `show dataplane | json`)
//   /regfront/registrars        the configured registrar indexes
//   /regfront/registrar,INDEX   its address and REGISTER counters summed over the workers, and
//                               its final responses by code (as `show sip-ua statistics | json`)
//
// DPDK answers on its own telemetry thread. That thread reads only a copy the control thread
// refreshes (update(), about once a second, under a mutex it holds for a swap): never the
// configuration, the snapshot or the workers' tables; the workers are not involved at all.
// Keys are [a-z0-9_] and dictionaries stay under DPDK 22.11's 256 entries.
//
//   Telemetry::enable();                 // --io dpdk, after rte_eal_init (no-op with --no-telemetry)
//   Telemetry::update(std::move(view));  // control thread, periodically
//   Telemetry::disable();                // before rte_eal_cleanup: later requests get errors
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace regfront::daemon {

class Telemetry {
 public:
  struct Dict {
    std::vector<std::pair<std::string, std::uint64_t>> numbers;
    std::vector<std::pair<std::string, std::string>> strings;
  };
  struct View {
    Dict info;
    std::vector<Dict> workers;                     // by worker id
    std::vector<std::pair<int, Dict>> registrars;  // the configured ones, by index
  };

  // Registers the commands (once per process). False when DPDK refused one.
  static bool enable();
  static void update(View v);
  static void disable();
};

}  // namespace regfront::daemon
