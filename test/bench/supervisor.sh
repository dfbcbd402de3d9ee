#!/usr/bin/env bash
# Benchmark: `fusejail run -- /bin/true` warm and cold, side by side with `node -e 0` (the floor of
# any Node CLI) and bwrap; then 50 containers with an idle shell each: memory, time to start and
# to remove them. Needs root. Usage: test/bench/supervisor.sh [N] [CONTAINERS]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-20}
C=${2:-50}
export FUSEJAIL_STATE_DIR=$(mktemp -d /tmp/fusejail-bench-sup-XXXX)
chmod 700 "$FUSEJAIL_STATE_DIR"
fj="$repo/bin/fusejail"
cleanup() { "$fj" daemon --stop >/dev/null 2>&1 || true; rm -rf "$FUSEJAIL_STATE_DIR"; }
trap cleanup EXIT
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

echo "bench: $N runs each" >&2
node_ms=$(ms_per node -e 0)
fj_ms=$(ms_per "$fj" run -- /bin/true)
bwrap_ms=$(ms_per bwrap --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --unshare-pid --unshare-uts /bin/true)
"$fj" daemon --stop >/dev/null
t0=$(date +%s%N); "$fj" run -- /bin/true; t1=$(date +%s%N)
cold_ms=$(echo "scale=1; ($t1 - $t0) / 1000000" | bc)

printf '\n%-52s %8s %10s\n' "run of /bin/true" "ms" "ratio"
printf '%-52s %8.1f %10.2f\n' "node -e 0 (the floor of any Node CLI)" "$node_ms" 1
printf '%-52s %8.1f %10.2f\n' "fusejail run -- /bin/true (warm supervisor)" "$fj_ms" "$(echo "$fj_ms / $node_ms" | bc -l)"
printf '%-52s %8.1f %10.2f\n' "bwrap (PID+UTS namespaces, /usr, proc, dev)" "$bwrap_ms" "$(echo "$bwrap_ms / $node_ms" | bc -l)"
printf '%-52s %8.1f\n' "fusejail run -- /bin/true, cold (supervisor start)" "$cold_ms"
echo "(targets: warm <= 1.3x node -e 0; cold <= 400 ms)"

echo "bench: starting $C containers with an idle shell" >&2
t0=$(date +%s%N)
for i in $(seq "$C"); do "$fj" run -d --name "idle$i" -- sh >/dev/null; done
t1=$(date +%s%N)
sup=$(cat "$FUSEJAIL_STATE_DIR/supervisor.pid")
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
# NOTE: servers start as spares, so their command line does not name the state directory.
servers=$("$fj" resources --json | grep -o '"serverPid": [0-9]*' | grep -o '[0-9]*$' || true)
total=0; n=0
for p in $servers; do total=$((total + $(rss "$p"))); n=$((n + 1)); done
t2=$(date +%s%N)
for i in $(seq "$C"); do "$fj" rm -f "idle$i"; done
t3=$(date +%s%N)
left=$(grep -c "$FUSEJAIL_STATE_DIR" /proc/mounts || true)

printf '\n%d containers, each with an idle shell\n' "$C"
printf '  supervisor RSS                   %8d KiB\n' "$(rss "$sup")"
printf '  FUSE servers                     %8d processes, %d KiB RSS in all, %d KiB each on average\n' "$n" "$total" "$((n > 0 ? total / n : 0))"
printf '  time to start all                %8.1f s (%.0f ms each)\n' "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$(echo "($t1 - $t0) / 1000000 / $C" | bc -l)"
printf '  time to remove all               %8.1f s (%.0f ms each)\n' "$(echo "($t3 - $t2) / 1000000000" | bc -l)" "$(echo "($t3 - $t2) / 1000000 / $C" | bc -l)"
printf '  mounts left after removal        %8d\n' "$left"
