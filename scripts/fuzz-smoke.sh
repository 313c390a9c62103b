#!/usr/bin/env bash
# CI smoke of the fuzz targets (docs/fuzzing.md): builds every target in fuzz/ and runs each for
# SECONDS (default 20) on its seed corpus and dictionary, so the targets keep compiling and the
# regression inputs keep passing. Fails when a target does not build or finds a crash.
#   scripts/fuzz-smoke.sh [SECONDS]
# Installs cargo-fuzz (crates.io) when it is missing. Uses the stable compiler with
# RUSTC_BOOTSTRAP=1 for cargo-fuzz's flags. CARGO_TARGET_DIR defaults to fuzz/target.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-20}"
if ! command -v cargo-fuzz > /dev/null; then
  cargo install cargo-fuzz --locked
fi
export HALLMARK_VECTORS="${HALLMARK_VECTORS:-$PWD/../shared/vectors}"
start=$(date +%s)
bash fuzz/seed.sh > /dev/null
status=0
bash fuzz/run.sh "$seconds" || status=$?
echo "fuzz smoke: $(( $(date +%s) - start )) s (${seconds} s per target), exit $status"
exit "$status"
