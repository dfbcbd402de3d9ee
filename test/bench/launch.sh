#!/usr/bin/env bash
# Benchmark: time from spawn to the payload's exec of /bin/true in fresh namespaces with a FUSE
# root, for the fusejail launcher, bubblewrap and unshare(1), side by side in one run.
# Prints milliseconds per launch and the ratio to bwrap. Needs root. Usage: test/bench/launch.sh [N]
# BENCH_SMOKE=1: one launch each (see lib.sh).
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
N=${1:-200}
smoke && N=1
work=$(mktemp -d /tmp/fusejail-bench-launch-XXXX)
chmod 755 "$work"
mkdir "$work/root"
serve_pid=""
plan_pid=""
cleanup() {
  [ -n "$plan_pid" ] && kill "$plan_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && kill -INT "$serve_pid" 2>/dev/null && wait "$serve_pid" 2>/dev/null || true
  fusermount -uz "$work/root" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

need_root

cat > "$work/config.json" <<'EOF'
{ "jail": true, "pid-isolation": true, "hostname": null, "layout": [
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
# NOTE: the launcher reads its plan from the sync socket (never the environment), as from the supervisor.
cat > "$work/plan.json" <<EOF
{"argv":["/bin/true"],"env":[],"cwd":"/","root":"$work/root","pidns":"/proc/$init_pid/ns/pid","utsns":null,"hostname":"bench","netns":null,"ipcns":null,"new_net":true,"new_ipc":true,"cgroups":[],"mounts":[{"fs":"proc","target":"/proc","read_only":false}],"dev":true,"jail":true,"tty":false,"user":{"uid":0,"gid":0,"groups":[]}}
EOF
python3 "$repo/test/bench/plan-server.py" "$work/sync.sock" "$work/plan.json" >"$work/plan.log" &
plan_pid=$!
for _ in $(seq 100); do grep -q listening "$work/plan.log" && break; sleep 0.05; done
export FUSEJAIL_SYNC=$work/sync.sock

echo "bench: $N launches each of /bin/true" >&2
fj=$(ms_per "$repo/build/native/launcher" launch)
bw=""
have bwrap && bw=$(ms_per bwrap --unshare-pid --unshare-uts --hostname bench --bind "$work/root" / --proc /proc --dev /dev /bin/true)
us=$(ms_per unshare --fork --pid --mount --uts --mount-proc /bin/true)
exec {INIT[1]}>&-

printf '\n%-48s %8s %12s\n' "launch of /bin/true (PID+UTS+mount namespaces)" "ms" "ratio to bwrap"
printf '%-48s %8s %12s\n' "fusejail launcher (FUSE root, proc, dev, jail)" "$(cell "$fj")" "$(cell "$(ratio "$fj" "$bw")")"
printf '%-48s %8s %12s\n' "bwrap (same FUSE root, proc, dev)" "$(cell "$bw")" "$(cell "$(ratio "$bw" "$bw")")"
printf '%-48s %8s %12s\n' "unshare --fork --pid --mount --uts --mount-proc" "$(cell "$us")" "$(cell "$(ratio "$us" "$bw")")"
echo "(ratio = time / bwrap's time; the issue's target for fusejail is <= 2)"
