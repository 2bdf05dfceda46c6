#!/usr/bin/env bash
# End-to-end test of the SLURM profile on a one-node SLURM cluster started here.
#
#   bash tests/slurm/run_slurm.sh [SNAKEMAKE_ARG ...]      (or: make test-slurm)
#
# 1. Installs SLURM and munge when slurmctld, slurmd or munged is missing
#    (Debian packages slurm-wlm and munge, with apt-get; needs root).
# 2. Starts munged, slurmctld and slurmd on this machine from a private
#    configuration in a temporary folder (SLURM_CONF points at it; nothing is
#    written to /etc): one node as `slurmd -C` sees this machine, one
#    partition, select/cons_tres, proctrack/linuxproc, no cgroups, free TCP
#    ports, no accounting database; then a one-line smoke job.
# 3. Copies the repository (tracked and untracked, not ignored files) into
#    the temporary folder and runs the tiny test config through the shipped
#    profile, with the virtualenv's bin/ first on PATH as the README asks:
#      snakemake --configfile .test/config/config.yaml \
#          --workflow-profile workflow/profiles/slurm [SNAKEMAKE_ARG ...]
#    plus this cluster's site settings: job status from squeue (there is no
#    slurmdbd for sacct; MinJobAge=600 keeps finished jobs visible), the
#    first status check after 5 s, no account, SLURM logs kept for step 4.
# 4. Checks the outputs, that the compute rules ran as SLURM jobs and that the
#    localrules did not, then stops only the daemons it started (by PID) and
#    removes the folder (kept on failure, or with CONSTPOT_SLURM_KEEP=1).
#
# Environment: CONSTPOT_VENV (default .venv of the repository), TMPDIR.
# Exit status 0 when every check passes. Needs root (slurmd launches the jobs).

set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
VENV=${CONSTPOT_VENV:-$REPO/.venv}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
START=$(date +%s)

log() { printf '[run_slurm %5ss] %s\n' "$(($(date +%s) - START))" "$*"; }
die() {
    log "FAIL: $*"
    exit 1
}

[[ $(id -u) -eq 0 ]] || die "needs root: slurmd starts the jobs (run as root, or use a real cluster)"
[[ -x $VENV/bin/snakemake ]] || die "no $VENV/bin/snakemake: run 'make venv' first"
"$VENV/bin/python" -c "import snakemake_executor_plugin_slurm" 2>/dev/null ||
    die "snakemake-executor-plugin-slurm is not installed in $VENV: run 'make venv'"

# 1. SLURM and munge
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null ||
    ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    command -v apt-get >/dev/null || die "SLURM is not installed and there is no apt-get"
    log "installing slurm-wlm and munge (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        slurm-wlm munge >/dev/null
fi
log "$(slurmctld -V)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/constpot-slurm.XXXXXX")
PIDS=()
OK=0

