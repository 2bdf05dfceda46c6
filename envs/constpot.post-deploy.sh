#!/usr/bin/env bash
# Post-deployment script of envs/constpot.yaml: Snakemake runs it (with
# `--sdm conda`) inside the freshly created environment, from the workflow's
# working directory, after the pinned dependencies are installed. It installs
# constpot itself, editable, from the repository that holds that directory,
# and records the SHA-256 of the repository's requirements.lock in the
# environment, where constpot.provenance reads it for every summary.json.
#
# By hand, after `conda env create -f envs/constpot.yaml -n constpot`:
#   conda run -n constpot bash envs/constpot.post-deploy.sh
set -euo pipefail

# The repository root: the nearest directory, from here upwards, whose
# pyproject.toml names the constpot project (works for `--directory .test`).
root=$PWD
until grep -qs '^name = "constpot"$' "$root/pyproject.toml"; do
    if [ "$root" = / ]; then
        echo "constpot.post-deploy.sh: no constpot pyproject.toml in $PWD or above" >&2
        exit 1
    fi
    root=$(dirname "$root")
done

python -m pip install --no-deps --no-build-isolation -e "$root"
prefix=$(python -c 'import sys; print(sys.prefix)')
(cd "$root" && sha256sum requirements.lock) > "$prefix/constpot-lock.sha256"
