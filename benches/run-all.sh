#!/usr/bin/env bash
# Reproduces every figure in BENCHMARKS.md: the criterion micro-benchmarks
# (each beside its floor) and the end-to-end run through the fake Discord
# (latency beside a floor bot, startup, resident memory, `/reflect` on
# PostgreSQL beside sled), the store on PostgreSQL beside a bare INSERT and
# its throughput with one process and two. Release builds. Takes about
# twenty minutes on two cores.
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
echo "## PostgreSQL (a private server; skipped, saying why, where none can run)"
cargo bench --bench postgres -- --warm-up-time 1 --measurement-time 4 2>/dev/null | grep -vE '^(Running|Finished|Compiling|Benchmarking|Found|Gnuplot)|outliers|^ +[0-9]+ \('
echo
echo "## Erasure"
cargo bench --bench erasure 2>/dev/null | grep -vE '^(Running|Finished|Compiling)'
