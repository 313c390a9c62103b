#!/usr/bin/env bash
# The air gap, end to end and offline, in a scratch directory (docs/evidence-bundle.md):
#   vendor builds and signs → transfer station exports a signed evidence bundle →
#   plant imports it (verified with the plant's own trust and policy first) → plant verifies
#   offline and deploys. Then a tampered copy of the bundle, which imports nothing.
#
#   bash examples/air-gap/walkthrough.sh            (HALLMARK=path/to/hallmark to pick a binary)
set -euo pipefail
hallmark=${HALLMARK:-$(command -v hallmark || echo "${CARGO_TARGET_DIR:-target}/debug/hallmark")}
hallmark=$(realpath "$hallmark")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }

say "vendor: a git repository, two signed build steps (vendor.key)"
mkdir -p "$work/vendor/src" && cd "$work/vendor"
git init -q . && git remote add origin https://git.example/vendor/firmware.git
echo 'int main(void) { return 0; }' > src/main.c
git add src && git -c user.name=v -c user.email=v@example commit -qm sources
"$hallmark" keygen --output vendor >/dev/null
"$hallmark" run --step build -m src -p out --key vendor.key -- sh -c 'mkdir -p out && cat src/*.c > out/fw.bin'
"$hallmark" run --step package -m out -p dist --key vendor.key -- sh -c 'mkdir -p dist && tar -cf dist/fw.tar out'
cat > release.yaml <<'YAML'
apiVersion: hallmark.dev/policy/v1
steps:
  build:   {signers: [vendor.pub], inputs: [source]}
  package: {signers: [vendor.pub], inputs: [build]}
sources:
  repositories: [https://git.example/vendor/firmware]
YAML

say "transfer station: verify with the vendor's key and policy, export one signed bundle"
"$hallmark" keygen --output station >/dev/null
"$hallmark" bundle export dist/fw.tar --key vendor.pub --policy release.yaml \
  --signing-key station.key --out "$work/fw-1.0.tar"
"$hallmark" bundle inspect "$work/fw-1.0.tar"

say "plant (offline): its own copies of the vendor and station keys, its own policy"
mkdir -p "$work/plant" && cd "$work/plant"
cp "$work/vendor/vendor.pub" "$work/vendor/station.pub" "$work/vendor/release.yaml" .
"$hallmark" keygen --output plant >/dev/null
"$hallmark" bundle import "$work/fw-1.0.tar" --exporter-key station.pub --key vendor.pub \
  --policy release.yaml --station line-3-transfer --custody-key plant.key \
  --store store --files-to delivered

say "plant: verify offline from the plant store, then deploy"
"$hallmark" verify delivered/fw.tar --key vendor.pub --policy release.yaml --store store
"$hallmark" verify delivered/fw.tar --key plant.pub --store store \
  --predicate-type https://hallmark.dev/custody/v1 >/dev/null && echo "custody record: verified"
mkdir -p deployed && cp delivered/fw.tar deployed/ && echo "deployed: deployed/fw.tar"

say "a tampered bundle imports nothing"
mkdir t && tar -xf "$work/fw-1.0.tar" -C t
blob=$("$hallmark" bundle inspect "$work/fw-1.0.tar" --format json \
  | python3 -c 'import json,sys; print([b["digest"] for b in json.load(sys.stdin)["manifest"]["blobs"] if b["role"]=="artifact"][0][7:])')
printf 'X' | dd of="t/blobs/sha256/$blob" bs=1 seek=0 conv=notrunc status=none
tar -cf tampered.tar -C t oci-layout index.json blobs
if "$hallmark" bundle import tampered.tar --exporter-key station.pub --key vendor.pub \
  --station line-3-transfer --custody-key plant.key --store store2; then
  echo "the tampered bundle was imported" >&2; exit 1
fi
[[ ! -e store2 ]] && echo "nothing imported: store2 was never created"
