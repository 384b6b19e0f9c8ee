// libFuzzer target for the startup-config loader (the grammar every file and every CLI line
// goes through). Oracles beside "no crash, no sanitizer report":
//  - a refused file leaves the configuration as it was (empty here) and names a line that exists;
//  - an accepted file renders (show running-config) to text that loads again without an error
//    and renders identically: what the daemon writes with `write memory` it can read back.
// Replayed by ctest through fuzz_replay_config_loader; fuzz_config_loader is the libFuzzer binary.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "regfront/config/commands.h"
#include "regfront/config/model.h"

namespace {

using namespace regfront::config;

// A startup-config is read whole; the daemon refuses files beyond its size bound long before
// this, which keeps the fuzzer on the grammar rather than on sheer length.
constexpr std::size_t kMaxInput = 1 << 16;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > kMaxInput) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string empty = render_running_config(Config{});

  Config cfg;
  const LoadResult r = load_startup_config(text, cfg);
  if (!r.ok()) {
    if (render_running_config(cfg) != empty) __builtin_trap();  // a refused file changed something
    const long lines = long(std::count(text.begin(), text.end(), '\n')) + 1;
    for (const LoadError& e : r.errors) {
      if (e.line < 1 || e.line > lines) __builtin_trap();
      if (e.status.ok()) __builtin_trap();
      (void)e.format("startup-config");
    }
    return 0;
  }
  const std::string once = render_running_config(cfg);
  Config again;
  if (!load_startup_config(once, again).ok()) __builtin_trap();  // our own output refused
  if (render_running_config(again) != once) __builtin_trap();    // not a fixed point
  return 0;
}
