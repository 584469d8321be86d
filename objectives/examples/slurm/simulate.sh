#!/bin/sh
# A stand-in for a simulation: takes a while, then prints a shifted sphere of the input point.
# Replace with your own program; it reads the input file named by $1.
set -eu
sleep "${SIMULATION_SECONDS:-1}"
sed 's/.*"x":\[\([^]]*\)\].*/\1/' "$1" | awk -F, '{ s = 0; for (i = 1; i <= NF; i++) s += ($i - 0.3) ^ 2; print s }'
