#!/usr/bin/env bash
# A long libFuzzer run of one target (CI runs each for 20 s only):
#   tests/fuzz/run_long.sh TARGET [SECONDS]      (default 3600; TARGET: sip_message,
#   digest_challenge, net_classify, engine_datagram, config_loader, control_session)
# Builds the fuzz preset (clang) target, then fuzzes with its dictionary, starting from the
# checked-in corpus; new inputs go to build-fuzz/fuzz-long/TARGET (the corpus is never edited:
# copy what is worth keeping by hand); crash, timeout and slow-unit artifacts go next to them
# (build-fuzz/fuzz-long/TARGET-*), never into the tree. Prints libFuzzer's final line (runs,
# coverage, exec/s). A slow unit on a busy machine is usually the machine: re-run the unit alone
# (build-fuzz/fuzz/fuzz_TARGET FILE) before suspecting the code.
set -euo pipefail
cd "$(dirname "$0")/../.."
target=${1:?usage: tests/fuzz/run_long.sh TARGET [SECONDS]}
secs=${2:-3600}
dir=tests/fuzz/$target
[ -d "$dir/corpus" ] || { echo "no fuzz target $target (no $dir/corpus)" >&2; exit 2; }
dict=""
for d in "$dir"/*.dict; do [ -f "$d" ] && dict="-dict=$d"; done
case $target in
  engine_datagram) dict=-dict=tests/fuzz/sip_message/sip.dict ;;
  control_session) dict=-dict=tests/fuzz/config_loader/config.dict ;;
esac
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz --target "fuzz_$target"
scratch=build-fuzz/fuzz-long/$target
mkdir -p "$scratch"
log=$scratch.log
echo "fuzz_$target for $secs s; new inputs in $scratch, log in $log"
set +e
# shellcheck disable=SC2086
build-fuzz/fuzz/fuzz_$target -max_total_time="$secs" -rss_limit_mb=2048 -print_final_stats=1 $dict \
  -artifact_prefix="$scratch-" \
  "$scratch" "$dir/corpus" >"$log" 2>&1
rc=$?
set -e
grep -E '^#[0-9]+.*DONE|^stat::number_of_executed_units|^stat::peak_rss_mb' "$log" || true
grep -E 'ERROR|deadly signal|Test unit written' "$log" || true
exit $rc
