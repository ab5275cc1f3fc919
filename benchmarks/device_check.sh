#!/usr/bin/env bash
# The GPU check: on a machine with an NVIDIA GPU, no network, and an image holding JAX with CUDA
# (benchmarks/device_requirements.txt lists what it needs; what the image lacks travels as wheels,
# `make wheelhouse`), run
#
#   0. the prerequisites: Python 3.11+, every required module importable; carried wheels (.whl/)
#      are installed offline for what is missing; anything still missing ends the check with one
#      line naming it (exit 2);
#   1. the device's description (jax.devices(), memory, versions; nvidia-smi if present);
#   2. the whole Figure-2 `paper` preset (`lora-sweep figure2 --preset paper`), timed end to end;
#   3. the benchmark (`python -m benchmarks.run`, widths 2^10 and 2^13);
#   4. the GPU-relevant tests on the GPU backend: every tests/test_core_*.py file in the tree
#      (models, training, optimizers, kernels; the CPU-kernel tests are deselected with -k, since
#      on a GPU the kernel is never used);
#   5. the stability-edge `paper` preset (`lora-sweep edge --preset paper`);
#   6. the wide edge run past the CPU's reach: `lora-sweep edge --preset wide` at widths
#      2^14 … 2^17 (T = 25, 8 seeds, the hidden layer drawn through the Gram matrix; it resumes,
#      so a step cut by its timeout keeps its finished cells);
#   7. the transformer testbed's width check at widths 2^6 … 2^13 (`lora-sweep coordcheck --model
#      toymodels.lab.examples.transformer:factory`, Init[A], η ∝ n^-1/2, 4 seeds, 3 steps);
#
# each under its own timeout, and write ONE JSON record (device_check.json: device, wall times,
# run-steps/s, ratios to the CPU figures of docs/performance.md, peak GPU memory per step) plus a
# log per step into $OUT (default ./device-check-out).
#
# Usage, from the repository root:   OUT=/some/dir bash benchmarks/device_check.sh
# Dry run on CPU (tiny settings):     DEVICE_CHECK_PLATFORM=cpu OUT=/tmp/dc bash benchmarks/device_check.sh
# With the device tool: `make wheelhouse` here, then carry `.whl` and run the line above.
#
# The project is not installed: PYTHONPATH points at this checkout and nothing is downloaded.
# Sized for at most DEVICE_CHECK_BUDGET_S seconds (default 480) in all, so that the check and a
# machine's start fit a 10-minute command with room: each step's timeout is cut to what is left,
# and a step that cannot get 30 s is skipped (recorded as such). A failing step does not stop the
# others. Exit code: 0 when every step that ran passed, 1 when one failed, 2 when a prerequisite
# is missing.
set -u

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$PWD/device-check-out}
PLATFORM=${DEVICE_CHECK_PLATFORM:-cuda}
BUDGET_S=${DEVICE_CHECK_BUDGET_S:-480}
PYTHON=${PYTHON:-python3}
export DEVICE_CHECK_SITE=${DEVICE_CHECK_SITE:-/tmp/device-check-site}

mkdir -p "$OUT/logs" "$OUT/steps"
cd "$REPO" || exit 1
export PYTHONPATH="$REPO:$DEVICE_CHECK_SITE${PYTHONPATH:+:$PYTHONPATH}"
export JAX_PLATFORMS="$PLATFORM"
export LORA_TEST_PLATFORM="$PLATFORM"  # tests/conftest.py: the backend the tests run on
export PYTHONDONTWRITEBYTECODE=1
export MPLBACKEND=Agg

# The test files come from the tree (a renamed file cannot leave the check pointing at nothing).
shopt -s nullglob
TEST_FILES=(tests/test_core_*.py)
shopt -u nullglob
if [ "$PLATFORM" = cpu ]; then
    # Dry run: the same steps on tiny settings, to check the script's plumbing without a GPU.
    FIGURE2_ARGS=(figure2 --preset smoke)
    EDGE_ARGS=(edge --preset smoke)
    WIDE_ARGS=(edge --preset wide --widths 2^5:2^7 --seeds 0:1 --steps 3 --inits A)
    BENCH_ARGS=(--smoke --quiet)
    # Every file is collected (imports and paths checked); one fast test of each kind runs.
    PYTEST_ARGS=("${TEST_FILES[@]}" -q -p no:cacheprovider -n 0
        -k "not cpukernel and (linear_gradients_equal or updates_are_scaled or default_block_divides)")
    TRANSFORMER_ARGS=(--widths 32,64 --seeds 0:1 --steps 1)
    T_FIGURE2=120 T_BENCH=120 T_TESTS=120 T_EDGE=120 T_WIDE=120 T_TRANSFORMER=120
else
    FIGURE2_ARGS=(figure2 --preset paper)
    EDGE_ARGS=(edge --preset paper)
    WIDE_ARGS=(edge --preset wide --widths 2^14:2^17)
    BENCH_ARGS=(--quiet)
    PYTEST_ARGS=("${TEST_FILES[@]}" -q -p no:cacheprovider -n 0 -k "not cpukernel" --maxfail=10)
    TRANSFORMER_ARGS=(--widths 2^6:2^13 --seeds 0:3 --steps 3)
    T_FIGURE2=110 T_BENCH=50 T_TESTS=80 T_EDGE=80 T_WIDE=100 T_TRANSFORMER=60  # 480 s in all
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
if ! command -v timeout >/dev/null 2>&1; then
    echo "device_check: missing coreutils 'timeout'"
    exit 2
fi
if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "device_check: missing $PYTHON (set PYTHON=...)"
    exit 2
fi
if [ ${#TEST_FILES[@]} -eq 0 ]; then
    echo "device_check: no tests/test_core_*.py in $REPO"
    exit 2
fi
if ! timeout 120 "$PYTHON" -m benchmarks.device_check prereqs >"$OUT/logs/prereqs.log" 2>&1; then
    tail -n 1 "$OUT/logs/prereqs.log"
    exit 2
fi
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
    step edge_paper "$T_EDGE" sweep "${EDGE_ARGS[@]}" --out "$OUT/edge.nc" --quiet --json
    step edge_wide "$T_WIDE" sweep "${WIDE_ARGS[@]}" --out "$OUT/edge-wide.nc" --quiet --json
    step transformer "$T_TRANSFORMER" sweep coordcheck \
        --model toymodels.lab.examples.transformer:factory --eta-exponent -1/2 \
        "${TRANSFORMER_ARGS[@]}" --quiet --json --plot "$OUT/transformer_coordcheck.png"
fi
"$PYTHON" -m benchmarks.device_check summarize "$OUT" >"$OUT/logs/summary.log" 2>&1 || FAILED=1
echo "[device_check] done in $(($(date +%s) - START))s: $OUT/device_check.json"
exit "$FAILED"
