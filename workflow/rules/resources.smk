# Cluster resources of the jobs, computed from the config: GPUs from the
# device keys (qeq.device, train.device, md.device), memory (MB) and wall time
# (minutes) from atom counts, frames, steps and presets, both scaled by the
# attempt (`retries` in a profile reruns a failed job with more). The SLURM
# profile (workflow/profiles/slurm) only maps jobs onto a site: account and
# partitions. Short jobs run in the main snakemake process (localrules).
#
# Numbers: the README's benchmarks and the jobs' benchmark.tsv in the .test
# run on SLURM (CPU, 2 cores: every job peaked at 0.3-0.8 GB, MD of ~540
# atoms at 0.55 GB, QEq of 3070 atoms at 0.6-0.8 GB), with margins.

import json
import math
import os
import sys


# Seconds-long jobs: never queued on a cluster.
localrules:
    all,
    qeq_table,
    plot_qeq,
    dataset,
    train_split,
    targets,
    plot_train,
    figures,
    summarise,
    paper_figures,
    qeq_table_variant,
    targets_variant,
    summarise_variant,
    compare_variants,


# Jobs run the `constpot` of the virtualenv whose snakemake runs them, also
# when the virtualenv is not activated (SLURM jobs inherit the submitting
# environment, sbatch --export=ALL, and run this same interpreter).
envvars:
    "PATH",


os.environ["PATH"] = os.pathsep.join(
    [os.path.dirname(sys.executable), os.environ.get("PATH", "")]
)

# Host memory of torch's CUDA context and libraries in a GPU job, MB.
CUDA_HOST_MB = 4000
# Atoms of a system before it is built: the upper end of each build preset
# (constpot.build.recipe: demo ≈ 300–600, paper ≈ 3000–4000 atoms).
PRESET_ATOMS = {"demo": 600, "paper": 4000}
MAX_ATOMS = max(PRESET_ATOMS.values())
# Wall time of one build, minutes (demo: 42 s for the 537-atom mosaic).
BUILD_MINUTES = {"demo": 30, "paper": 240}
# Minutes per labelled frame and memory by labeller kind (xtb: ~3 s a frame).
LABEL_MINUTES_PER_FRAME = {"xtb": 0.5, "teacher": 0.1}
# DFT (GPAW, serial, one core; docs/labels.md): 2-22 min for frames of 16-58
# atoms, 53 min for the paper sample's 72-atom li_bulk frame (3 x 4 x 4
# k-points); its frames hold up to 120 atoms.
LABEL_DFT_MINUTES_PER_FRAME = 180
# Seconds per MD step of n atoms: a + b n, from the README's throughput table
# (H200: 537 atoms 13.7 steps/s, 3070 atoms 5.0 steps/s; CPU, one thread:
# 537 atoms 7.1 steps/s); the relaxation's FIRE steps cost the same.
MD_STEP_S = {"cuda": (0.05, 5.0e-5), "cpu": (0.0, 3.0e-4)}
# Seconds per training frame and epoch by train preset: tiny, measured (80
# epochs of ~110 frames in ~3.5 min, one core); paper, an upper estimate
# (1000 epochs of 128 frames in ~11 h on one GPU).
TRAIN_FRAME_EPOCH_S = {"tiny": 0.03, "paper": 0.3}


def section_config(section, wildcards=None):
    """The config section a job reads: md and train with its variant's overrides."""
    variant = getattr(wildcards, "variant", PAPER)
    if section == "md":
        return variant_md(variant)
    if section == "train":
        return variant_train(variant)
    return config.get(section) or {}


def section_gpus(section, wildcards=None):
    """GPUs of one job of the config section `section` (qeq, train or md).

    1 on `device: cuda`; on `auto`, `gpus` of the section (md.gpus, at most 1:
    a job uses one device); 0 on cpu, so a CPU-only cluster runs every job.
    """
    cfg = section_config(section, wildcards)
    device = cfg.get("device", "auto" if section == "md" else "cpu")
    if device == "cuda":
        return 1
    if device == "auto":
        return min(1, int(cfg.get("gpus", 0)))
    return 0


