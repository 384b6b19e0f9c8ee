// Loading and rendering a startup-config of 100k endpoints (the goal: loading takes ≤ 2 s).
//
// Two shapes: 100k `credentials number … realm …` lines under sip-ua, and 50k POTS dial peers
// (destination-pattern + authentication) plus 50k credentials. Both with six registrars.
//
// Figures (RelWithDebInfo, 2 shared cores, so ±25 % between runs):
//   BM_LoadCredentials/100000        150-200 ms  (was 33.7 s with a linear duplicate search
//                                                  per line: quadratic; actions::Index fixed it)
//   BM_LoadMixed/100000              150-180 ms  (was 6.8 s)
//   BM_RenderCredentials/100000       15 ms
//   BM_RenderMixed/100000             26 ms
//   BM_CommandOnLargeConfig/100000   ~190 us     (one interactive command: linear scan, no index)
// What is left in a load profile: hash lookups in the index (cache misses), malloc/free of the
// per-line tokens and Args, the final destruction of the tables.
#include <benchmark/benchmark.h>

#include <string>

#include "regfront/config/commands.h"

namespace {

using regfront::config::Config;

std::string registrars() {
  std::string out;
  for (int i = 1; i <= 6; ++i) {
    out += " registrar " + std::to_string(i) + " dns:reg" + std::to_string(i) +
           ".example.com expires 3600\n";
  }
  return out;
}

// `endpoints` numbers, each a `credentials` line in realm.example.com.
std::string credentials_config(int endpoints) {
  std::string out = "hostname bench\n!\nsip-ua\n" + registrars();
  for (int i = 0; i < endpoints; ++i) {
    std::string n = std::to_string(14085000000LL + i);
    out += " credentials number " + n + " username u" + n + " password 0 pw" + n +
           " realm realm.example.com\n";
  }
  return out + "!\nend\n";
}

// endpoints/2 dial peers with a number and a credential, and endpoints/2 credentials.
std::string mixed_config(int endpoints) {
  std::string out = "hostname bench\n!\n";
  for (int i = 0; i < endpoints / 2; ++i) {
    std::string n = std::to_string(14086000000LL + i);
    out += "dial-peer voice " + std::to_string(i + 1) + " pots\n destination-pattern " + n +
           "\n authentication username u" + n + " password 0 pw" + n +
           " realm realm.example.com\n!\n";
  }
  out += "sip-ua\n" + registrars();
  for (int i = 0; i < endpoints - endpoints / 2; ++i) {
    std::string n = std::to_string(14085000000LL + i);
    out += " credentials number " + n + " username u" + n + " password 0 pw" + n +
           " realm realm.example.com\n";
  }
  return out + "!\nend\n";
}

void load(benchmark::State& state, const std::string& text) {
  for (auto _ : state) {
    Config cfg;
    auto r = regfront::config::load_startup_config(text, cfg);
    if (!r.ok()) state.SkipWithError(r.errors[0].format().c_str());
    benchmark::DoNotOptimize(cfg);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
  state.counters["bytes"] = static_cast<double>(text.size());
}

void BM_LoadCredentials(benchmark::State& state) {
  load(state, credentials_config(static_cast<int>(state.range(0))));
}
void BM_LoadMixed(benchmark::State& state) {
  load(state, mixed_config(static_cast<int>(state.range(0))));
}

void render(benchmark::State& state, const std::string& text) {
  Config cfg;
  if (!regfront::config::load_startup_config(text, cfg).ok()) state.SkipWithError("load failed");
  for (auto _ : state) {
    std::string out = regfront::config::render_running_config(cfg);
    benchmark::DoNotOptimize(out);
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_RenderCredentials(benchmark::State& state) {
  render(state, credentials_config(static_cast<int>(state.range(0))));
}
void BM_RenderMixed(benchmark::State& state) {
  render(state, mixed_config(static_cast<int>(state.range(0))));
}

// One interactive command on a loaded 100k config (the daemon's path: no index, linear scan).
void BM_CommandOnLargeConfig(benchmark::State& state) {
  Config cfg;
  if (!regfront::config::load_startup_config(credentials_config(static_cast<int>(state.range(0))),
                                             cfg).ok())
    state.SkipWithError("load failed");
  regfront::config::Interpreter in(cfg);
  regfront::config::Session s;
  s.mode = regfront::config::Mode::sip_ua;
  bool flip = false;
  for (auto _ : state) {
    flip = !flip;
    auto r = in.execute(flip ? "credentials number 19999999999 username x password 0 a realm r"
                             : "credentials number 19999999999 username x password 0 b realm r",
                        s);
    benchmark::DoNotOptimize(r);
  }
}

BENCHMARK(BM_LoadCredentials)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_LoadMixed)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderCredentials)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_RenderMixed)->Arg(100000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_CommandOnLargeConfig)->Arg(100000)->Unit(benchmark::kMicrosecond);

}  // namespace
