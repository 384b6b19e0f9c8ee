#!/usr/bin/env bash
# The README's test command: installs what is needed, builds, and runs every test.
#   1. release build: unit tests, end-to-end tests against real Kamailio registrars, fuzz corpus
#      replay, benchmark smoke runs, the Debian package's test (tests/pkg, label pkg);
#   2. dev build (ASan + UBSan): unit tests and fuzz corpus replay;
#   3. ThreadSanitizer build of the threaded tests (label "threads": snapshot publication while
#      workers run, status dumps, shutdown, the lock-free rings);
#   4. clang libFuzzer build: a short fuzzing run per target.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

deploy/install-deps.sh

echo "== release build"
cmake --preset release >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs" --timeout 900

echo "== dev build (ASan + UBSan)"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j "$jobs" --timeout 900

echo "== ThreadSanitizer (threaded tests)"
cmake --preset tsan >/dev/null
# Only the test binaries that hold threaded tests (and what they link) are built here.
cmake --build --preset tsan -j "$jobs" --target threaded_tests
ctest --preset tsan -j "$jobs" --timeout 600

echo "== libFuzzer smoke"
cmake --preset fuzz >/dev/null
fuzz_targets=$(cmake --build --preset fuzz --target help | sed -n 's/^\(fuzz_[a-z_]*\):.*/\1/p' | grep -v '^fuzz_replay_' || true)
if [ -n "$fuzz_targets" ]; then
  # shellcheck disable=SC2086
  cmake --build --preset fuzz -j "$jobs" --target $fuzz_targets $(echo "$fuzz_targets" | sed 's/^fuzz_/fuzz_replay_/')
  ctest --preset fuzz -j "$jobs" --timeout 300
fi
