#!/usr/bin/env bash
# Denial of service by anyone who can write to a store, a registry or a --bundle file: each attack
# of the security report replayed against a release build, timed.
#
#   bash bench/dos.sh          # needs python3; the registry attack needs docker-registry, skopeo, curl
#
# Builds hallmark in release (honouring CARGO_TARGET_DIR; HALLMARK_BIN skips the build). In a
# temporary directory it records a 3-step chain (build -> test -> package, one key each) with a
# declarative policy, as cli/tests/it/chain.rs does; the genuine decision is
# `hallmark verify dist/app.tar --policy release.yaml`. Each attack starts from a copy of that
# repository, is made by bench/dos_attacks.py, and the decision is timed (median of 3 runs) with
# its exit code (0 allowed, 1 denied, 2 error) and the warnings hallmark printed:
#
#   cache:      16 bundles of ~15 MiB (SLSA provenance claims, bogus signatures), each listed in
#               index.json for the artifact and every material of the chain (more than the
#               decision's 128 MiB budget); cache-8: the same with 8 bundles (within it)
#   dangling:   one index.json entry for a material digest naming a missing manifest
#   huge-index: 1,300,000 junk entries appended to index.json (~500 MB)
#   full-index: junk entries up to just under the index limit (128 MiB), genuine entries intact
#   signatures: a 15 MB --bundle with 130,000 bogus DSSE signatures, --threshold 1, 3 trusted keys,
#               an empty store
#   referrer:   a registry image attested and pushed, plus one 400-byte referrer manifest whose
#               bundle layer claims 300,000,000 bytes; `verify oci://...` and `pull`
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bench=$PWD/bench
gen=$bench/dos_attacks.py
if [[ -z ${HALLMARK_BIN:-} ]]; then
  cargo build --release -q -p hallmark-cli
  HALLMARK_BIN=$PWD/${CARGO_TARGET_DIR:-target}/release/hallmark
fi
hm=$HALLMARK_BIN
work=$(mktemp -d)
registry_pid=
trap '[[ -n $registry_pid ]] && kill $registry_pid 2>/dev/null; rm -rf "$work"' EXIT

# The genuine chain.
repo=$work/repo
mkdir -p "$repo/src"
cd "$repo"
echo 'int a(void) { return 1; }' > src/a.c
echo 'int b(void) { return 2; }' > src/b.c
git init -q && git remote add origin https://git.example/acme/app.git
git -c user.name=b -c user.email=b@b add src && git -c user.name=b -c user.email=b@b commit -qm src
for k in build test package extra1 extra2; do "$hm" keygen --output $k 2> /dev/null; done
cat > release.yaml <<'YAML'
apiVersion: hallmark.dev/policy/v1
kind: ReleasePolicy
steps:
  build:   {signers: [build.pub], inputs: [source]}
  test:    {signers: [test.pub], inputs: [build]}
  package: {signers: [package.pub], inputs: [build, test]}
