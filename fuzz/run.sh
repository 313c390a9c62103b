#!/usr/bin/env bash
# Builds the fuzz targets once and runs each for SECONDS with its corpus and dictionary:
#   fuzz/run.sh SECONDS [TARGET...]      (no TARGET: every target in fuzz/fuzz_targets)
# Prints per target: executions, coverage (cov/ft of libFuzzer's final stats line), crashes.
# Exits non-zero when any target crashed (its input is in fuzz/artifacts/TARGET/).
# Environment: FUZZ_SANITIZER (none, the default, or address), FUZZ_JOBS (targets run at once,
# default 1), CARGO_TARGET_DIR (default fuzz/target), FUZZ_ARGS (more libFuzzer flags).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
seconds="${1:?usage: fuzz/run.sh SECONDS [TARGET...]}"
shift
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi
sanitizer="${FUZZ_SANITIZER:-none}"
target_dir="${CARGO_TARGET_DIR:-$here/target}"
triple="$(rustc -vV | sed -n 's/^host: //p')"

command -v cargo-fuzz >/dev/null || { echo "run.sh: cargo-fuzz is missing (cargo install cargo-fuzz --locked)" >&2; exit 2; }
# cargo-fuzz needs nightly flags; RUSTC_BOOTSTRAP lets the stable compiler take them.
export RUSTC_BOOTSTRAP=1
# One target builds alone; several build together (one cargo invocation, shared dependencies).
one=()
[ ${#targets[@]} -eq 1 ] && one=("${targets[0]}")
cargo fuzz build -s "$sanitizer" --target-dir "$target_dir" "${one[@]}"
[ -d corpus ] || bash seed.sh >/dev/null

mkdir -p logs
status=0
printf '%-18s %12s %8s %8s %8s %s\n' target executions exec/s cov ft crashes
for t in "${targets[@]}"; do
  bin="$target_dir/$triple/release/$t"
  mkdir -p "corpus/$t" "artifacts/$t"
  dict=()
  [ -f "dicts/$t.dict" ] && dict=("-dict=dicts/$t.dict")
  before=$(find "artifacts/$t" -type f | wc -l)
  rc=0
  # shellcheck disable=SC2086
  "$bin" "corpus/$t" "${dict[@]}" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=25 \
    -max_len=262144 -print_final_stats=1 -artifact_prefix="artifacts/$t/" ${FUZZ_ARGS:-} \
    >"logs/$t.log" 2>&1 || rc=$?
  after=$(find "artifacts/$t" -type f | wc -l)
  crashes=$((after - before))
  # libFuzzer's last status line: "#N  DONE  cov: C ft: F corp: ... exec/s: E ..."
  line=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1 || true)
  execs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "logs/$t.log" | tail -1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "logs/$t.log" | tail -1)
  cov=$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$line")
  ft=$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$line")
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then crashes="?(exit $rc)"; fi
  printf '%-18s %12s %8s %8s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "$crashes"
  if [ "$rc" -ne 0 ] || [ "$crashes" != 0 ]; then
    status=1
    grep -m3 -E 'panicked|ERROR: libFuzzer|SUMMARY' "logs/$t.log" | sed 's/^/    /' || true
  fi
done
exit "$status"