def job_gpus(section):
    """Resource `gpu` of the jobs of `section` (a function of the job's wildcards)."""
    return lambda wildcards: section_gpus(section, wildcards)


def gpu_note():
    """A line naming the jobs that ask for a GPU and the config keys that decide."""
    stages = {"qeq": "qeq", "train": "train_model and evaluate", "md": "md"}
    asks = [
        f"{jobs} ({section}.device: {config[section].get('device')})"
        for section, jobs in stages.items()
        if config.get(section) and section_gpus(section)
    ]
    if not asks:
        return ""
    return (
        f"GPU jobs: {', '.join(asks)} ask for 1 GPU each; a cluster or partition "
        "without GPUs refuses them (set those devices to cpu to run on CPUs)."
    )


# Said once, by the snakemake that schedules the jobs (not by each job).
if workflow.is_main_process and gpu_note():
    from snakemake.logging import logger

    logger.info(gpu_note())


def _scaled(value, attempt):
    """`value` times the attempt (1, 2, ...), rounded up to an integer."""
    return int(math.ceil(value * attempt))


def host_mb(section, mb, wildcards=None):
    """`mb` plus the CUDA context's host memory when a job of `section` has a GPU."""
    return mb + (CUDA_HOST_MB if section_gpus(section, wildcards) else 0)


def per_attempt(value):
    """A resource of `value` on the first attempt, times the attempt after."""
    return lambda wildcards, attempt: _scaled(value, attempt)


def job_mem_mb(section, mb):
    """Resource `mem_mb`: `mb` (+ the CUDA host memory on a GPU), times the attempt."""
    return lambda wildcards, attempt: _scaled(host_mb(section, mb, wildcards), attempt)


def system_atoms(system, structure=None):
    """Atoms of a built system: interface.json, else the structure, else preset."""
    summary = f"results/build/{system}/interface.json"
    if os.path.exists(summary):
        with open(summary, encoding="utf-8") as fh:
            return int(json.load(fh)["n_atoms"])
    preset = (config["systems"].get(system) or {}).get("preset", "demo")
    return structure_atoms(structure, PRESET_ATOMS.get(preset, MAX_ATOMS))


def structure_atoms(path, default=None):
    """Atoms in a structure file that ASE reads (first frame); `default` if absent."""
    if not path or not os.path.exists(path):
        return MAX_ATOMS if default is None else default
    from ase.io import read

    return len(read(path, index=0))


def build_runtime(wildcards, attempt):
    preset = (config["systems"].get(wildcards.system) or {}).get("preset", "demo")
    minutes = BUILD_MINUTES.get(preset, max(BUILD_MINUTES.values()))
    return _scaled(minutes, attempt)


def build_mem_mb(wildcards, attempt):
    preset = (config["systems"].get(wildcards.system) or {}).get("preset", "demo")
    return _scaled(2000 if preset == "demo" else 4000, attempt)


def label_runtime(wildcards, attempt):
    cfg = config["label"]
    frames = math.ceil(sum(cfg["counts"].values()) / int(cfg["n_shards"]))
    kind = cfg["labeller"].get("kind", "xtb")
    per_frame = LABEL_MINUTES_PER_FRAME.get(kind, LABEL_DFT_MINUTES_PER_FRAME)
    return _scaled(10 + frames * per_frame, attempt)


def label_mem_mb(wildcards, attempt):
    kind = config["label"]["labeller"].get("kind", "xtb")
    return _scaled(2000 if kind in LABEL_MINUTES_PER_FRAME else 8000, attempt)


def validation_mem_mb(wildcards, input, attempt):
    # The teacher labelled the demo's 695-atom crystalline cell in 3.3 GB.
    n_atoms = structure_atoms(input.traj)
    return _scaled(1000 + 5 * n_atoms, attempt)


def validation_runtime(wildcards, input, attempt):
    # Two whole cells per run, each costing as many labelled frames as it
    # holds max_atoms (linear: the teacher; DFT grows faster, and is off).
    cfg = config["label"]
    n_atoms = structure_atoms(input.traj)
    kind = cfg["labeller"].get("kind", "xtb")
    per_frame = LABEL_MINUTES_PER_FRAME.get(kind, LABEL_DFT_MINUTES_PER_FRAME)
    cells = math.ceil(n_atoms / int(cfg.get("max_atoms", MAX_ATOMS)))
    return _scaled(10 + 2 * cells * per_frame, attempt)


