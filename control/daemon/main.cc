// regfrontd — process start-up: options, configuration check, then the daemon.
#include <getopt.h>
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "regfront/config/commands.h"
#include "regfront/config/persist.h"
#include "regfront/protocol/protocol.h"
#include "regfront/daemon/daemon.h"
#include "regfront/daemon/dpdk_profile.h"

namespace {

void usage(std::FILE* f) {
  std::fprintf(f,
               "usage: regfrontd --config FILE [--io socket|dpdk] [--dpdk-profile FILE] [--eal \"EAL ARGS\"]\n"
               "                 [--listen IP:PORT] [--workers N]\n"
               "                 [--control-socket PATH] [--shutdown-timeout SECONDS] [--no-preemptive-auth]\n"
               "                 [--stage-timing] [--max-calls N] [--control-sessions N]\n"
               "                 [--control-idle-timeout SECONDS] [--learned-realms N]\n"
               "                 [--dns-server HOST:PORT[,...]] [--dns-hold-down SECONDS]\n"
               "                 [--metrics ADDR:PORT] [--socket-coalesce MICROSECONDS] [--shard I/N]\n"
               "       regfrontd --check-config FILE [--dpdk-profile FILE] [--shard I/N]\n"
               "\n"
               "  --config FILE            startup-config in IOS syntax\n"
               "  --check-config FILE      validate FILE (and the --dpdk-profile, if given), print errors\n"
               "                           as FILE:LINE, exit 0 if valid, 1 if not; no network\n"
               "  --io socket|dpdk         I/O backend (socket: kernel UDP, the default; dpdk: ethdev\n"
               "                           ports from the EAL, `interface dpdkN` in the config)\n"
               "  --eal \"ARGS\"             --io dpdk: EAL arguments, e.g. \"--no-huge --no-pci -m 512\n"
               "                           --file-prefix rf --vdev net_tap0,iface=rftap0\"; without\n"
               "                           -l/--lcores, lcores 0..N float over every CPU; added after\n"
               "                           the profile's\n"
               "  --dpdk-profile FILE      --io dpdk: EAL arguments from FILE, one a line: an option\n"
               "                           and its value, `port PCI-ADDRESS[,DEVARGS]` or `vdev\n"
               "                           DEVICE`; '!' or '#' starts a comment (docs/deploy.md)\n"
               "  --listen IP:PORT         local SIP address (Via, Contact); default 0.0.0.0:5060;\n"
               "                           worker i uses PORT+i; with 0.0.0.0 the address towards\n"
               "                           each registrar is the one the kernel routes from\n"
               "  --workers N              worker threads (default 1)\n"
               "  --control-socket PATH    UNIX socket for regfront-cli (default %s)\n"
               "  --shutdown-timeout S     at most S seconds to unregister on SIGTERM (default 10)\n"
               "  --max-bindings N         binding slots per worker (default: the startup-config's\n"
               "                           plus a quarter for live additions, at least 65536)\n"
               "  --no-preemptive-auth     refreshes go without credentials and are challenged\n"
               "                           (default: they answer the registrar's last nonce)\n"
               "  --max-calls N            call slots per worker: calls being set up and dialogs\n"
               "                           (default 2048; a full table answers 503)\n"
               "  --control-sessions N     control-socket sessions at once (default 16, 1..1024); one\n"
               "                           more is told \"Too many control sessions\" and closed\n"
               "  --control-idle-timeout S close a session that reads and sends nothing for S\n"
               "                           seconds (default 600; 0: never), a client that stops\n"
               "                           reading its replies included\n"
               "  --learned-realms N       realms learned per registrar from its challenges for\n"
               "                           realm-less credentials (default 8, 1..64); a new one\n"
               "                           evicts that registrar's least recently used\n"
               "  --dns-server H:P[,...]   name servers for dns: registrars and session targets\n"
               "                           (default: those of /etc/resolv.conf)\n"
               "  --dns-hold-down S        a dns: registrar's target that stopped answering (3\n"
               "                           timeouts, 503s or ICMP unreachables without a 2xx) is\n"
               "                           avoided S seconds (default 60; doubled each time it fails\n"
               "                           again, up to 15 min), then used again if it is better\n"
               "  --metrics ADDR:PORT      serve Prometheus metrics at http://ADDR:PORT/metrics and a\n"
               "                           live page at http://ADDR:PORT/ (off by default;\n"
               "                           docs/metrics.md lists them)\n"
               "  --shard I/N              register only the endpoints of shard I of N (0 <= I < N):\n"
               "                           a consistent hash of each number, so N -> N+1 moves about\n"
               "                           1/(N+1) of them; replaces the startup-config's `shard`\n"
               "                           line (a StatefulSet passes its pod ordinal)\n"
               "  --socket-coalesce US     --io socket: while traffic flows (the worker just sent\n"
               "                           requests or answers, or read several datagrams at once)\n"
               "                           it sleeps US microseconds on a timer and then reads\n"
               "                           everything that arrived, instead of waking for each\n"
               "                           datagram (default 2000; 0: wake for every datagram);\n"
               "                           a lone datagram after a quiet spell still wakes it at once\n"
               "  --stage-timing           --io dpdk: split each worker's busy time by stage\n"
               "                           (stage_*_tsc in show dataplane; an rdtsc per stage)\n",
               regfront::protocol::default_control_socket().c_str());
}

int check_profile(const std::string& path) {
  const regfront::StatusOr<std::string> eal = regfront::daemon::load_dpdk_profile(path);
  if (!eal.ok()) {
    std::fprintf(stderr, "%s", eal.status().message().c_str());
    return 1;
  }
  std::printf("%s: OK (EAL arguments: %s)\n", path.c_str(), eal->c_str());
  return 0;
}

int check_config(const std::string& path, const regfront::daemon::Options& o) {
  // The same reading as the daemon's: a directory, a FIFO or a read error is refused.
  const regfront::StatusOr<std::string> text = regfront::config::read_startup_config(path);
  if (!text.ok()) {
    std::fprintf(stderr, "regfrontd: cannot read %s\n", text.status().message().c_str());
    return 1;
  }
  regfront::config::Config cfg;
  const auto r = regfront::config::load_startup_config(*text, cfg);
  if (!r.ok()) {
    for (const auto& e : r.errors) std::fprintf(stderr, "%s\n", e.format(path).c_str());
    return 1;
  }
  if (o.shard_count != 0) {
    cfg.sip_ua.shard_index = o.shard_index;
    cfg.sip_ua.shard_count = o.shard_count;
  }
  const auto endpoints = regfront::config::endpoint_numbers(cfg);
  std::string shard;
  if (cfg.sip_ua.shard_count != 0) {
    shard = " in shard " + std::to_string(cfg.sip_ua.shard_index) + " of " + std::to_string(cfg.sip_ua.shard_count);
  }
  std::printf("%s: OK (%zu registrar(s), %zu endpoint(s)%s)\n", path.c_str(), cfg.sip_ua.registrars.size(),
              endpoints.size(), shard.c_str());
  return 0;
}

bool parse_listen(const std::string& s, regfront::daemon::Options& o) {
  std::string host = s;
  std::string port;
  if (!s.empty() && s[0] == '[') {
    const auto close = s.find(']');
    if (close == std::string::npos) return false;
    host = s.substr(1, close - 1);
    if (close + 1 < s.size()) {
      if (s[close + 1] != ':') return false;
      port = s.substr(close + 2);
    }
  } else if (const auto colon = s.rfind(':'); colon != std::string::npos && s.find(':') == colon) {
    host = s.substr(0, colon);
    port = s.substr(colon + 1);
  }
  o.listen_ip = host;
  if (!port.empty()) {
    char* end = nullptr;
    const long p = std::strtol(port.c_str(), &end, 10);
    if (*end != '\0' || p < 1 || p > 65535) return false;
    o.listen_port = static_cast<std::uint16_t>(p);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  regfront::daemon::Options o;
  std::string check, profile;
  static const option longopts[] = {
      {"config", required_argument, nullptr, 'c'},  {"check-config", required_argument, nullptr, 'C'},
      {"io", required_argument, nullptr, 'i'},      {"listen", required_argument, nullptr, 'l'},
      {"workers", required_argument, nullptr, 'w'}, {"control-socket", required_argument, nullptr, 's'},
      {"shutdown-timeout", required_argument, nullptr, 't'}, {"help", no_argument, nullptr, 'h'},
      {"max-bindings", required_argument, nullptr, 'm'}, {"eal", required_argument, nullptr, 'e'},
      {"no-preemptive-auth", no_argument, nullptr, 'P'},
      {"stage-timing", no_argument, nullptr, 'T'},
      {"max-calls", required_argument, nullptr, 'M'},
      {"control-sessions", required_argument, nullptr, 'S'},
      {"control-idle-timeout", required_argument, nullptr, 'I'},
      {"learned-realms", required_argument, nullptr, 'L'},
      {"dns-server", required_argument, nullptr, 'D'},
      {"dns-hold-down", required_argument, nullptr, 'H'},
      {"metrics", required_argument, nullptr, 'X'},
      {"socket-coalesce", required_argument, nullptr, 'W'},
      {"shard", required_argument, nullptr, 'Z'},
      {"dpdk-profile", required_argument, nullptr, 'E'},
      {nullptr, 0, nullptr, 0}};
  int c;
  while ((c = getopt_long(argc, argv, "c:C:i:l:w:s:t:m:e:h", longopts, nullptr)) != -1) {
    switch (c) {
      case 'c': o.config_path = optarg; break;
      case 'C': check = optarg; break;
      case 'i': o.io = optarg; break;
      case 'l':
        if (!parse_listen(optarg, o)) {
          std::fprintf(stderr, "regfrontd: --listen %s: expected IP:PORT\n", optarg);
          return 2;
        }
        break;
      case 'w': {
        const long n = std::strtol(optarg, nullptr, 10);
        if (n < 1 || n > 64) {
          std::fprintf(stderr, "regfrontd: --workers must be 1..64\n");
          return 2;
        }
        o.workers = static_cast<std::uint32_t>(n);
        break;
      }
      case 's': o.control_socket = optarg; break;
      case 't': o.shutdown_timeout_s = static_cast<std::uint32_t>(std::strtoul(optarg, nullptr, 10)); break;
      case 'm': {
        const long n = std::strtol(optarg, nullptr, 10);
        if (n < 1 || n > (1L << 26)) {
          std::fprintf(stderr, "regfrontd: --max-bindings must be 1..%ld\n", 1L << 26);
          return 2;
        }
        o.capacity = static_cast<std::uint32_t>(n);
        break;
      }
      case 'e': o.eal_args = optarg; break;
      case 'E': profile = optarg; break;
      case 'P': o.preemptive_auth = false; break;
      case 'T': o.stage_timing = true; break;
      case 'M': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (*end != '\0' || n < 1 || n > (1L << 20)) {
          std::fprintf(stderr, "regfrontd: --max-calls must be 1..%ld\n", 1L << 20);
          return 2;
        }
        o.max_calls = static_cast<std::uint32_t>(n);
        break;
      }
      case 'S': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (*end != '\0' || n < 1 || n > 1024) {
          std::fprintf(stderr, "regfrontd: --control-sessions must be 1..1024\n");
          return 2;
        }
        o.control_sessions = static_cast<std::uint32_t>(n);
        break;
      }
      case 'I': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (*end != '\0' || n < 0 || n > 86400) {
          std::fprintf(stderr, "regfrontd: --control-idle-timeout must be 0..86400 seconds\n");
          return 2;
        }
        o.control_idle_timeout_s = static_cast<std::uint32_t>(n);
        break;
      }
      case 'L': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (*end != '\0' || n < 1 || n > 64) {
          std::fprintf(stderr, "regfrontd: --learned-realms must be 1..64\n");
          return 2;
        }
        o.learned_realms = static_cast<std::uint32_t>(n);
        break;
      }
      case 'D': o.dns_servers = optarg; break;
      case 'X': o.metrics = optarg; break;
      case 'Z': {
        unsigned i = 0, n = 0;
        char tail = 0;
        if (std::sscanf(optarg, "%u/%u%c", &i, &n, &tail) != 2 || n < 1 || n > regfront::config::kMaxShards ||
            i >= n) {
          std::fprintf(stderr, "regfrontd: --shard must be I/N with 1 <= N <= %u and 0 <= I < N\n",
                       regfront::config::kMaxShards);
          return 2;
        }
        o.shard_index = i;
        o.shard_count = n;
        break;
      }
      case 'W': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (*end != '\0' || end == optarg || n < 0 || n > 5000) {
          std::fprintf(stderr, "regfrontd: --socket-coalesce must be 0..5000 microseconds\n");
          return 2;
        }
        o.socket_coalesce_us = static_cast<std::uint32_t>(n);
        break;
      }
      case 'H': {
        char* end = nullptr;
        const long n = std::strtol(optarg, &end, 10);
        if (*end != '\0' || n < 1 || n > 86400) {
          std::fprintf(stderr, "regfrontd: --dns-hold-down must be 1..86400 seconds\n");
          return 2;
        }
        o.dns_hold_down_s = static_cast<std::uint32_t>(n);
        break;
      }
      case 'h': usage(stdout); return 0;
      default: usage(stderr); return 2;
    }
  }
  if (!check.empty()) {
    const int config = check_config(check, o);
    const int eal = profile.empty() ? 0 : check_profile(profile);
    return config != 0 ? config : eal;
  }
  if (o.config_path.empty()) {
    usage(stderr);
    return 2;
  }
  if (o.io != "socket" && o.io != "dpdk") {
    std::fprintf(stderr, "regfrontd: --io %s: expected socket or dpdk\n", o.io.c_str());
    return 2;
  }
  if (!profile.empty()) {
    if (o.io != "dpdk") {
      std::fprintf(stderr, "regfrontd: --dpdk-profile is for --io dpdk (the socket backend has no EAL)\n");
      return 2;
    }
    const regfront::StatusOr<std::string> eal = regfront::daemon::load_dpdk_profile(profile);
    if (!eal.ok()) {
      std::fprintf(stderr, "%sregfrontd: %s: profile refused\n", eal.status().message().c_str(), profile.c_str());
      return 1;
    }
    o.eal_args = o.eal_args.empty() ? *eal : *eal + " " + o.eal_args;
  }
  regfront::daemon::Daemon d(o);
  if (const regfront::Status s = d.load(); !s.ok()) {
    std::fprintf(stderr, "%s", s.message().c_str());
    if (s.message().empty() || s.message().back() != '\n') std::fputc('\n', stderr);
    std::fprintf(stderr, "regfrontd: %s: configuration refused\n", o.config_path.c_str());
    return 1;
  }
  return d.run();
}
