#!/usr/bin/env bash
# Validates every JSON document the test suite made hallmark write (kept in DIR by the tests'
# HALLMARK_JSON_OUT recorder) against its schema in docs/schemas, with check-jsonschema from the
# test venv. Fails when a schema has no documents: the recorder must have seen each command.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:?usage: check-json-outputs.sh DIR}"
venv="${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}"
for schema in verify verify-bundle inspect policy-decision trust sbom evidence-bundle-inspect evidence-bundle-import \
  index-add trace audit; do
  # SCHEMA-PID-N.json: the digit keeps verify from matching verify-bundle's files.
  files=("$dir/$schema"-[0-9]*.json)
  if [ ! -e "${files[0]}" ]; then
    echo "no $schema output was recorded in $dir" >&2
    exit 1
  fi
  "$venv/bin/check-jsonschema" --schemafile "docs/schemas/$schema-v1.json" "${files[@]}"
  echo "$schema: ${#files[@]} documents valid against docs/schemas/$schema-v1.json"
done
