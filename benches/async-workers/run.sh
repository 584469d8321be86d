#!/usr/bin/env bash
# Asynchronous evaluations: LES and TuRBO on a command objective that sleeps 0.5 s around a GP
# sample (d = 10, high complexity), 10 seeds, workers 1, 2, 4 and 8. Figures, not a test:
#   bash benches/async-workers/run.sh OUT_DIR      (from the repository root; LES=path/to/les)
#   python3 benches/async-workers/summarize.py OUT_DIR
# Each (strategy, workers) stream of runs goes on in the background; two at a time.
set -euo pipefail
out=${1:?usage: run.sh OUT_DIR}
les=${LES:-target/release/les}
les=$(realpath "$les")
seeds=${SEEDS:-10}
budget=${BUDGET:-60}
mkdir -p "$out"
out=$(realpath "$out")

config() { # strategy workers seed
    local dir="$out/$1-w$2-s$3"
    mkdir -p "$dir"
    cat > "$dir/objective.yaml" <<YAML
objective: { builtin: gp_sample, dim: 10, complexity: high, seed: $3 }
strategy: { name: sobol }
budget: 1
initial_points: 0
seed: $3
YAML
    cat > "$dir/run.yaml" <<YAML
objective:
  command: [sh, -c, "sleep 0.5; exec '$les' eval '$dir/objective.yaml'"]
  bounds: { lower: [0, 0, 0, 0, 0, 0, 0, 0, 0, 0], upper: 1 }
strategy:
  name: $1
  params:
    surrogate: { name: gp, params: { hyperparameters: map, lengthscale_prior: high, noise_std: 2.0e-3 } }
budget: $budget
initial_points: 2
seed: $3
workers: $2
output: $dir/run
YAML
    echo "$dir"
}

stream() { # strategy workers
    for seed in $(seq 1 "$seeds"); do
        dir=$(config "$1" "$2" "$seed")
        [ -f "$dir/run/summary.json" ] && continue
        rm -rf "$dir/run"
        start=$(date +%s.%N)
        "$les" run "$dir/run.yaml" --quiet > "$dir/stdout.txt" 2> "$dir/stderr.txt"
        end=$(date +%s.%N)
        echo "$start $end" > "$dir/wall.txt"
    done
}

for w in 1 2 4 8; do
    stream les "$w" &
    stream turbo "$w" &
    wait
done
echo "done: $out"
