#!/usr/bin/env bash
# Benchmark: native vs fusejail bind mounts (read-write, and read-only) vs bindfs and fuse-overlayfs,
# side by side in one run.
# Prints seconds per operation and the ratio to native (native time / time: 1.00 = as fast).
# Needs root (drop_caches, mounts). Usage: test/bench/fuse.sh [WORKDIR]
# BENCH_SMOKE=1: 100 small files, a 1 MiB file, each measurement once, in a directory removed after.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
FILES=${FILES:-50000}
BIG_MIB=${BIG_MIB:-1024}
EXECS=200
TRIES=3
if smoke; then FILES=100 BIG_MIB=1 EXECS=2 TRIES=1; work=${1:-$(mktemp -d /tmp/fusejail-bench-fuse-XXXX)}; else work=${1:-/var/tmp/fusejail-bench}; fi
src=$work/src

need_root
use_bindfs=0
have bindfs && use_bindfs=1
use_overlay=0
have fuse-overlayfs && use_overlay=1

mkdir -p "$src" "$work/fj" "$work/bindfs" "$work/overlay"
fj_pid=""
cleanup() {
  [ -n "$fj_pid" ] && kill -INT "$fj_pid" 2>/dev/null && wait "$fj_pid" 2>/dev/null || true
  for m in bindfs overlay fj; do fusermount3 -uz "$work/$m" 2>/dev/null || true; done
  rm -rf "$work/upper" "$work/ovl-work"
  if smoke; then rm -rf "$work"; fi
}
trap cleanup EXIT

# --- data: one big file, a tree of small files, a binary -------------------------------------
if [ ! -f "$src/big" ] || [ "$(stat -c %s "$src/big")" != $((BIG_MIB * 1048576)) ]; then
  echo "bench: writing ${BIG_MIB} MiB test file" >&2
  head -c $((BIG_MIB * 1048576)) /dev/urandom > "$src/big"
fi
if [ ! -f "$src/tree/.complete-$FILES" ]; then
  echo "bench: creating $FILES small files" >&2
  rm -rf "$src/tree"
  python3 - "$src/tree" "$FILES" <<'EOF'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
per_dir = 100
for i in range(n):
    d = os.path.join(root, f"d{i // (per_dir * per_dir)}", f"e{(i // per_dir) % per_dir}")
    if i % per_dir == 0:
        os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"f{i}.txt"), "w") as f:
        f.write("x" * (100 + i % 900))
open(os.path.join(root, f".complete-{n}"), "w").close()
EOF
fi
cp /bin/true "$src/true"

# --- mounts ----------------------------------------------------------------------------------
# NOTE: one served root, the same source twice: /b read-write (a workspace), /r read-only (as a
# container's /usr): the context server passes big files through only where nothing else can write.
cat > "$work/config.json" <<EOF
{ "jail": true, "pid-isolation": true, "hostname": null, "layout": [
  { "type": "mount", "source": "$src", "target": "/b", "fs_type": "bind" },
  { "type": "mount", "source": "$src", "target": "/r", "fs_type": "bind", "read_only": true } ] }
EOF
mountpoint -q "$work/fj" && fusermount -uz "$work/fj"
"$repo/bin/fusejail" serve -f "$work/config.json" "$work/fj" 2>"$work/serve.log" &
fj_pid=$!
for _ in $(seq 100); do grep -q serving "$work/serve.log" && break; sleep 0.1; done
declare -A dirs=([native]="$src" [fusejail]="$work/fj/b" [fusejail-ro]="$work/fj/r" [bindfs]="$work/bindfs" [overlay]="$work/overlay")
order=(native fusejail fusejail-ro)
if [ "$use_bindfs" = 1 ]; then
  mountpoint -q "$work/bindfs" && fusermount3 -uz "$work/bindfs"
  bindfs -o allow_other "$src" "$work/bindfs"
  order+=(bindfs)
fi
if [ "$use_overlay" = 1 ]; then
  mountpoint -q "$work/overlay" && fusermount3 -uz "$work/overlay"
  rm -rf "$work/upper" "$work/ovl-work" && mkdir -p "$work/upper" "$work/ovl-work"
  fuse-overlayfs -o "lowerdir=$src,upperdir=$work/upper,workdir=$work/ovl-work,allow_other" "$work/overlay"
  order+=(overlay)
fi

# NOTE: a smoke run does not drop the whole machine's page cache for a number that means nothing.
drop() { smoke && return; sync; echo 3 > /proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
# time_it CMD...: seconds taken
time_it() { local t0; t0=$(now); "$@" >/dev/null 2>&1; echo "$(now) - $t0" | bc -l; }

read_big() { dd if="$1/big" of=/dev/null bs=1M status=none; }
write_big() { dd if=/dev/zero of="$1/written" bs=1M count="$BIG_MIB" conv=fsync status=none; }
find_tree() { find "$1/tree" > /dev/null; }
tar_tree() { tar cf - -C "$1" tree | cat > /dev/null; }
exec_n() { local i; for i in $(seq "$EXECS"); do "$1/true"; done; }

declare -A result
bench() { # bench NAME MODE(cold|warm) FUNCTION
  local name=$1 mode=$2 fn=$3 t best
  for k in "${order[@]}"; do
    # NOTE: nothing can be written through a read-only mount.
    [ "$fn" = write_big ] && [ "$k" = fusejail-ro ] && continue
    best=""
    for _ in $(seq "$TRIES"); do
      if [ "$mode" = cold ]; then drop; elif [ "$mode" = warm ]; then $fn "${dirs[$k]}" >/dev/null 2>&1; fi
      t=$(time_it $fn "${dirs[$k]}")
      [ -z "$best" ] || [ "$(echo "$t < $best" | bc -l)" = 1 ] && best=$t
      [ "$fn" = write_big ] && rm -f "$src/written" "$work/upper/written"
    done
    result[$name,$k]=$best
  done
}

echo "bench: measuring (best of $TRIES each)" >&2
bench "read ${BIG_MIB} MiB cold" cold read_big
bench "read ${BIG_MIB} MiB warm" warm read_big
bench "write ${BIG_MIB} MiB + fsync" once write_big
bench "find $FILES files cold" cold find_tree
bench "find $FILES files warm" warm find_tree
bench "tar $FILES files warm" warm tar_tree
bench "$EXECS execs warm" warm exec_n

printf '\n%-28s %9s' operation native
for k in "${order[@]:1}"; do printf ' %11s %6s' "$k" ratio; done
printf '\n'
for name in "read ${BIG_MIB} MiB cold" "read ${BIG_MIB} MiB warm" "write ${BIG_MIB} MiB + fsync" "find $FILES files cold" \
            "find $FILES files warm" "tar $FILES files warm" "$EXECS execs warm"; do
  n=${result[$name,native]}
  printf '%-28s %8.3fs' "$name" "$n"
  for k in "${order[@]:1}"; do
    v=${result[$name,$k]:-}
    printf ' %11s %6s' "$(cell "$v" '%.3fs')" "$(cell "$(ratio "$n" "$v")")"
  done
  printf '\n'
done
echo "(ratio = native time / time; 1.00 is as fast as native)"
