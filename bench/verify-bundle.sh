#!/usr/bin/env bash
# Side-by-side: `hallmark verify-bundle` against sigstore-python 4.5.1's offline `verify identity`
# on the sigstore-conformance happy-path-v0.3 bundle, with the same production trust root.
#
#   bash bench/verify-bundle.sh            # needs $HALLMARK_VECTORS or ../shared/vectors
#
# Installs sigstore==4.5.1 into its own venv (${HALLMARK_VENV:-~/.cache/hallmark/venv}-sigstore),
# builds hallmark in release, then reports wall time (hyperfine, or a loop) and peak RSS.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
vectors=${HALLMARK_VECTORS:-$(cd .. && pwd)/shared/vectors}
case_dir=$vectors/sigstore-conformance/test/assets/bundle-verify/happy-path-v0.3
artifact=$vectors/sigstore-conformance/test/assets/bundle-verify/a.txt
root=$vectors/trust-roots/production/trusted_root.json
identity=https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main
issuer=https://token.actions.githubusercontent.com
[[ -f $case_dir/bundle.sigstore.json ]] || { echo "no vectors at $vectors" >&2; exit 2; }

venv=${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}-sigstore
[[ -x $venv/bin/python ]] || python3 -m venv "$venv"
"$venv/bin/python" -m pip show sigstore 2>/dev/null | grep -q '^Version: 4.5.1$' ||
  "$venv/bin/python" -m pip install --quiet sigstore==4.5.1

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# sigstore-python takes a ClientTrustConfig; every URL entry needs an operator.
"$venv/bin/python" - "$root" "$work/config.json" <<'PY'
import json, sys
root = json.load(open(sys.argv[1]))
svc = lambda url: {"url": url, "majorApiVersion": 1, "validFor": {"start": "2021-01-01T00:00:00Z"}, "operator": "sigstore.dev"}
json.dump({"mediaType": "application/vnd.dev.sigstore.clienttrustconfig.v0.1+json", "trustedRoot": root,
           "signingConfig": {"mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
                             "caUrls": [svc("https://fulcio.sigstore.dev")], "oidcUrls": [svc("https://oauth2.sigstore.dev/auth")],
                             "rekorTlogUrls": [svc("https://rekor.sigstore.dev")], "tsaUrls": [],
                             "rekorTlogConfig": {"selector": "ANY"}, "tsaConfig": {"selector": "ANY"}}}, open(sys.argv[2], "w"))
PY

cargo build --release -q -p hallmark-cli
hallmark=${CARGO_TARGET_DIR:-target}/release/hallmark
hm=("$hallmark" verify-bundle --bundle "$case_dir/bundle.sigstore.json" --certificate-identity "$identity"
    --certificate-oidc-issuer "$issuer" --trusted-root "$root" "$artifact")
py=("$venv/bin/sigstore" --trust-config "$work/config.json" verify identity --offline
    --bundle "$case_dir/bundle.sigstore.json" --cert-identity "$identity" --cert-oidc-issuer "$issuer" "$artifact")
"${hm[@]}" > /dev/null
"${py[@]}" > /dev/null 2>&1 || { echo "sigstore-python failed:"; "${py[@]}"; exit 1; }

q() { printf '%q ' "$@"; }
if command -v hyperfine > /dev/null; then
  hyperfine -N --warmup 2 --runs 15 -n hallmark "$(q "${hm[@]}")" -n sigstore-python "$(q "${py[@]}")" \
    --export-markdown "$work/table.md" > /dev/null
  cat "$work/table.md"
else
  for name in hm py; do
    declare -n cmd=$name
    start=$(date +%s%N); for _ in $(seq 10); do "${cmd[@]}" > /dev/null 2>&1; done
    echo "$name: $(( ($(date +%s%N) - start) / 10000000 )) ms per run"
  done
fi
for name in hm py; do
  declare -n cmd=$name
  /usr/bin/time -f "$name peak RSS: %M KiB" "${cmd[@]}" 2>&1 > /dev/null | tail -1
done
