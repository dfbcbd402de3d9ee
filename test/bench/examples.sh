#!/usr/bin/env bash
# Benchmark: examples/jailed-build.json (write, compile and run a C program) side by side: on the
# host, in bwrap with the same view (/usr read-only, /work and /tmp in memory), and in fusejail.
# Where the time goes: gcc reading its toolchain through the FUSE root. Needs root.
# Usage: test/bench/examples.sh [N]. BENCH_SMOKE=1: one run each (see lib.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
N=${1:-5}
smoke && N=1
export FUSEJAIL_STATE_DIR=$(mktemp -d /tmp/fusejail-bench-ex-XXXX)
chmod 700 "$FUSEJAIL_STATE_DIR"
work=$(mktemp -d /tmp/fusejail-bench-work-XXXX)
fj="$repo/bin/fusejail"
cleanup() { "$fj" daemon --stop >/dev/null 2>&1 || true; rm -rf "$FUSEJAIL_STATE_DIR" "$work"; }
trap cleanup EXIT
need_root

# The example's own command, so all three do the same work.
script=$(node -e 'process.stdout.write(require(process.argv[1]).command[2])' "$repo/examples/jailed-build.json")

echo "bench: $N runs each" >&2
host_ms=$(ms_per sh -c "cd $work && $script")
bwrap_ms=""
have bwrap && bwrap_ms=$(ms_per bwrap --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
  --ro-bind /etc/ld.so.cache /etc/ld.so.cache --dev /dev --proc /proc --tmpfs /tmp --tmpfs /work --chdir /work \
  --unshare-pid --unshare-uts /bin/sh -c "$script")
fj_ms=$(ms_per "$fj" run -f "$repo/examples/jailed-build.json")

printf '\n%-52s %8s %10s\n' "examples/jailed-build.json: write, gcc, run" "ms" "ratio"
printf '%-52s %8.1f %10.2f\n' "on the host" "$host_ms" 1
printf '%-52s %8s %10s\n' "bwrap, the same view" "$(cell "$bwrap_ms" %.1f)" "$(cell "$(ratio "$bwrap_ms" "$host_ms")")"
printf '%-52s %8.1f %10.2f\n' "fusejail run -f examples/jailed-build.json" "$fj_ms" "$(echo "$fj_ms / $host_ms" | bc -l)"
