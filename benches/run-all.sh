#!/usr/bin/env bash
# Reproduces every figure in BENCHMARKS.md: the criterion micro-benchmarks
# (each beside its floor) and the end-to-end run through the fake Discord
# (latency beside a floor bot, startup, resident memory). Release builds.
# Takes about fifteen minutes on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never
summary() { grep -E '^[a-z/].*|time:' | sed -E 's/^ +//'; }
echo "## Micro"
cargo bench --bench lookup -- --warm-up-time 1 --measurement-time 4 2>/dev/null | summary
cargo bench --bench store -- --warm-up-time 1 --measurement-time 4 2>/dev/null | summary
echo
echo "## End to end"
cargo bench --bench e2e -- --memory 2>/dev/null | grep -vE '^(Running|Finished|Compiling)'
echo
echo "## Erasure"
cargo bench --bench erasure 2>/dev/null | grep -vE '^(Running|Finished|Compiling)'
