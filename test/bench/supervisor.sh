#!/usr/bin/env bash
# Benchmark: `fusejail run -- /bin/true` warm and cold, side by side with `node -e 0` (the floor of
# any Node CLI) and bwrap; then 100 containers with an idle shell each: the memory fusejail adds per
# container (PSS), the time to start and to remove them all, and what is left after. Peers: bwrap, and podman (with runc) on a local busybox image; a missing one is
# skipped. Needs root. Usage: test/bench/supervisor.sh [N] [CONTAINERS]
# BENCH_SMOKE=1: one run each, two containers (see lib.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
N=${1:-20}
C=${2:-100}
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
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
# NOTE: what fusejail runs for the containers: every descendant of the supervisor but the payloads
# themselves (context servers, inits, launchers, pins), and the supervisor's own share.
descendants() { local p; for p in $(pgrep -P "$1"); do echo "$p"; descendants "$p"; done; }
ours=0; servers=0; server_pss=0
for p in $(descendants "$sup"); do
  args=$(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null || true)
  case "$args" in
    *context-server*) servers=$((servers + 1)); server_pss=$((server_pss + $(pss "$p"))); ours=$((ours + $(pss "$p"))) ;;
    *launcher*|"fusejail init"*|*pin*) ours=$((ours + $(pss "$p"))) ;;
  esac
done
sup_pss=$(pss "$sup")
t2=$(date +%s%N)
for i in $(seq "$C"); do "$fj" rm -f "idle$i"; done
t3=$(date +%s%N)
left=$(grep -c "$FUSEJAIL_STATE_DIR" /proc/mounts || true)

printf '\n%d containers, each with an idle shell\n' "$C"
printf '  supervisor                       %8d KiB PSS (%d KiB RSS)\n' "$sup_pss" "$(rss "$sup")"
printf '  context servers                  %8d processes, %d KiB PSS each on average\n' "$servers" "$((servers > 0 ? server_pss / servers : 0))"
printf '  added per container              %8d KiB PSS (servers, inits, launchers, pins, the supervisor share)\n' "$(((ours + sup_pss) / C))"
printf '  time to start all                %8.1f s (%.0f ms each)\n' "$(echo "($t1 - $t0) / 1000000000" | bc -l)" "$(echo "($t1 - $t0) / 1000000 / $C" | bc -l)"
printf '  time to remove all               %8.1f s (%.0f ms each)\n' "$(echo "($t3 - $t2) / 1000000000" | bc -l)" "$(echo "($t3 - $t2) / 1000000 / $C" | bc -l)"
printf '  mounts left after removal        %8d\n' "$left"
echo "(targets: <= 5 MiB added per container; all started in <= 10 s; rm -f <= 50 ms each)"
