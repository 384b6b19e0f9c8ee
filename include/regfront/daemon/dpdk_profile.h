// regfront/daemon/dpdk_profile.h — the EAL/port profile file of `regfrontd --dpdk-profile FILE`:
// what would otherwise be a long --eal string, one argument per line, with comments.
//
//   ! /etc/regfront/dpdk.profile        ('!' or '#' starts a comment line)
//   --file-prefix regfront
//   -l 2-4                              an EAL option and at most one value
//   --socket-mem=1024
//   port 0000:03:00.0                   a NIC the EAL may use (-a ADDRESS[,DEVARGS])
//   port 0000:03:00.1,rx_low_latency=1
//   vdev net_tap0,iface=rftap0          a virtual device (--vdev)
//
//   StatusOr<std::string> eal = load_dpdk_profile("/etc/regfront/dpdk.profile");
//   if (!eal.ok()) fputs(eal.status().message().c_str(), stderr);  // "FILE:LINE: % …" lines
//   else opts.eal_args = *eal + " " + opts.eal_args;                 // --eal is added after it
//
// Every bad line is reported, not just the first, each as FILE:LINE with the reason and the
// line; a profile with any bad line yields nothing.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "regfront/common/status.h"

namespace regfront::daemon {

inline constexpr std::size_t kMaxProfileBytes = 64 * 1024;  // larger is refused, not truncated
inline constexpr std::size_t kMaxProfileArguments = 256;    // EAL words a profile may give

// The EAL words of a profile's text, space-separated (as --eal takes them). `file` only names
// the file in the errors (invalid_argument, one "FILE:LINE: % reason\n  line" per bad line).
StatusOr<std::string> parse_dpdk_profile(std::string_view text, const std::string& file);

// Reads `path` (a regular file, at most kMaxProfileBytes) and parses it.
StatusOr<std::string> load_dpdk_profile(const std::string& path);

}  // namespace regfront::daemon
