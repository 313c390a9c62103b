#!/usr/bin/env bash
# The evidence index at scale (docs/benchmarks.md, "Evidence index"):
#
#   bash bench/index.sh [QUERY_N] [RATE_N] [PG_N] [CLI_N]
#
#   QUERY_N  attestations in the SQLite index the backward queries run on (default 1000000)
#   RATE_N   attestations for the ingest-rate run, SQLite and PostgreSQL (default 20000; 0 skips)
#   PG_N     attestations for the backward queries on PostgreSQL (default 100000; 0 skips)
#   CLI_N    attestations for the command-line run: plant_history writes a store, `hallmark
#            index add` indexes it, `hallmark trace backward --lot` queries it (default 20000;
#            0 skips)
#
# Environment: BENCH_DIR (where databases and results go; default
# ${XDG_CACHE_HOME:-~/.cache}/hallmark/bench-index, never inside the repository: a million
# attestations make a 4 GB SQLite file), LOTS and RUNS (lots timed, warm runs each; 20 and 20),
# REBUILD=1 (make the QUERY_N index again even when one of that size is there).
#
# Steps:
#   1. release builds of the examples (honouring CARGO_TARGET_DIR) and of hallmark;
#   2. ingest_rate RATE_N: ECDSA P-256 step provenance verified, then verified and ingested in
#      batches of 1,000 into a fresh SQLite file and a throw-away PostgreSQL (testsvc: Debian's
#      postgresql binaries on a loopback port, fsync off);
#   3. lot_query build: a plant history of QUERY_N attestations (builds, SBOMs, approvals,
#      deployments to 64 assets on 8 lines, lots) signed in memory and ingested through
#      Index::verify_and_add into BENCH_DIR/index-QUERY_N.sqlite;
#   4. lot_query query on it, after dropping the OS page cache when this user may (root): the
#      first (cold) trace_lot, then LOTS lots x RUNS warm runs of trace_lot and of trace_target,
#      each checked against what the generator knows, then SQLite's EXPLAIN QUERY PLAN of every
#      statement the two traces run;
#   5. lot_query postgres PG_N: the same build and queries on a throw-away PostgreSQL;
#   6. the command line over a store: plant_history CLI_N, hallmark index add, hallmark trace.
#
# Everything printed is also written to BENCH_DIR/results-DATE.txt. The load average is printed
# before and after each step: other work on the machine slows every figure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
query_n=${1:-1000000}
rate_n=${2:-20000}
pg_n=${3:-100000}
cli_n=${4:-20000}
lots=${LOTS:-20}
runs=${RUNS:-20}
dir=${BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hallmark/bench-index}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
case "$dir/" in "$PWD"/*)
  echo "BENCH_DIR must be outside the repository" >&2
  exit 2
  ;;
esac
target=${CARGO_TARGET_DIR:-target}
[[ $target = /* ]] || target=$PWD/$target
results=$dir/results-$(date -u +%Y%m%dT%H%M%SZ).txt
exec > >(tee "$results") 2>&1

load() { echo "[$(date -u +%H:%M:%S)] load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"; }
step() {
  echo
  echo "== $*"
  load
}

step build
cargo build --release -q -p hallmark-index --example lot_query --example ingest_rate
cargo build --release -q -p hallmark-cli --bin hallmark --example plant_history
examples=$target/release/examples
echo "$(uname -sr), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "rustc: $(rustc --version)"

if [ "$rate_n" -gt 0 ]; then
  step "ingest rate, $rate_n attestations (SQLite, then PostgreSQL)"
  "$examples/ingest_rate" "$rate_n"
  load
fi

db=$dir/index-$query_n.sqlite
truth=$dir/index-$query_n.truth.json
if [ "${REBUILD:-0}" = 1 ] || [ ! -s "$truth" ] || [ ! -s "$db" ]; then
  step "build: $query_n attestations into $db"
  rm -f "$db" "$db-wal" "$db-shm" "$truth"
  /usr/bin/time -f "build: %e s wall, %U s user, %S s sys, %M KiB peak RSS" \
    "$examples/lot_query" build "$db" "$truth" "$query_n"
  load
else
  step "build: reusing $db (REBUILD=1 makes it again)"
fi
echo "database: $(du -h "$db" | cut -f1) ($db)"

step "queries on SQLite, $query_n attestations"
sync
if [ -w /proc/sys/vm/drop_caches ]; then
  echo 3 > /proc/sys/vm/drop_caches
  echo "OS page cache dropped: the first query reads from disk"
else
  echo "OS page cache not dropped (not root): the first query is cold for SQLite only"
fi
"$examples/lot_query" query "$db" "$truth" "$lots" "$runs"
load

if [ "$pg_n" -gt 0 ]; then
  step "build and queries on PostgreSQL, $pg_n attestations"
  "$examples/lot_query" postgres "$pg_n" "$lots" "$runs"
  load
fi

if [ "$cli_n" -gt 0 ]; then
  step "command line: plant_history $cli_n, hallmark index add, hallmark trace"
  cli=$dir/cli-$cli_n
  rm -rf "$cli"
  "$examples/plant_history" "$cli" "$cli_n"
  echo "store: $(du -sh "$cli/store" | cut -f1), $(find "$cli/store" -type f | wc -l) files"
  /usr/bin/time -f "index add: %e s wall, %U s user, %S s sys, %M KiB peak RSS" \
    "$target/release/hallmark" index add --store "$cli/store" --key "$cli/plant.pub" \
    --database "$cli/index.sqlite"
  lot=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lots"][0]["lot"])' "$cli/truth.json")
  /usr/bin/time -f "trace backward --lot $lot: %e s wall, %M KiB peak RSS" \
    "$target/release/hallmark" trace backward --lot "$lot" --database "$cli/index.sqlite" > /dev/null
  load
fi
echo
echo "results: $results"
