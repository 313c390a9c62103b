#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every gate.
#   fmt --check, clippy -D warnings, all tests (nextest; as root also the ignored root-only ones),
#   the GitHub Action's tests and the workflow lint, the air-gap walkthrough, the interop suite,
#   the GitLab CI lint, the GitLab example pipeline run by gitlab-ci-local, and a smoke run of
#   every fuzz target (HALLMARK_FUZZ_SECONDS each, default 5).
# HALLMARK_VECTORS points the tests at shared/vectors (default: ../shared/vectors beside the clone).
set -euo pipefail
cd "$(dirname "$0")/.."
export HALLMARK_VECTORS="${HALLMARK_VECTORS:-$(cd .. && pwd)/shared/vectors}"
[ -f "$HALLMARK_VECTORS/in-toto-attestation/MANIFEST.md" ] || {
  echo "test vectors not found at $HALLMARK_VECTORS (set HALLMARK_VECTORS)" >&2; exit 2; }
bash scripts/install-test-deps.sh
echo "== cargo fmt --check"
cargo fmt --all --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== tests"
# Every JSON document the tests make hallmark write is kept here and checked against its schema.
HALLMARK_JSON_OUT="$(mktemp -d)"
export HALLMARK_JSON_OUT
trap 'rm -rf "$HALLMARK_JSON_OUT"' EXIT
if cargo nextest --version > /dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi
echo "== JSON outputs against docs/schemas"
bash scripts/check-json-outputs.sh "$HALLMARK_JSON_OUT"
# Tests marked #[ignore = "needs root: ..."] (a checkout owned by another uid) run where we are root,
# as on CI; elsewhere the summary lists them as skipped.
if [ "$(id -u)" = 0 ]; then
  echo "== tests that need root"
  if cargo nextest --version > /dev/null 2>&1; then
    cargo nextest run --workspace --locked --no-fail-fast --run-ignored only
  else
    cargo test --workspace --locked --no-fail-fast -- --ignored
  fi
fi
echo "== GitHub Action (node --test: unit tests, then local-action against the test services)"
cargo build --locked -p hallmark-cli --bin hallmark -p hallmark-testsvc --bin hallmark-testsvc
node --test --test-concurrency=1 test/action/
echo "== workflows and action.yml (check-jsonschema, zizmor)"
bash scripts/lint-ci.sh
echo "== examples/air-gap (vendor → transfer station → plant, offline)"
HALLMARK="${CARGO_TARGET_DIR:-target}/debug/hallmark" bash examples/air-gap/walkthrough.sh > /dev/null
echo "the air-gap walkthrough ran to the end"
echo "== examples/plant (builds, approvals, deployments, lots → index → trace, report, audit)"
HALLMARK="${CARGO_TARGET_DIR:-target}/debug/hallmark" bash examples/plant/walkthrough.sh > /dev/null
echo "the plant walkthrough ran to the end"
echo "== interop"
bash tests/interop/run.sh
echo "== GitLab CI: lint (check-jsonschema vendor.gitlab-ci)"
bash scripts/lint-gitlab-ci.sh
echo "== GitLab CI: the example pipeline under gitlab-ci-local"
bash tests/gitlab/run.sh
echo "== fuzz targets: build every one and run each for a few seconds on its seeds (docs/fuzzing.md)"
bash scripts/fuzz-smoke.sh "${HALLMARK_FUZZ_SECONDS:-5}"
