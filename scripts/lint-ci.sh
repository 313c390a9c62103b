#!/usr/bin/env bash
# Lints the GitHub workflows and action.yml offline: check-jsonschema against the vendored
# GitHub schemas, zizmor (no findings at its default severity; settings in .github/zizmor.yml),
# and actionlint (expressions, job graph, the local action's inputs and runtime).
# Both come from the test venv (tests/interop/requirements.txt, scripts/install-test-deps.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}"
workflows=(.github/workflows/*.yml examples/github/.github/workflows/*.yml)
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"$venv/bin/zizmor" --offline --no-progress --config .github/zizmor.yml "${workflows[@]}" action.yml
"$venv/bin/actionlint" "${workflows[@]}"
