#!/usr/bin/env bash
# Benchmark: `fusejail run -- /bin/true` warm and cold, side by side with `node -e 0` (the floor of
# any Node CLI) and bwrap; then 50 containers with an idle shell each: memory, time to start and
# to remove them. Peers: bwrap, and podman (with runc) on a local busybox image; a missing one is
# skipped. Needs root. Usage: test/bench/supervisor.sh [N] [CONTAINERS]
# BENCH_SMOKE=1: one run each, two containers (see lib.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
N=${1:-20}
C=${2:-50}
smoke && N=1 C=2
export FUSEJAIL_STATE_DIR=$(mktemp -d /tmp/fusejail-bench-sup-XXXX)
chmod 700 "$FUSEJAIL_STATE_DIR"
fj="$repo/bin/fusejail"
cleanup() { "$fj" daemon --stop >/dev/null 2>&1 || true; rm -rf "$FUSEJAIL_STATE_DIR"; }
trap cleanup EXIT
need_root

# podman's image: busybox alone, imported once (podman import of a rootfs tarball).
IMAGE=fusejail-bench-busybox
podman_image() {
  podman image exists "$IMAGE" 2>/dev/null && return 0
  local r; r=$(mktemp -d)
  mkdir -p "$r/bin" && cp /bin/busybox "$r/bin/" && ln -s busybox "$r/bin/true" && ln -s busybox "$r/bin/sh"
  tar -C "$r" -cf - . | podman import - "$IMAGE" >/dev/null
  rm -rf "$r"
}

echo "bench: $N runs each" >&2
node_ms=$(ms_per node -e 0)
fj_ms=$(ms_per "$fj" run -- /bin/true)
bwrap_ms=""
have bwrap && bwrap_ms=$(ms_per bwrap --ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 --proc /proc --dev /dev --unshare-pid --unshare-uts /bin/true)
podman_ms=""
if have podman && podman_image; then podman_ms=$(ms_per podman run --rm --net none "$IMAGE" /bin/true); fi
"$fj" run -d --name bench-exec -- sleep 1000 >/dev/null
exec_ms=$(ms_per "$fj" exec bench-exec -- /bin/true)
ls_ms=$(ms_per "$fj" ls)
"$fj" daemon --stop >/dev/null
t0=$(date +%s%N); "$fj" run -- /bin/true; t1=$(date +%s%N)
cold_ms=$(echo "scale=1; ($t1 - $t0) / 1000000" | bc)

printf '\n%-52s %8s %10s\n' "run of /bin/true" "ms" "ratio"
printf '%-52s %8.1f %10.2f\n' "node -e 0 (the floor of any Node CLI)" "$node_ms" 1
printf '%-52s %8.1f %10.2f\n' "fusejail run -- /bin/true (warm supervisor)" "$fj_ms" "$(echo "$fj_ms / $node_ms" | bc -l)"
printf '%-52s %8s %10s\n' "bwrap (PID+UTS namespaces, /usr, proc, dev)" "$(cell "$bwrap_ms" %.1f)" "$(cell "$(ratio "$bwrap_ms" "$node_ms")")"
printf '%-52s %8s %10s\n' "podman run --rm --net none (runc, busybox image)" "$(cell "$podman_ms" %.1f)" "$(cell "$(ratio "$podman_ms" "$node_ms")")"
printf '%-52s %8.1f %10.2f\n' "fusejail exec -- /bin/true (warm)" "$exec_ms" "$(echo "$exec_ms / $node_ms" | bc -l)"
printf '%-52s %8.1f %10.2f\n' "fusejail ls (warm)" "$ls_ms" "$(echo "$ls_ms / $node_ms" | bc -l)"
printf '%-52s %8.1f\n' "fusejail run -- /bin/true, cold (supervisor start)" "$cold_ms"
echo "(targets: warm run <= 1.2x node -e 0 and faster than podman; exec, ls <= 1.15x; cold <= 250 ms)"

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
