#!/bin/sh
# A made-up lab loop driven with `les ask` / `les tell`: les proposes a temperature and a time,
# this script "measures" the (negated) yield itself and tells les the value. It can be killed
# at any moment and started again: it first takes up a trial that was asked but not told.
#
#   sh objectives/examples/ask-tell/lab.sh [RUN_DIR]      # LES=path/to/les to pick the binary
set -eu
LES=${LES:-les}
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-runs/ask-tell-lab}

# Create the run directory once; later starts continue it.
[ -f "$dir/config.yaml" ] || "$LES" init "$here/lab.yaml" --out "$dir" > /dev/null

# The "measurement": minus the yield of a reaction at temperature $1 and time $2. A real loop
# would start the rig here and wait for hours.
measure() {
    awk -v t="$1" -v h="$2" 'BEGIN { printf "%.17g\n", (t - 55) ^ 2 / 100 + (h - 4) ^ 2 / 4 - 3 + 0.1 * sin(t) }'
}

while :; do
    # A trial asked before a crash comes first; otherwise ask for a new one.
    trial=$("$LES" status "$dir" --pending | head -n 1)
    [ -n "$trial" ] || trial=$("$LES" ask "$dir")
    [ -n "$trial" ] || break                  # nothing to ask: the budget is used up
    set -- $trial                             # TRIAL x0 x1
    id=$1
    if y=$(measure "$2" "$3"); then
        "$LES" tell "$dir" "$id" "$y" > /dev/null
    else
        "$LES" tell "$dir" "$id" --failed "the measurement failed" > /dev/null
    fi
done
"$LES" status "$dir"
