// regfront/daemon/session_info.h — `show version` and `show users`, IOS's shapes filled with
// what regfrontd is: its build, its uptime and its control-socket sessions.
//
//   VersionInfo v{.version = "0.1.0", .hostname = "Router", .uptime_s = 93784, …};
//   render_version(v);   // "regfront Software, Version 0.1.0\n…Router uptime is 1 day, 2 hours, 3 minutes\n…"
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace regfront::daemon {

// "1 week, 2 days, 3 hours, 4 minutes" as IOS writes an uptime: from the largest unit that is
// not zero, minutes always.
std::string format_uptime(std::uint64_t seconds);

struct VersionInfo {
  std::string version;      // the project's version
  std::string build;        // compiler and build type
  std::string hostname;     // the configuration's
  std::uint64_t uptime_s = 0;
  std::string image;        // the executable's path
  std::string system;       // kernel name, release, machine
  std::string io;           // "kernel sockets" or "DPDK"
  unsigned workers = 0;
  std::string config_path;  // the startup-config file
};
std::string render_version(const VersionInfo& v);
// `show version | json`: the same fields on one line (docs/show-json.md).
std::string render_version_json(const VersionInfo& v);

// One control session of `show users`; `self` is the one asking (IOS's '*').
struct UserRow {
  bool self = false;
  std::uint32_t line = 0;
  std::string user;          // the peer's user name (its uid when it has none)
  std::uint64_t idle_s = 0;  // since its last request
  std::string location;      // "pid N" (UNIX socket peers have no address)
  std::string mode;          // "user exec", "privileged exec", "configuration" (regfront's column)
};
std::string render_users(const std::vector<UserRow>& rows);
// `show users | json`: {"users": [{"line": 0, "self": true, …}]} (docs/show-json.md).
std::string render_users_json(const std::vector<UserRow>& rows);

}  // namespace regfront::daemon
