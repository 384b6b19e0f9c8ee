#!/usr/bin/env bash
# Installs, from Debian 12's archive, everything regfront needs to build, test and run its demo.
# Idempotent: when every package is already there it changes nothing and asks no mirror.
# Run as root (or through sudo).
set -euo pipefail

packages=(
  # toolchain
  build-essential g++ cmake ninja-build pkg-config git
  clang libclang-rt-14-dev            # libFuzzer targets and their smoke runs
  # libraries (DESIGN.md: DPDK, Hyperscan, jemalloc, OpenSSL 3, c-ares, libedit, JSON)
  dpdk-dev libdpdk-dev libhyperscan-dev libjemalloc-dev libssl-dev libc-ares-dev libedit-dev
  libipsec-mb-dev                     # perf/auth: multi-buffer hashing benchmark
  nlohmann-json3-dev
  prometheus-cpp-dev                  # regfrontd --metrics: the Prometheus text format, and civetweb's HTTP server
  libjs-chart.js                      # the live page's charts (served from /usr/share/javascript)
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  kamailio                            # the real registrar of the e2e tests and the demo
  sip-tester                          # SIPp (sipp): the SBC core and the far end of the call e2e tests
  dnsmasq-base                        # the DNS server (NAPTR/SRV) of the RFC 3263 failover e2e test;
                                      # -base: the binary only, no system service on port 53
  prometheus                          # promtool and the server that scrape /metrics in the e2e test
  chromium                            # headless: loads the live page in the e2e test
  python3 iproute2 procps tmux
  python3-matplotlib                  # perf/scenarios plots (perf/run-all)
  # the Debian package's test (tests/pkg): its checks and its throw-away root
  lintian mmdebstrap systemd strace   # systemd-analyze verify and security --offline; strace:
                                      # the system calls the unit's filter must allow
  yamllint python3-kubernetes         # deploy/kubernetes/check.py: lint and schema of the manifests
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo "$0" "$@"; fi
  echo "install-deps: run as root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian's kamailio package may start its own service on port 5060; regfront's demo and tests
# start their own registrars on other ports, and the packaged one is not needed.
if command -v systemctl >/dev/null && systemctl is-active --quiet kamailio 2>/dev/null; then
  systemctl disable --now kamailio || true
fi
# Likewise Debian's prometheus starts a server on port 9090; the e2e test runs its own.
if command -v systemctl >/dev/null && systemctl is-active --quiet prometheus 2>/dev/null; then
  systemctl disable --now prometheus || true
fi
