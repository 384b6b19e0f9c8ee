#!/usr/bin/env bash
# The README's first command: install, build, and watch regfront register endpoints with
# three local Kamailio registrars on the kernel-socket backend (the embedded default), then
# relay calls between an SBC core and those providers (SIPp on both sides).
#   deploy/demo.sh [--endpoints N] [--calls N] [--keep]
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target regfrontd regfront-cli
exec python3 deploy/demo.py --bin-dir build/bin "$@"