def qeq_mem_mb(wildcards, input, attempt):
    # 0.6-0.8 GB peak for the 3070-atom example cell (CG, Ewald, CPU).
    n_atoms = structure_atoms(input.structure)
    return _scaled(host_mb("qeq", 1000 + 0.5 * n_atoms, wildcards), attempt)


def qeq_runtime(wildcards, input, attempt):
    # ~15 s for the 3070-atom example cell on 2 cores.
    n_atoms = structure_atoms(input.structure)
    return _scaled(10 + 5 * math.ceil(n_atoms / 1000), attempt)


def train_runtime(wildcards, attempt):
    """Wall time of one training: max_epochs over the training frames, 1.5x + 15 min.

    A `train.max_minutes` limit, when set, bounds it instead.
    """
    cfg = section_config("train", wildcards)
    if cfg.get("max_minutes"):
        return _scaled(1.25 * cfg["max_minutes"] + 15, attempt)
    preset = cfg.get("preset", "tiny")
    # Imported when a training job is scheduled, not at the top: it loads
    # torch, and most snakemake calls schedule no training.
    from constpot.potential.nequip_config import PRESETS

    epochs = cfg.get("max_epochs", PRESETS.get(preset, {}).get("max_epochs", 1000))
    label = config.get("label") or {}
    fraction = (cfg.get("split") or {}).get("train", 0.8)
    frames = fraction * sum((label.get("counts") or {}).values())
    per_frame = TRAIN_FRAME_EPOCH_S.get(preset, max(TRAIN_FRAME_EPOCH_S.values()))
    return _scaled(15 + math.ceil(1.5 * epochs * frames * per_frame / 60), attempt)


def train_mem_mb(wildcards, attempt):
    return _scaled(host_mb("train", 4000, wildcards), attempt)


def md_runtime(wildcards, input, attempt):
    """Wall time of one MD run: (relax_steps + n_steps) steps, 1.5x, + 10 min."""
    cfg = section_config("md", wildcards)
    steps = int(cfg.get("n_steps", 0)) + int(cfg.get("relax_steps", 0))
    a, b = MD_STEP_S["cuda" if section_gpus("md", wildcards) else "cpu"]
    seconds = steps * (a + b * system_atoms(wildcards.system, input.structure))
    return _scaled(10 + math.ceil(1.5 * seconds / 60), attempt)


def md_mem_mb(wildcards, input, attempt):
    n_atoms = system_atoms(wildcards.system, input.structure)
    return _scaled(host_mb("md", 2000 + 1.0 * n_atoms, wildcards), attempt)


def md_batch_runtime(n_runs):
    """Wall time of a batched MD job of n_runs runs: n_runs times one run's
    (the bound on CPU cores, where the runs share the threads; a GPU does
    better)."""

    def runtime(wildcards, input, attempt):
        one = md_runtime(wildcards, input, attempt)
        return one + (n_runs - 1) * (one - _scaled(10, attempt))

    return runtime


def md_batch_mem_mb(n_runs):
    """Host memory of a batched MD job: one process, the model shared."""

    def mem_mb(wildcards, input, attempt):
        n_atoms = system_atoms(wildcards.system, input.structure)
        return _scaled(host_mb("md", 2000 + 1.0 * n_runs * n_atoms, wildcards), attempt)

    return mem_mb


def traj_mb(wildcards, input):
    """Size of an MD trajectory, MB: the file, else ~150 bytes per atom and frame."""
    if os.path.exists(input.traj):
        return os.path.getsize(input.traj) / 1e6
    cfg = section_config("md", wildcards)
    frames = 1 + int(cfg.get("n_steps", 0)) // int(cfg.get("traj_every", 10))
    return 150e-6 * frames * system_atoms(wildcards.system)


def analysis_mem_mb(wildcards, input, attempt):
    return _scaled(2000 + 4 * traj_mb(wildcards, input), attempt)


def analysis_runtime(wildcards, input, attempt):
    return _scaled(30 + traj_mb(wildcards, input) / 10, attempt)
