#!/usr/bin/env bash
# Does data from the MD's own regime shrink the model's drift from the reference?
#
# After `make run`: frames 10, 20, 30, 40 of every replica-1 sweep run and the
# last frame of each equilibration (39 frames) are labelled by the demo's
# labeller and added to the last active-learning data set; the MD's model
# (seed 0 of the last iteration) is fine-tuned on it for EPOCHS epochs (the
# demo's retrain_epochs: 30); the constant-charge runs of no_sei and
# mosaic_amorphous are rerun from the same equilibrated starts (replica 0's
# seed and settings) and validated like the workflow's
# (results/validation/drift.csv). README, "Does the MD stay on the
# reference's surface?", quotes the result.
#
#   bash benchmarks/md_regime_data.sh [OUT=/tmp/md_regime] [EPOCHS=30]
#
# About 15 min on one core with EPOCHS=30 (labelling 9 min, training 4 min; 2026-12-08).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
OUT=${1:-/tmp/md_regime}
EPOCHS=${2:-30}
export OMP_NUM_THREADS=1 PATH=$PWD/.venv/bin:$PATH
R=results
AL=$(ls -d $R/active/iter* | tail -1)
mkdir -p "$OUT"
python - "$OUT" <<'EOF'
import glob
import json
import sys

import yaml
from ase.io import read, write

out = sys.argv[1]
keep = ("numbers", "positions", "region", "mol_id", "molecule", "frozen")
frames = []


def tagged(atoms, source, index):
    atoms = atoms.copy()
    atoms.calc = None
    for key in [k for k in atoms.arrays if k not in keep]:
        del atoms.arrays[key]
    atoms.info = {"category": "md_frame", "source": source,
                  "sample_index": len(frames), "total_charge": 0}
    return atoms


for run in sorted(glob.glob("results/md/*/*_r1")):
    traj = read(f"{run}/traj.extxyz", ":")
    name = "/".join(run.split("/")[-2:])
    frames += [tagged(traj[k], name, k) for k in (10, 20, 30, 40)]
for run in sorted(glob.glob("results/md/*/start")):
    traj = read(f"{run}/traj.extxyz", ":")
    frames.append(tagged(traj[-1], "/".join(run.split("/")[-2:]), len(traj) - 1))
write(f"{out}/md_frames.extxyz", frames)
config = yaml.safe_load(open("config/config.yaml"))
json.dump({"label": config["label"]}, open(f"{out}/label.json", "w"))
json.dump({"train": config["train"], "seed": config["seed"]},
          open(f"{out}/train.json", "w"))
# the sweep's runs start from the equilibrated state: no second relaxation
json.dump({"md": {**config["md"], "relax_steps": 0}, "seed": config["seed"]},
          open(f"{out}/md.json", "w"))
print(f"{len(frames)} frames -> {out}/md_frames.extxyz")
EOF
constpot label --config-json "$(cat "$OUT/label.json")" --frames "$OUT/md_frames.extxyz" \
  --shard 0 --n-shards 1 --out "$OUT/md_labels.extxyz" --failures "$OUT/md_failures.csv"
constpot dataset --shards "$AL/dataset.extxyz" "$OUT/md_labels.extxyz" \
  --shard-failures "$AL/failures.csv" "$OUT/md_failures.csv" --out "$OUT/dataset.extxyz" \
  --failures "$OUT/failures.csv" --summary "$OUT/dataset.csv" --figure "$OUT/dataset.png"
constpot split --config-json "$(cat "$OUT/train.json")" --dataset "$OUT/dataset.extxyz" \
  --out "$OUT/split.json"
constpot targets --dataset "$OUT/dataset.extxyz" --qeq-settings $R/train/qeq/paper.json \
  --out "$OUT/targets.extxyz" --settings-out "$OUT/qeq.json"
M=$OUT/m$EPOCHS
constpot train --config-json "{\"train\": {\"device\": \"cpu\", \"max_epochs\": $EPOCHS, \"preset\": \"tiny\"}}" \
  --targets "$OUT/targets.extxyz" --split "$OUT/split.json" --seed 0 \
  --init-checkpoint "$AL/train/models/0/best.ckpt" --run-dir "$M" --threads 1
constpot package --checkpoint "$M/best.ckpt" --qeq-settings "$OUT/qeq.json" --out "$M/model.nequip.zip"
runs=()
for s in no_sei mosaic_amorphous; do
  constpot md --config-json "$(cat "$OUT/md.json")" --structure $R/md/$s/start/traj.extxyz \
    --models "$M/model.nequip.zip" --mode constq --potential=none --replica 0 \
    --outdir "$M/md/$s" --threads 1 --resume auto
  runs+=("$s/constq_none_r0=$M/md/$s/traj.extxyz")
done
constpot validation-frames --runs "${runs[@]}" --out "$M/validation_frames.extxyz"
constpot label --config-json "$(cat "$OUT/label.json")" --frames "$M/validation_frames.extxyz" \
  --shard 0 --n-shards 1 --out "$M/validation_labels.extxyz" --failures "$M/validation_failures.csv"
constpot validation-report --labels "$M/validation_labels.extxyz" --csv "$M/drift.csv"
