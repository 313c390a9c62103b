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
# Keyless: Hallmark signs against the local test services (OIDC, Fulcio, Rekor); sigstore-python
# verifies the bundle offline with the services' trust config, and rejects a tampered copy.
sigstore_bin="${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}-sigstore/bin/sigstore"
[ -x "$sigstore_bin" ] || { echo "interop: no sigstore-python at $sigstore_bin; run scripts/install-test-deps.sh" >&2; exit 2; }
cargo build -q -p hallmark-testsvc --manifest-path "$OLDPWD/Cargo.toml"
"$target/debug/hallmark-testsvc" svc 120 2> svc.log &
svc_pid=$!
trap 'kill $svc_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 300); do [ -f svc/url ] && break; sleep 0.1; done
[ -f svc/url ] || { echo "interop: the test services did not start"; cat svc.log; exit 2; }
url=$(cat svc/url)
echo "artifact for keyless signing" > app.bin
# A first entry, so the proof of the second has a sibling hash to corrupt.
check "keyless signing (first entry)" 0 \
  "$hallmark" run --step warmup -m src -p src --keyless --identity-token @svc/token --fulcio-url "$url/fulcio" \
  --rekor-url "$url/rekor" --sigstore-trusted-root svc/trusted_root.json --no-store --output first.json -- true
check "keyless signing with an RFC 3161 timestamp" 0 \
  "$hallmark" run --step build -m src -p app.bin --keyless --identity-token @svc/token --fulcio-url "$url/fulcio" \
  --rekor-url "$url/rekor" --timestamp-server "$url/tsa/api/v1/timestamp" --sigstore-trusted-root svc/trusted_root.json \
  --no-store --output keyless.json -- true
check "keyless bundle verifies with sigstore-python" 0 \
  "$sigstore_bin" --trust-config svc/trust_config.json verify identity --offline --bundle keyless.json \
  --cert-identity ci@hallmark.test --cert-oidc-issuer "$url/oidc" app.bin
check "keyless bundle verifies with hallmark verify-bundle" 0 \
  "$hallmark" verify-bundle --bundle keyless.json --certificate-identity ci@hallmark.test \
  --certificate-oidc-issuer "$url/oidc" --trusted-root svc/trusted_root.json app.bin
"$python" - keyless.json <<'PY'
import base64, json, sys
p = sys.argv[1]
b = json.load(open(p))
proof = b["verificationMaterial"]["tlogEntries"][0]["inclusionProof"]
h = bytearray(base64.b64decode(proof["hashes"][0])); h[0] ^= 1
proof["hashes"][0] = base64.b64encode(bytes(h)).decode()
json.dump(b, open(p + ".tampered", "w"))
PY
check "tampered keyless bundle is rejected by sigstore-python" 1 \
  "$sigstore_bin" --trust-config svc/trust_config.json verify identity --offline --bundle keyless.json.tampered \
  --cert-identity ci@hallmark.test --cert-oidc-issuer "$url/oidc" app.bin
check "tampered keyless bundle is rejected by hallmark" 1 \
  "$hallmark" verify-bundle --bundle keyless.json.tampered --certificate-identity ci@hallmark.test \
  --certificate-oidc-issuer "$url/oidc" --trusted-root svc/trusted_root.json app.bin
# ...by the check the tampering broke (docs/error-codes.md).
if grep -q ': sigstore.tlog.inclusion-proof: ' out.txt; then passed=$((passed + 1)); echo "ok: it names sigstore.tlog.inclusion-proof"
else failed=$((failed + 1)); echo "FAILED: the rejection names sigstore.tlog.inclusion-proof"; cat out.txt; fi
echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
