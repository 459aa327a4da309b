#!/usr/bin/env bash
# The benchmark suite in one command: configures a Release build in
# build-bench/, builds statusz_bench, runs it with repetitions (random
# interleaving) writing JSON, then prints each target's verdict (check.py)
# and draws the plots (plot.py).
#
# Usage: bench/run.sh [extra statusz_bench arguments, e.g. --benchmark_filter=hot]
# Environment:
#   STATUSZ_BENCH_BUILD        build directory       (default: build-bench)
#   STATUSZ_BENCH_OUT          results directory     (default: build-bench/results)
#   STATUSZ_BENCH_REPETITIONS  repetitions           (default: 20)
#   STATUSZ_BENCH_MIN_TIME     seconds per run       (default: 0.05)
#   STATUSZ_BENCH_WAIT         seconds to wait for an idle machine (default: 120)
#   STATUSZ_JOBS               build parallelism     (default: 2)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${STATUSZ_BENCH_BUILD:-$root/build-bench}"
out="${STATUSZ_BENCH_OUT:-$build/results}"
reps="${STATUSZ_BENCH_REPETITIONS:-20}"
min_time="${STATUSZ_BENCH_MIN_TIME:-0.05}"
jobs="${STATUSZ_JOBS:-2}"

generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DSTATUSZ_BUILD_BENCH=ON -DSTATUSZ_BUILD_TESTS=OFF -DSTATUSZ_BUILD_EXAMPLES=OFF \
  -DSTATUSZ_BUILD_PYTHON=OFF -DSTATUSZ_INSTALL=OFF >/dev/null
cmake --build "$build" -j "$jobs" --target statusz_bench

# Two-thread figures need both cores: wait (up to STATUSZ_BENCH_WAIT seconds)
# until other jobs leave at least 1.6 of the machine's CPUs idle.
wait_s="${STATUSZ_BENCH_WAIT:-120}"
idle() {  # CPUs idle over one second, from /proc/stat
  python3 - <<'PY'
import time
def read():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)
i0, t0 = read(); time.sleep(1); i1, t1 = read()
import os
print(f"{(i1 - i0) / max(t1 - t0, 1) * os.cpu_count():.2f}")
PY
}
for ((waited = 0; ; waited += 1)); do
  free_cpus="$(idle)"
  if python3 -c "import sys; sys.exit(0 if $free_cpus >= 1.6 else 1)"; then break; fi
  if ((waited >= wait_s)); then
    echo "run.sh: machine still busy ($free_cpus CPUs idle); running anyway," \
      "2-thread figures may come out 'busy' (see check.py)" >&2
    break
  fi
  ((waited % 15 == 0)) && echo "run.sh: waiting for a quiet machine ($free_cpus CPUs idle)"
done

mkdir -p "$out"
"$build/bench/statusz_bench" \
  --benchmark_repetitions="$reps" \
  --benchmark_min_time="$min_time" \
  --benchmark_enable_random_interleaving=true \
  --benchmark_display_aggregates_only=true \
  --benchmark_out="$out/results.json" \
  --benchmark_out_format=json \
  "$@"

echo
# (With a --benchmark_filter the targets cannot all be checked: check.py
# says which result is missing, and the plots are still drawn.)
python3 "$root/bench/check.py" "$out/results.json" | tee "$out/check.txt" || true
python3 "$root/bench/check.py" "$out/results.json" --markdown > "$out/results.md" || true

if ! python3 -c "import matplotlib" 2>/dev/null; then
  echo "run.sh: installing matplotlib for the plots (pip)"
  python3 -m pip install --quiet matplotlib || true
fi
if python3 -c "import matplotlib" 2>/dev/null; then
  python3 "$root/bench/plot.py" "$out/results.json" -o "$out"
else
  echo "run.sh: matplotlib unavailable, no plots" >&2
fi
echo "results: $out/results.json, $out/check.txt, $out/results.md, $out/*.png"
