// Where the control plane's bytes go for a storm-sized configuration (600k bindings, against a
// memory budget of 256 bytes per binding): the startup-config text, the configuration model,
// the first snapshot, and what the snapshot builder keeps between builds. jemalloc's
// stats.allocated after each step; the same configuration as perf/scenarios/storm.py (one
// `credentials` line per (endpoint, realm)), or with `dial-peer` storm_dpdk.py's default one
// (a POTS dial-peer per endpoint, one `authentication` per realm); then the engines' binding
// slot tables, sized as regfrontd sizes them (the largest plan plus a quarter, at least 64k).
//
//   perf/mem_breakdown [endpoints=100000] [registrars=6] [workers=2] [credentials|dial-peer]
#include <jemalloc/jemalloc.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <algorithm>
#include <cstring>
#include <vector>

#include "regfront/config/commands.h"
#include "regfront/reg/engine.h"
#include "regfront/snapshot/builder.h"

namespace {

std::size_t stat(const char* name) {
  std::uint64_t epoch = 1;
  std::size_t len = sizeof epoch;
  mallctl("epoch", &epoch, &len, &epoch, len);
  std::size_t v = 0;
  len = sizeof v;
  mallctl(name, &v, &len, nullptr, 0);
  return v;
}

void purge() {
  char cmd[64];
  std::snprintf(cmd, sizeof cmd, "arena.%u.purge", MALLCTL_ARENAS_ALL);
  mallctl(cmd, nullptr, nullptr, nullptr, 0);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace regfront;
  const int endpoints = argc > 1 ? std::atoi(argv[1]) : 100000;
  const int registrars = argc > 2 ? std::atoi(argv[2]) : 6;
  const std::uint32_t workers = argc > 3 ? static_cast<std::uint32_t>(std::atoi(argv[3])) : 2;
  const bool dial_peers = argc > 4 && std::strcmp(argv[4], "dial-peer") == 0;
  const double bindings = double(endpoints) * registrars;

  std::size_t last = stat("stats.allocated");
  auto step = [&](const char* what) {
    const std::size_t now = stat("stats.allocated");
    std::printf("%-44s %+9.1f MiB %+8.1f B/binding   (allocated %.1f MiB, resident %.1f MiB)\n", what,
                (double(now) - double(last)) / 1048576.0, (double(now) - double(last)) / bindings,
                double(now) / 1048576.0, double(stat("stats.resident")) / 1048576.0);
    last = now;
  };

  auto text = std::make_unique<std::string>();
  *text += "sip-ua\n";
  for (int i = 1; i <= registrars; ++i) {
    *text += " registrar " + std::to_string(i) + " ipv4:127.0.0.1:" + std::to_string(15060 + i) + " expires 3600\n";
  }
  *text += " registration rate 20000\n";
  if (dial_peers) {
    for (int r = 1; r <= registrars; ++r) {
      const std::string realm = "storm-" + std::to_string(r) + ".test";
      *text += " authentication username storm password 0 pw-" + realm + " realm " + realm + "\n";
    }
    *text += "!\n";
    for (int n = 0; n < endpoints; ++n) {
      *text += "dial-peer voice " + std::to_string(n + 1) + " pots\n destination-pattern " +
               std::to_string(5000000000LL + n) + "\n";
    }
  } else {
    for (int n = 0; n < endpoints; ++n) {
      const std::string num = std::to_string(5000000000LL + n);
      for (int r = 1; r <= registrars; ++r) {
        *text += " credentials number " + num + " username " + num + " password 0 pw-" + num +
                 " realm storm-" + std::to_string(r) + ".test\n";
      }
    }
    *text += "!\n";
  }
  *text += "end\n";
  text->shrink_to_fit();
  step("startup-config text");

  auto cfg = std::make_unique<config::Config>();
  const auto r = config::load_startup_config(*text, *cfg);
  if (!r.ok()) {
    std::fprintf(stderr, "load failed: %s\n", r.errors.front().format("mem").c_str());
    return 1;
  }
  step("configuration model (after load)");

  snapshot::RegistrarAddresses addrs;
  for (int i = 0; i < registrars; ++i) {
    snapshot::ResolvedRegistrar a;
    auto* sin = reinterpret_cast<sockaddr_in*>(&a.addr);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<std::uint16_t>(15061 + i));
    sin->sin_addr.s_addr = htonl(0x7f000001);
    a.addr_len = sizeof(sockaddr_in);
    a.local_ip = "127.0.0.1";
    addrs[i] = a;
  }
  snapshot::Builder builder(workers);
  auto snap = builder.build(*cfg, addrs, 5060);
  step("first build: snapshot + builder state");
  std::size_t plan = 0;
  for (const auto& p : snap->plans) plan += p.capacity() * sizeof(reg::PlanEntry);
  std::printf("  of which plans (PlanEntry %zu B)             %9.1f MiB %+8.1f B/binding\n", sizeof(reg::PlanEntry),
              double(plan) / 1048576.0, double(plan) / bindings);
  std::printf("  sizeof SnapCredential %zu, SnapEndpoint %zu, Ha1Set %zu; %zu credentials, %zu endpoints\n",
              sizeof(reg::SnapCredential), sizeof(reg::SnapEndpoint), sizeof(auth::Ha1Set), snap->credentials.size(),
              snap->endpoints.size());
  std::size_t largest = 0;
  for (const auto& p : snap->plans) largest = std::max(largest, p.size());
  auto snap2 = builder.build(*cfg, addrs, 5060, {}, snap.get());
  step("second build (rebuild, both snapshots alive)");
  snap.reset();
  step("  free the first snapshot");
  snap2.reset();
  step("  free the second snapshot (= snapshot size)");
  const std::size_t before_purge = stat("stats.resident");
  purge();
  std::printf("purge: resident %.1f → %.1f MiB\n", double(before_purge) / 1048576.0,
              double(stat("stats.resident")) / 1048576.0);
  text.reset();
  step("free the text");
  cfg.reset();
  step("free the model");

  // The workers' engines, as regfrontd sizes them (daemon.cc): one per worker, each with the
  // largest plan plus a quarter (at least 64k) of slots. The per-slot cost is measured against
  // an engine of 64k slots (the transaction pool and the rest are fixed), not taken from sizeof.
  const std::uint32_t capacity =
      static_cast<std::uint32_t>(std::max<std::size_t>(65536, (largest + largest / 4 + 4095) / 4096 * 4096));
  reg::TxQueue tx(64);
  reg::EngineOptions small;
  small.capacity = 65536;
  std::size_t at = stat("stats.allocated");
  auto probe = std::make_unique<reg::Engine>(small, tx);
  const std::size_t fixed_and_64k = stat("stats.allocated") - at;
  probe.reset();
  last = stat("stats.allocated");
  std::vector<std::unique_ptr<reg::Engine>> engines;
  for (std::uint32_t w = 0; w < workers; ++w) {
    reg::EngineOptions o;
    o.worker = w;
    o.capacity = capacity;
    engines.push_back(std::make_unique<reg::Engine>(o, tx));
  }
  const std::size_t all = stat("stats.allocated") - last;
  const double per_slot =
      capacity > 65536 ? (double(all) / workers - double(fixed_and_64k)) / (capacity - 65536.0) : 0.0;
  step("engines (binding slots, timers, transactions)");
  std::printf("  %u slots per worker for a largest plan of %zu: %.1f B per slot, %.2f slots per binding\n",
              capacity, largest, per_slot, double(capacity) * workers / bindings);
  return 0;
}
