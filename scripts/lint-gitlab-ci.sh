#!/usr/bin/env bash
# Validates the GitLab CI files against GitLab's schema (PyPI check-jsonschema,
# --builtin-schema vendor.gitlab-ci): the project's .gitlab-ci.yml, the example pipeline, and
# each document of the component templates (a `spec:` header, then the jobs).
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}"
check="$venv/bin/check-jsonschema"
[ -x "$check" ] || { echo "lint-gitlab-ci: no check-jsonschema in $venv; run scripts/install-test-deps.sh" >&2; exit 2; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
files=(.gitlab-ci.yml examples/gitlab/.gitlab-ci.yml)
for t in templates/*.yml; do
  name="$(basename "$t" .yml)"
  "$venv/bin/python" - "$t" "$work/$name" <<'PY'
import sys, yaml
docs = list(yaml.safe_load_all(open(sys.argv[1])))
assert len(docs) == 2 and set(docs[0]) == {"spec"}, f"{sys.argv[1]}: expected a spec header and one document"
assert docs[0]["spec"].get("inputs"), f"{sys.argv[1]}: spec has no inputs"
for i, d in enumerate(docs):
    yaml.safe_dump(d, open(f"{sys.argv[2]}.{i}.yml", "w"), sort_keys=False)
PY
  files+=("$work/$name.0.yml" "$work/$name.1.yml")
done
"$check" --builtin-schema vendor.gitlab-ci "${files[@]}"
