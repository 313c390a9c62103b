#!/usr/bin/env bash
# Interop suite: Hallmark's DSSE envelopes must verify with securesystemslib (PyPI) using only our
# public key, for both key types, and a tampered envelope must be rejected by it.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}"
python="$venv/bin/python"
[ -x "$python" ] || { echo "interop: no venv at $venv; run scripts/install-test-deps.sh" >&2; exit 2; }
cargo build -q -p hallmark-cli
target="${CARGO_TARGET_DIR:-$PWD/target}"
hallmark="$target/debug/hallmark"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cd "$work"
mkdir src && echo 'int main(void){return 0;}' > src/main.c
passed=0
failed=0
check() { # description, expected exit, command...
  local what="$1" want="$2"; shift 2
  local got=0
  "$@" > out.txt 2>&1 || got=$?
  if [ "$got" = "$want" ]; then passed=$((passed + 1)); echo "ok: $what"
  else failed=$((failed + 1)); echo "FAILED: $what (exit $got, expected $want)"; cat out.txt; fi
}
for alg in ecdsa-p256 ed25519; do
  "$hallmark" keygen --output "k-$alg" --algorithm "$alg" 2>/dev/null
  "$hallmark" run --step build -m src -p src --key "k-$alg.key" --no-store \
    --output "env-$alg.json" --format dsse -- true 2>/dev/null
  check "$alg envelope verifies with securesystemslib" 0 \
    "$python" "$OLDPWD/tests/interop/sslib_verify.py" "env-$alg.json" "k-$alg.pub"
  "$python" - "env-$alg.json" <<'PY'
import base64, json, sys
p = sys.argv[1]
d = json.load(open(p))
payload = base64.b64decode(d["payload"]).replace(b'"build"', b'"tampered"')
d["payload"] = base64.b64encode(payload).decode()
json.dump(d, open(p + ".tampered", "w"))
PY
  check "$alg tampered envelope is rejected by securesystemslib" 1 \
    "$python" "$OLDPWD/tests/interop/sslib_verify.py" "env-$alg.json.tampered" "k-$alg.pub"
done
"$hallmark" keygen --output other 2>/dev/null
check "envelope is rejected with another key" 1 \
  "$python" "$OLDPWD/tests/interop/sslib_verify.py" env-ecdsa-p256.json other.pub
echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
