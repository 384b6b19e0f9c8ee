// regfront/daemon/options.h — regfrontd's command-line options, parsed by main.cc and read by
// every part of the daemon at start-up.
#pragma once

#include <cstdint>
#include <string>

namespace regfront::daemon {

struct Options {
  std::string config_path;
  std::string io = "socket";
  std::string listen_ip = "0.0.0.0";
  std::uint16_t listen_port = 5060;
  std::uint32_t workers = 1;
  std::string control_socket;          // default: protocol's default_control_socket()
  std::uint32_t shutdown_timeout_s = 10;
  std::uint32_t capacity = 0;          // binding slots per worker; 0 = from the startup-config
  std::string eal_args;                // --io dpdk: EAL arguments (--eal "…")
  bool preemptive_auth = true;         // refreshes answer the registrar's cached nonce
  bool stage_timing = false;           // --io dpdk: stage_*_tsc counters (--stage-timing)
  std::uint32_t max_calls = 2048;      // call slots per worker (--max-calls)
  std::uint32_t control_sessions = 16;       // --control-sessions: operator sessions at once
  std::uint32_t control_idle_timeout_s = 600;  // --control-idle-timeout: 0 = never
  std::uint32_t learned_realms = 8;  // --learned-realms: realms learned per registrar (LRU evicted)
  std::string dns_servers;             // --dns-server HOST:PORT[,…]; empty: /etc/resolv.conf's
  std::uint32_t dns_hold_down_s = 60;  // --dns-hold-down: a failed DNS target is avoided this long
  std::string metrics;                 // --metrics ADDR:PORT: Prometheus exposition; empty: off
  std::uint32_t shard_index = 0;       // --shard I/N: overrides the startup-config's `shard I of N`
  std::uint32_t shard_count = 0;       // 0: --shard not given
  std::uint32_t socket_coalesce_us = 2000;  // --socket-coalesce: socket worker's wake-up coalescing; 0 = off
};

}  // namespace regfront::daemon
