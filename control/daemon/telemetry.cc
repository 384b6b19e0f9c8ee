// regfrontd's DPDK telemetry commands (see regfront/daemon/telemetry.h).
#include "regfront/daemon/telemetry.h"

#include <rte_telemetry.h>

#include <cstdlib>
#include <mutex>
#include <string_view>

namespace regfront::daemon {

namespace {

std::mutex g_mu;
Telemetry::View g_view;  // under g_mu
bool g_live = false;     // under g_mu: false before the first update and after disable()
bool g_registered = false;

// DPDK 22.11 takes at most RTE_TEL_MAX_DICT_ENTRIES per dictionary and names and strings of
// RTE_TEL_MAX_STRING_LEN - 1 bytes: anything beyond is cut here rather than refused there.
void put(rte_tel_data* d, const Telemetry::Dict& dict) {
  rte_tel_data_start_dict(d);
  int n = 0;
  for (const auto& [k, v] : dict.strings) {
    if (n++ == RTE_TEL_MAX_DICT_ENTRIES) return;
    rte_tel_data_add_dict_string(d, k.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str(),
                                 v.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str());
  }
  for (const auto& [k, v] : dict.numbers) {
    if (n++ == RTE_TEL_MAX_DICT_ENTRIES) return;
    rte_tel_data_add_dict_u64(d, k.substr(0, RTE_TEL_MAX_STRING_LEN - 1).c_str(), v);
  }
}

// The number after the comma: "3" → 3; false for anything else.
bool index_of(const char* params, long& out) {
  if (params == nullptr || *params == '\0') return false;
  char* end = nullptr;
  out = std::strtol(params, &end, 10);
  return end != params && *end == '\0' && out >= 0;
}

int info(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_live) return -1;
  put(d, g_view.info);
  return 0;
}

int workers(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_live) return -1;
  rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
  for (std::size_t i = 0; i < g_view.workers.size() && i < RTE_TEL_MAX_ARRAY_ENTRIES; ++i) {
    rte_tel_data_add_array_int(d, static_cast<int>(i));
  }
  return 0;
}

int worker(const char*, const char* params, rte_tel_data* d) {
  long id;
  if (!index_of(params, id)) return -1;
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_live || static_cast<std::size_t>(id) >= g_view.workers.size()) return -1;
  put(d, g_view.workers[static_cast<std::size_t>(id)]);
  return 0;
}

int registrars(const char*, const char*, rte_tel_data* d) {
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_live) return -1;
  rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
  for (const auto& [index, dict] : g_view.registrars) rte_tel_data_add_array_int(d, index);
  return 0;
}

int registrar(const char*, const char* params, rte_tel_data* d) {
  long index;
  if (!index_of(params, index)) return -1;
  std::lock_guard<std::mutex> l(g_mu);
  if (!g_live) return -1;
  for (const auto& [i, dict] : g_view.registrars) {
    if (i == index) {
      put(d, dict);
      return 0;
    }
  }
  return -1;
}

}  // namespace

bool Telemetry::enable() {
  std::lock_guard<std::mutex> l(g_mu);
  if (g_registered) return true;
  bool ok = rte_telemetry_register_cmd("/regfront/info", info,
                                       "regfrontd: version, I/O, workers, bindings, snapshot version, uptime") == 0;
  ok &= rte_telemetry_register_cmd("/regfront/workers", workers, "regfrontd: the worker ids") == 0;
  ok &= rte_telemetry_register_cmd("/regfront/worker", worker,
                                   "regfrontd: one worker's counters. Parameters: int worker_id") == 0;
  ok &= rte_telemetry_register_cmd("/regfront/registrars", registrars,
                                   "regfrontd: the configured registrar indexes") == 0;
  ok &= rte_telemetry_register_cmd("/regfront/registrar", registrar,
                                   "regfrontd: one registrar's REGISTER counters and final responses by code. "
                                   "Parameters: int registrar_index") == 0;
  g_registered = ok;
  return ok;
}

void Telemetry::update(View v) {
  std::lock_guard<std::mutex> l(g_mu);
  g_view = std::move(v);
  g_live = true;
}

void Telemetry::disable() {
  std::lock_guard<std::mutex> l(g_mu);
  g_live = false;
  g_view = View{};
}

}  // namespace regfront::daemon