stop_daemons() {
    # Jobs of this private cluster first, then the daemons started above,
    # newest first, each by its PID.
    if [[ -n ${SLURM_CONF:-} ]] && [[ ${#PIDS[@]} -gt 0 ]]; then
        timeout 10 scancel --full --user "$(id -un)" 2>/dev/null || true
    fi
    local i pid
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        pid=${PIDS[i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.2
            done
            if kill -0 "$pid" 2>/dev/null; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

finish() {
    local rc=$?
    stop_daemons
    if [[ $OK -eq 1 && -z ${CONSTPOT_SLURM_KEEP:-} ]]; then
        rm -rf "$WORK"
    else
        log "kept $WORK (slurm logs in $WORK/log, the run in $WORK/repo)"
    fi
    log "wall time $(($(date +%s) - START)) s, exit status $rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

free_port() {
    "$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
    local limit=$1 what=$2
    shift 2
    for _ in $(seq $((limit * 5))); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    die "timed out after ${limit} s waiting for $what"
}

# 2. munge, slurmctld, slurmd
mkdir -p "$WORK"/{munge,state,spool,log}
chmod 700 "$WORK/munge"
dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$WORK/munge/munge.key"
MUNGE_SOCKET=$WORK/munge/munge.socket
munged --foreground --force --socket="$MUNGE_SOCKET" \
    --key-file="$WORK/munge/munge.key" --pid-file="$WORK/munge/munged.pid" \
    --log-file="$WORK/log/munged.log" --seed-file="$WORK/munge/munged.seed" \
    >>"$WORK/log/munged.out" 2>&1 &
PIDS+=($!)
wait_for 20 munged test -S "$MUNGE_SOCKET"

# This machine as slurmd sees it: name, CPUs, sockets, cores, threads, memory.
NODE_LINE=$(slurmd -C | head -n 1)
NODE=$(sed -n 's/^NodeName=\([^ ]*\).*/\1/p' <<<"$NODE_LINE")
[[ -n $NODE ]] || die "slurmd -C printed no NodeName: $NODE_LINE"
export SLURM_CONF=$WORK/slurm.conf
cat >"$SLURM_CONF" <<CONF
# One-node test cluster of constpot's tests/slurm/run_slurm.sh.
ClusterName=constpot-test
SlurmctldHost=$NODE
SlurmctldPort=$(free_port)
SlurmdPort=$(free_port)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
CredType=cred/munge
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/log/slurmctld.log
SlurmdLogFile=$WORK/log/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
# Finished jobs stay visible to squeue for 10 min: the executor plugin checks
# job status with squeue (no slurmdbd here, so sacct cannot answer).
MinJobAge=600
KillWait=5
$NODE_LINE State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
log "SLURM_CONF=$SLURM_CONF ($NODE_LINE)"

slurmctld -D -i -f "$SLURM_CONF" >>"$WORK/log/slurmctld.out" 2>&1 &
PIDS+=($!)
wait_for 30 slurmctld scontrol ping
slurmd -D -N "$NODE" -f "$SLURM_CONF" >>"$WORK/log/slurmd.out" 2>&1 &
PIDS+=($!)
node_idle() { [[ $(sinfo -h -n "$NODE" -o %t) == idle ]]; }
wait_for 60 "node $NODE to be idle" node_idle
log "cluster up: $(sinfo -h -o '%P %D %t %c CPUs %m MB')"

# A one-line job first: a broken cluster fails here, not inside snakemake.
JOBID=$(sbatch --parsable -o "$WORK/log/smoke.out" --wrap 'echo smoke-ok')
job_gone() { [[ -z $(squeue -h -j "$JOBID" -t PD,R,CG 2>/dev/null) ]]; }
wait_for 60 "smoke job $JOBID" job_gone
grep -q smoke-ok "$WORK/log/smoke.out" || die "smoke job $JOBID wrote no output"
log "smoke job $JOBID ran"

# 3. the workflow, through the shipped profile
mkdir "$WORK/repo"
(cd "$REPO" && git ls-files -z --cached --others --exclude-standard |
    tar --null --ignore-failed-read -T - -cf - 2>/dev/null) | tar -C "$WORK/repo" -xf -
cd "$WORK/repo"
# The jobstep plugin drops every SLURM_* variable (SLURM_CONF too) before the
# srun that starts a job's step; an srun first on PATH puts it back. (A real
# cluster keeps its configuration where srun finds it without SLURM_CONF.)
mkdir "$WORK/bin"
printf '#!/bin/sh\nSLURM_CONF=%q exec %q "$@"\n' "$SLURM_CONF" "$(command -v srun)" >"$WORK/bin/srun"
chmod +x "$WORK/bin/srun"
export PATH=$WORK/bin:$VENV/bin:$PATH
ARGS=("$@")
log "snakemake --configfile .test/config/config.yaml --workflow-profile workflow/profiles/slurm ${ARGS[*]}"
set +e
snakemake --configfile .test/config/config.yaml \
    --workflow-profile workflow/profiles/slurm \
    --slurm-status-command squeue \
    --slurm-init-seconds-before-status-checks 5 \
    --slurm-keep-successful-logs \
    --slurm-no-account \
    --slurm-logdir "$WORK/repo/.snakemake/slurm_logs" \
    "${ARGS[@]}" >"$WORK/log/snakemake.log" 2>&1
RC=$?
set -e
tail -n 40 "$WORK/log/snakemake.log"
[[ $RC -eq 0 ]] || die "snakemake exited with $RC (log: $WORK/log/snakemake.log)"

# 4. checks
SUBMITTED=$(grep -c "submitted with SLURM jobid" "$WORK/log/snakemake.log" || true)
log "snakemake submitted $SUBMITTED SLURM jobs"
"$VENV/bin/python" "$REPO/tests/slurm/check_outputs.py" "$WORK/repo" "${ARGS[@]}" ||
    die "output checks failed"
OK=1
log "PASS"
