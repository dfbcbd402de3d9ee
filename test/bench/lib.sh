# Shared by the benchmark scripts (sourced, not run).

# NOTE: BENCH_SMOKE=1 runs every measurement once at a tiny size: it proves a script still works
# (test/integration/bench/smoke.test.ts runs each so) and its numbers mean nothing.
SMOKE=${BENCH_SMOKE:-0}
smoke() { [ "$SMOKE" = 1 ]; }

# ms_per COMMAND...: mean milliseconds per run over $N runs, after one unmeasured run.
ms_per() {
  local t0 t1
  "$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; exit 1; }
  t0=$(date +%s%N)
  for _ in $(seq "$N"); do "$@" >/dev/null 2>&1; done
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000 / $N" | bc
}

# have PROGRAM: whether a peer is installed; when not, says its column is skipped (never a failure).
have() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "bench: $1 is not installed; its column is skipped (make bench-deps)" >&2
  return 1
}

# cell VALUE [FORMAT]: a number (two decimals unless FORMAT says), or "-" for a peer that was skipped.
cell() { if [ -n "$1" ]; then printf "${2:-%.2f}" "$1"; else printf '%s' -; fi; }

# ratio A B: A / B, or nothing when either is missing.
ratio() { if [ -n "$1" ] && [ -n "$2" ]; then echo "$1 / $2" | bc -l; fi; }

need_root() { [ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 1; }; }
