#!/usr/bin/env bash
# The GPU check of issue 17: on a machine with an NVIDIA GPU, no network, and an image holding JAX
# with CUDA, optax, xarray, numba, tqdm, scipy, matplotlib, pytest and hypothesis, run
#
#   1. the device's description (jax.devices(), memory, versions; nvidia-smi if present);
#   2. the whole Figure-2 `paper` preset (`lora-sweep figure2 --preset paper`), timed end to end;
#   3. the benchmark (`python -m benchmarks.run`, widths 2^10 and 2^13);
#   4. the GPU-relevant tests on the GPU backend: models, training, the fast path's XLA fallback
#      (the CPU-kernel tests are deselected: on a GPU the kernel is never used);
#   5. OPTIONAL: `lora-sweep edge --preset paper`, only if that subcommand exists;
#
# each under its own timeout, and write ONE JSON record (device_check.json: device, wall times,
# run-steps/s, ratios to the CPU figures of docs/performance.md, peak GPU memory per step) plus a
# log per step into $OUT (default ./device-check-out).
#
# Usage, from the repository root:   OUT=/some/dir bash benchmarks/device_check.sh
# Dry run on CPU (tiny settings):     DEVICE_CHECK_PLATFORM=cpu OUT=/tmp/dc bash benchmarks/device_check.sh
#
# The project is not installed: PYTHONPATH points at this checkout and nothing is downloaded (the
# image's packages are used as they are). Sized for at most DEVICE_CHECK_BUDGET_S seconds (default
# 540) in all: each step's timeout is cut to what is left, and a step that cannot get 30 s is
# skipped (recorded as such). A failing step does not stop the others. Exit code: 0 when every step
# that ran passed, 1 otherwise.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$PWD/device-check-out}
PLATFORM=${DEVICE_CHECK_PLATFORM:-cuda}
BUDGET_S=${DEVICE_CHECK_BUDGET_S:-540}
PYTHON=${PYTHON:-python3}

mkdir -p "$OUT/logs" "$OUT/steps"
cd "$REPO" || exit 1
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"
export JAX_PLATFORMS="$PLATFORM"
export LORA_TEST_PLATFORM="$PLATFORM"  # tests/conftest.py: the backend the tests run on
export PYTHONDONTWRITEBYTECODE=1
export MPLBACKEND=Agg

TEST_FILES=(tests/test_models.py tests/test_train.py tests/test_fastpath.py)
if [ "$PLATFORM" = cpu ]; then
    # Dry run: the same steps on tiny settings, to check the script's plumbing without a GPU.
    FIGURE2_ARGS=(figure2 --preset quick --widths 32,64 --seeds 0 --steps 10)
    EDGE_ARGS=(edge --preset quick)
    BENCH_ARGS=(--smoke --quiet)
    PYTEST_ARGS=(tests/test_models.py -q -p no:cacheprovider -k "not cpu")
    T_FIGURE2=120 T_BENCH=120 T_TESTS=120 T_EDGE=60
else
    FIGURE2_ARGS=(figure2 --preset paper)
    EDGE_ARGS=(edge --preset paper)
    BENCH_ARGS=(--quiet)
    PYTEST_ARGS=("${TEST_FILES[@]}" -q -p no:cacheprovider -k "not cpu" --maxfail=10)
    T_FIGURE2=200 T_BENCH=200 T_TESTS=150 T_EDGE=120
fi

START=$(date +%s)
FAILED=0

left() { echo $((BUDGET_S - ($(date +%s) - START))); }

# step NAME TIMEOUT_S KIND ARGS... : run one step in its own process, log it, record rc and wall.
step() {
    local name=$1 limit=$2 kind=$3
    shift 3
    local remaining
    remaining=$(($(left) - 15))  # keep 15 s for the summary
    if [ "$remaining" -lt 30 ]; then
        echo "[device_check] $name: skipped (budget spent)"
        printf '{"name": "%s", "rc": null, "wall_s": null, "skipped": "budget"}\n' "$name" \
            >"$OUT/steps/$name.shell.json"
        return 0
    fi
    [ "$limit" -gt "$remaining" ] && limit=$remaining
    echo "[device_check] $name: timeout ${limit}s, log $OUT/logs/$name.log"
    local t0 t1 rc
    t0=$(date +%s.%N)
    timeout -k 10 "$limit" "$PYTHON" -m benchmarks.device_check run "$name" "$OUT" "$kind" "$@" \
        >"$OUT/logs/$name.log" 2>&1
    rc=$?
    t1=$(date +%s.%N)
    local wall
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    local timed_out=false
    if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then timed_out=true; fi
    printf '{"name": "%s", "rc": %d, "wall_s": %s, "timeout_s": %d, "timed_out": %s}\n' \
        "$name" "$rc" "$wall" "$limit" "$timed_out" >"$OUT/steps/$name.shell.json"
    echo "[device_check] $name: rc $rc, ${wall}s"
    [ "$rc" -eq 0 ] || FAILED=1
}

echo "[device_check] platform $PLATFORM, budget ${BUDGET_S}s, out $OUT"
if command -v nvidia-smi >/dev/null 2>&1; then
    timeout 20 nvidia-smi >"$OUT/logs/nvidia-smi.log" 2>&1
fi
if ! timeout 120 "$PYTHON" -m benchmarks.device_check info "$OUT" >"$OUT/logs/info.log" 2>&1; then
    echo "[device_check] JAX cannot start on platform $PLATFORM: see $OUT/logs/info.log"
    FAILED=1
else
    step figure2_paper "$T_FIGURE2" sweep "${FIGURE2_ARGS[@]}" --out "$OUT/figure2.nc" --quiet --json
    step benchmark "$T_BENCH" bench "${BENCH_ARGS[@]}" --json "$OUT/bench.json"
    step tests "$T_TESTS" pytest "${PYTEST_ARGS[@]}"
    # OPTIONAL (issue 17): the stability-edge preset, once someone adds `lora-sweep edge`.
    if "$PYTHON" -m benchmarks.device_check has-subcommand edge >/dev/null 2>&1; then
        step edge_paper "$T_EDGE" sweep "${EDGE_ARGS[@]}" --out "$OUT/edge.nc" --quiet --json
    else
        echo "[device_check] edge_paper: skipped (no 'lora-sweep edge' subcommand)"
        printf '{"name": "edge_paper", "rc": null, "wall_s": null, "skipped": "no subcommand"}\n' \
            >"$OUT/steps/edge_paper.shell.json"
    fi
fi
"$PYTHON" -m benchmarks.device_check summarize "$OUT" >"$OUT/logs/summary.log" 2>&1 || FAILED=1
echo "[device_check] done in $(($(date +%s) - START))s: $OUT/device_check.json"
exit "$FAILED"
