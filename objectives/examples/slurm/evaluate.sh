#!/bin/sh
# One evaluation for les's `command` objective: reads {"x": [...], "trial": N, ...} on stdin and
# prints the value on stdout. With Slurm present (`srun` on PATH) the simulation runs as a job
# step on the cluster, otherwise here. les runs `workers` of these at once; each blocks until
# its simulation is done, so the cluster's queue holds at most `workers` jobs of this run.
#
# On SIGTERM (Ctrl-C of les, a timeout) srun cancels its job step before exiting; les sends
# SIGKILL only after a 3 s grace.
set -eu
here=$(dirname "$0")
input=$(cat)
trial=${LES_TRIAL:-0}
# Each trial's files in its own directory under the run directory, named after the trial.
work="${LES_RUN_DIR:-.}/trials/$trial"
mkdir -p "$work"
printf '%s\n' "$input" > "$work/input.json"

if command -v srun >/dev/null 2>&1; then
    # One task of one core; queue-specific flags (partition, account, time) come from the
    # environment: SLURM_PARTITION / SBATCH_* / SRUN_* variables or the `env:` block of the config.
    srun --job-name="les-trial-$trial" --ntasks=1 --cpus-per-task=1 --quiet \
        sh "$here/simulate.sh" "$work/input.json" > "$work/output.txt"
else
    sh "$here/simulate.sh" "$work/input.json" > "$work/output.txt"
fi
# The last line of the simulation's output is the value.
tail -n 1 "$work/output.txt"
