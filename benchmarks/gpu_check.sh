#!/usr/bin/env bash
# The GPU check of the MD engine in one run (issue 17), sized for a short
# loan of one GPU: the CUDA tests, then MD throughput of the demo interface
# and of the paper's 3070-atom example cell with each CG preconditioner
# (the per-geometry long-range one and auto, the reference Hessian kept
# along the trajectory), batched sweeps (1 and 4 runs together), then the
# charge-solve scaling. Every table goes to
# $OUT (default /tmp/gpu_check) and to stdout.
#
# Run from the repository root, with a Python that has constpot's
# dependencies (torch with CUDA), after `make run` (or carry its files):
#
#   bash benchmarks/gpu_check.sh [MODEL.nequip.zip] [DEMO_INTERFACE.extxyz]
#
# DEVICE=cpu STEPS=5 runs the same script on the CPU (a smoke test).
set -euo pipefail

OUT=${OUT:-/tmp/gpu_check}
PY=${PY:-python}
DEVICE=${DEVICE:-cuda}
STEPS=${STEPS:-100}
MODEL=${1:-results/train/models/0/model.nequip.zip}
DEMO=${2:-results/build/mosaic_amorphous/interface.extxyz}
export PYTHONPATH="${PWD}/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT"

step() { echo "== $* ($(date -u +%H:%M:%S))"; }

step "device"
if [ "$DEVICE" = cuda ]; then
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv |
        tee "$OUT/device.txt"
fi
"$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)" |
    tee -a "$OUT/device.txt"

if [ "$DEVICE" = cuda ]; then
    step "CUDA tests (pytest -m cuda)"
    "$PY" -m pytest -m cuda -q -p no:cacheprovider tests 2>&1 |
        tail -n 15 | tee "$OUT/cuda_tests.txt"
fi

models=()
[ -f "$MODEL" ] && models=(--model "$MODEL")
cells=(example)
[ -f "$DEMO" ] && cells=(demo example)
for pc in longrange auto; do
    step "MD throughput, preconditioner $pc"
    "$PY" benchmarks/md_throughput.py --device "$DEVICE" --steps "$STEPS" \
        --cells "${cells[@]}" --demo "$DEMO" "${models[@]}" \
        --predictors aspc:2 --preconditioner "$pc" 2>&1 |
        tee "$OUT/md_throughput_$pc.txt"
done

step "MD throughput, example cell, auto, CG residual read every 4 iterations"
"$PY" benchmarks/md_throughput.py --device "$DEVICE" --steps "$STEPS" \
    --cells example "${models[@]}" --predictors aspc:2 --check-every 4 2>&1 |
    tee "$OUT/md_throughput_check4.txt"

for cell in "${cells[@]}"; do
    step "batched sweep, $cell: 1 and 4 runs together"
    "$PY" benchmarks/md_batch.py --device "$DEVICE" --cell "$cell" \
        --demo "$DEMO" --sizes 1 4 --steps "$STEPS" "${models[@]}" 2>&1 |
        tee "$OUT/md_batch_$cell.txt"
done

step "charge-solve scaling"
sizes=${SIZES:-3070,6140,12280,15350}
"$PY" benchmarks/qeq_scaling.py --device "$DEVICE" --sizes "$sizes" \
    --max-dense 6200 --repeat 2 2>&1 | tee "$OUT/qeq_scaling.txt"
step "done"
