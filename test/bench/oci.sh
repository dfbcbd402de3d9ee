#!/usr/bin/env bash
# Benchmark: `podman run --rm IMAGE true` with each OCI runtime (fusejail, crun, runc), side by side:
# the runs interleaved round by round (so a drift of the machine's speed hits all alike), then each
# runtime's median and its ratio to runc's. The target (issue 13): fusejail no slower than runc.
# A runtime that cannot run here is printed as unavailable, with why. Needs root.
# Usage: test/bench/oci.sh [N]     BENCH_SMOKE=1: one run each (see lib.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
N=${1:-20}
smoke && N=1
need_root
have podman || { echo "bench: podman is needed (make bench-deps)" >&2; exit 1; }

work=$(mktemp -d /tmp/fusejail-bench-oci-XXXX)
chmod 755 "$work"
export FUSEJAIL_STATE_DIR=$work/fusejail-state
mkdir -m 700 "$FUSEJAIL_STATE_DIR"
# NOTE: private storage (vfs: no mount per container), cgroupfs and file events (no systemd here),
# no network (no CNI set-up): what is measured is podman, conmon and the runtime.
# NOTE: podman passes the runtime's `create` (through conmon) only the environment containers.conf
# names; this file is read instead of /etc/containers/containers.conf (so it keeps its rlimits).
export CONTAINERS_CONF=$work/containers.conf
printf '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n[engine]\nconmon_env_vars = ["FUSEJAIL_STATE_DIR=%s"]\n' "$FUSEJAIL_STATE_DIR" > "$CONTAINERS_CONF"
podman=(podman --root "$work/storage" --runroot "$work/run" --tmpdir "$work/tmp" --storage-driver vfs --cgroup-manager cgroupfs --events-backend file)
cleanup() {
  "${podman[@]}" rm --all --force --time 0 >/dev/null 2>&1 || true
  [ -e "$FUSEJAIL_STATE_DIR/supervisor.pid" ] && env -u NODE_OPTIONS "$repo/bin/fusejail" daemon --stop --force >/dev/null 2>&1 || true
  grep -o " $work/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

IMAGE=localhost/fusejail-bench-oci
mkdir -p "$work/rootfs/bin"
cp /bin/busybox "$work/rootfs/bin/"
ln -s busybox "$work/rootfs/bin/true"
tar -C "$work/rootfs" -cf - . | "${podman[@]}" import --quiet - "$IMAGE" >/dev/null

declare -A path=([runc]=/usr/sbin/runc [crun]=/usr/bin/crun [fusejail]=$repo/bin/fusejail)
order=(fusejail crun runc)
declare -A why=()
usable=()
for rt in "${order[@]}"; do
  if [ ! -x "${path[$rt]}" ]; then why[$rt]="${path[$rt]} is not installed"; continue; fi
  if [ "$rt" = fusejail ] && ! env -u NODE_OPTIONS "${path[$rt]}" features >/dev/null 2>&1; then
    why[$rt]="needs the OCI runtime (native-bindings/oci): bin/fusejail features fails"; continue
  fi
  # NOTE: one unmeasured run each, which also tells whether the runtime works on this host at all.
  if ! out=$("${podman[@]}" --runtime "${path[$rt]}" run --rm --network none "$IMAGE" true 2>&1); then
    why[$rt]=$(echo "$out" | tail -n1 | sed 's/^Error: //' | cut -c1-110); continue
  fi
  usable+=("$rt")
done

echo "bench: $N rounds of podman run --rm $IMAGE true, runtimes interleaved" >&2
declare -A times=()
for _ in $(seq "$N"); do
  for rt in "${usable[@]}"; do
    t0=$(date +%s%N)
    "${podman[@]}" --runtime "${path[$rt]}" run --rm --network none "$IMAGE" true >/dev/null 2>&1 || { echo "bench: $rt failed" >&2; exit 1; }
    t1=$(date +%s%N)
    times[$rt]+="$(( (t1 - t0) / 1000 )) "
  done
done

# median MICROSECONDS...: the median, in milliseconds.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.1f", m / 1000 }'; }
declare -A med=()
for rt in "${usable[@]}"; do
  # shellcheck disable=SC2086
  med[$rt]=$(median ${times[$rt]})
done

printf '\n%-40s %10s %14s\n' "podman run --rm IMAGE true, by runtime" "median ms" "ratio to runc"
for rt in "${order[@]}"; do
  if [ -n "${med[$rt]:-}" ]; then
    printf '%-40s %10s %14s\n' "$rt" "${med[$rt]}" "$(cell "$(ratio "${med[$rt]}" "${med[runc]:-}")")"
  else
    printf '%-40s %s\n' "$rt" "unavailable: ${why[$rt]}"
  fi
done
echo "(target: fusejail no slower than runc; $N runs each)"
