#!/bin/sh
# Fails when the executable $1 loads a library a control-socket client has no use for: DPDK
# (librte_*), OpenSSL (libssl, libcrypto) or jemalloc. ldd lists what the loader brings in,
# indirect dependencies included; without ldd, readelf's NEEDED entries (direct ones) do.
#
#   sh check_linkage.sh build/bin/regfront-cli
set -u
bin=${1:?usage: check_linkage.sh EXECUTABLE}
[ -x "$bin" ] || { echo "not an executable: $bin" >&2; exit 2; }
if command -v ldd >/dev/null 2>&1; then
  libs=$(ldd "$bin") || { echo "ldd failed on $bin" >&2; exit 2; }
else
  libs=$(readelf -d "$bin" | grep '(NEEDED)') || { echo "readelf failed on $bin" >&2; exit 2; }
fi
bad=$(printf '%s\n' "$libs" | grep -E 'librte_|libssl|libcrypto|libjemalloc')
if [ -n "$bad" ]; then
  echo "$bin must not load:" >&2
  printf '%s\n' "$bad" >&2
  exit 1
fi
printf '%s\n' "$libs"
