#!/usr/bin/env bash
# Benchmark: time from spawn to the payload's exec of /bin/true in fresh namespaces with a FUSE
# root, for the fusejail launcher, bubblewrap and unshare(1), side by side in one run.
# Prints milliseconds per launch and the ratio to bwrap. Needs root. Usage: test/bench/launch.sh [N]
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-200}
work=$(mktemp -d /tmp/fusejail-bench-launch-XXXX)
chmod 755 "$work"
mkdir "$work/root"
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill -INT "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  fusermount -uz "$work/root" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }
command -v bwrap >/dev/null || { echo "bench: bwrap is missing (make bench-deps)" >&2; exit 1; }

cat > "$work/config.json" <<'EOF'
{ "hostname": null, "layout": [
  { "type": "mount", "source": "/usr", "target": "/usr", "fs_type": "bind", "read_only": true },
  { "type": "symlink", "path": "/bin", "target": "usr/bin" },
  { "type": "symlink", "path": "/lib", "target": "usr/lib" },
  { "type": "symlink", "path": "/lib64", "target": "usr/lib64" },
  { "type": "directory", "target": "/dev", "mode": "0755" },
  { "type": "mount", "target": "/proc", "fs_type": "ProcFS" } ] }
EOF
"$repo/bin/fusejail" serve -f "$work/config.json" "$work/root" 2>"$work/serve.log" &
serve_pid=$!
for _ in $(seq 100); do grep -q serving "$work/serve.log" && break; sleep 0.1; done

# A process list to join (as every fusejail launch does), and a new UTS and mount namespace each time.
coproc INIT { "$repo/build/native/launcher" init; }
read -r init_line <&"${INIT[0]}"
init_pid=$(echo "$init_line" | sed 's/[^0-9]//g')
export FUSEJAIL_PLAN="{\"argv\":[\"/bin/true\"],\"env\":[],\"cwd\":\"/\",\"root\":\"$work/root\",\"pidns\":\"/proc/$init_pid/ns/pid\",\"utsns\":null,\"hostname\":\"bench\",\"proc\":true,\"dev\":true,\"jail\":true,\"tty\":false,\"user\":{\"uid\":0,\"gid\":0,\"groups\":[]},\"sync\":\"$work/none.sock\"}"

# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

echo "bench: $N launches each of /bin/true" >&2
fj=$(ms_per "$repo/build/native/launcher" launch)
bw=$(ms_per bwrap --unshare-pid --unshare-uts --hostname bench --bind "$work/root" / --proc /proc --dev /dev /bin/true)
us=$(ms_per unshare --fork --pid --mount --uts --mount-proc /bin/true)
exec {INIT[1]}>&-

printf '\n%-48s %8s %12s\n' "launch of /bin/true (PID+UTS+mount namespaces)" "ms" "ratio to bwrap"
printf '%-48s %8.2f %12.2f\n' "fusejail launcher (FUSE root, proc, dev, jail)" "$fj" "$(echo "$fj / $bw" | bc -l)"
printf '%-48s %8.2f %12.2f\n' "bwrap (same FUSE root, proc, dev)" "$bw" 1
printf '%-48s %8.2f %12.2f\n' "unshare --fork --pid --mount --uts --mount-proc" "$us" "$(echo "$us / $bw" | bc -l)"
echo "(ratio = time / bwrap's time; the issue's target for fusejail is <= 2)"
