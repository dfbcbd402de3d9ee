# Shared by the benchmark scripts (sourced, not run).

# ms_per COMMAND...: mean milliseconds per run over $N runs, after one unmeasured run.
ms_per() {
  local t0 t1
  "$@" >/dev/null 2>&1 || { echo "bench: '$*' failed" >&2; exit 1; }
  t0=$(date +%s%N)
  for _ in $(seq "$N"); do "$@" >/dev/null 2>&1; done
  t1=$(date +%s%N)
  echo "scale=3; ($t1 - $t0) / 1000000 / $N" | bc
}
