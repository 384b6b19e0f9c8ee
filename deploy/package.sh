#!/usr/bin/env bash
# Builds the Debian package, BUILD/regfront_VERSION-1_amd64.deb, with CPack from the release
# build (configured first if it is not), and prints its path on the last line.
#   deploy/package.sh                      # build/ (the release preset)
#   REGFRONT_BUILD_DIR=DIR deploy/package.sh
# What it holds and how to install it: docs/deploy.md. tests/pkg/test_package.py checks it.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${REGFRONT_BUILD_DIR:-build}
jobs=${REGFRONT_JOBS:-$(nproc)}

if [ ! -f "$build/CMakeCache.txt" ]; then
  if [ "$build" != build ]; then
    echo "package: $build is not a configured build directory" >&2
    exit 1
  fi
  cmake --preset release >/dev/null
fi
cmake --build "$build" -j "$jobs" --target regfrontd regfront-cli regfront_package_docs >/dev/null
rm -f "$build"/regfront_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
debs=("$build"/regfront_*_amd64.deb)
[ -f "${debs[0]}" ] || { echo "package: cpack made no regfront_*_amd64.deb in $build" >&2; exit 1; }
echo "$(cd "$(dirname "${debs[0]}")" && pwd)/$(basename "${debs[0]}")"