sources:
  repositories: [https://git.example/acme/app]
  refs: [refs/heads/*]
maxAge: 7d
YAML
run() { "$hm" run --step "$1" --key "$1.key" "${@:2}" 2> /dev/null; }
run build -m src -p out -- sh -c 'mkdir -p out && cat src/*.c > out/app'
run test -m out -p reports -- sh -c 'mkdir -p reports && echo passed > reports/test.txt'
run package -m out -m reports -p dist -- sh -c 'mkdir -p dist && tar -cf dist/app.tar out'
digest() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
chain_digests="$(digest dist/app.tar) $(digest out/app) $(digest reports/test.txt) $(digest src/a.c) $(digest src/b.c)"
cd "$work"

# measure NAME DIR COMMAND...: median wall time of 3 runs, the exit code, the warnings.
measure() {
  local name=$1 dir=$2; shift 2
  local times=() code out
  for _ in 1 2 3; do
    local start end
    start=$(date +%s.%N)
    set +e
    out=$(cd "$dir" && "$@" 2>&1 > /dev/null)
    code=$?
    set -e
    end=$(date +%s.%N)
    times+=("$(python3 -c "print('%.3f' % ($end - $start))")")
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
  printf '%-11s %7s s  exit %s  (runs: %s)\n' "$name" "$median" "$code" "${times[*]}"
  grep -o 'warning: .*' <<< "$out" | grep -v 'self-asserted\|plain HTTP' | cut -c1-200 | sort -u | head -3 |
    sed 's/^/              /' || true
}
copy() { rm -rf "$work/$1"; cp -a "$repo" "$work/$1"; echo "$work/$1"; }
verify=("$hm" verify dist/app.tar --policy release.yaml)

measure genuine "$repo" "${verify[@]}"

d=$(copy cache)
python3 "$gen" flood "$d/.hallmark/store" 16 15 $chain_digests
measure cache "$d" "${verify[@]}"
rm -rf "$d"

d=$(copy cache8)
python3 "$gen" flood "$d/.hallmark/store" 8 15 $chain_digests
measure cache-8 "$d" "${verify[@]}"
rm -rf "$d"

d=$(copy dangling)
python3 "$gen" dangling "$d/.hallmark/store" "$(cd "$repo" && digest out/app)"
measure dangling "$d" "${verify[@]}"

d=$(copy huge)
python3 "$gen" huge-index "$d/.hallmark/store" 1300000
echo "            index.json: $(stat -c%s "$d/.hallmark/store/index.json") bytes"
measure huge-index "$d" "${verify[@]}"
rm -rf "$d"

d=$(copy full)
python3 "$gen" huge-index "$d/.hallmark/store" 320000
echo "            index.json: $(stat -c%s "$d/.hallmark/store/index.json") bytes"
measure full-index "$d" "${verify[@]}"
rm -rf "$d"

d=$(copy signatures)
python3 "$gen" many-signatures "$d/flood.json" 130000 "$(cd "$repo" && digest dist/app.tar)"
mkdir "$d/empty"
echo "            flood.json: $(stat -c%s "$d/flood.json") bytes"
measure signatures "$d" "$hm" verify dist/app.tar --bundle flood.json --threshold 1 \
  --key package.pub --key extra1.pub --key extra2.pub --store empty

if ! command -v docker-registry > /dev/null || ! command -v skopeo > /dev/null; then
  echo "referrer    skipped: docker-registry or skopeo missing (scripts/install-test-deps.sh)"
  exit 0
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
  "$work/registry" "$host" > "$work/registry.yml"
docker-registry serve "$work/registry.yml" > /dev/null 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fs "http://$host/v2/" > /dev/null 2>&1 && break; sleep 0.05; done
# shellcheck source=bench/oci-image.sh
source "$bench/oci-image.sh"
manifest=$(push_image "$work" "$repo/dist" "$host/bench/app:v1")
image=oci://$host/bench/app@sha256:$manifest
mkdir -p "$work/oci/empty" && cp "$repo/package.key" "$repo/package.pub" "$work/oci/"
(cd "$work/oci" && "$hm" attest --subject "$image" --provenance --key package.key \
  --allow-insecure-registry "$host" --store store 2> /dev/null)
python3 "$gen" oversize-referrer "$work/referrer.json" "sha256:$manifest" \
  application/vnd.oci.image.manifest.v1+json 300000000
echo "            referrer manifest: $(stat -c%s "$work/referrer.json") bytes"
# Tagged as Hallmark tags referrers on registries without the referrers API (distribution 2.8):
# sha256-<subject hex>.<12 hex of the referrer>, which discovery reads.
referrer=$(sha256sum "$work/referrer.json" | cut -d' ' -f1)
curl -fs -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
  --data-binary @"$work/referrer.json" "http://$host/v2/bench/app/manifests/sha256-$manifest.${referrer:0:12}"
measure referrer "$work/oci" "$hm" verify "$image" --key package.pub \
  --allow-insecure-registry "$host" --store empty
measure pull "$work/oci" "$hm" pull "$image" --allow-insecure-registry "$host" --store pulled
