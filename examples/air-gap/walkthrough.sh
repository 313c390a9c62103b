#!/usr/bin/env bash
# The air gap, end to end and offline, in a scratch directory (docs/evidence-bundle.md):
#   vendor builds, signs and attests an SBOM → transfer station exports a signed evidence
#   bundle → plant imports it (verified with the plant's own trust and policy first) → plant
#   verifies offline against the vendor's trust profile, reads the SBOM, and deploys. Then a
#   tampered copy of the bundle, which imports nothing, and the vendor key revoked by the plant.
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
cat > fw.cdx.json <<'JSON'
{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
 "metadata": {"component": {"type": "firmware", "name": "fw", "version": "1.0"}},
 "components": [
  {"type": "library", "name": "zlib", "version": "1.3.1", "purl": "pkg:generic/zlib@1.3.1",
   "licenses": [{"license": {"id": "Zlib"}}]},
  {"type": "library", "name": "openssl", "version": "3.0.15", "purl": "pkg:generic/openssl@3.0.15",
   "licenses": [{"license": {"id": "Apache-2.0"}}]}]}
JSON
"$hallmark" attest --subject dist/fw.tar --sbom fw.cdx.json --key vendor.key
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

say "plant: verify offline from the plant store against the vendor's trust profile, then deploy"
mkdir -p vendors
cat > vendors/acme.yaml <<'YAML'
apiVersion: hallmark.dev/vendor/v1
name: acme
keys: [../vendor.pub]
predicateTypes: [https://slsa.dev/provenance/v1, https://cyclonedx.org/bom]
maxAge: 30d
YAML
"$hallmark" verify delivered/fw.tar --key vendor.pub --policy release.yaml --store store
"$hallmark" verify delivered/fw.tar --vendor acme --vendors vendors --store store
"$hallmark" sbom delivered/fw.tar --key vendor.pub --store store
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

say "the plant's security team revokes the vendor key: the same delivery is denied from now on"
"$hallmark" revoke --name plant-security --sequence 1 --valid-for 30d --revoke-key vendor.pub \
  --reason "vendor key reported lost" --key plant.key --output plant.revocations.json
if "$hallmark" verify delivered/fw.tar --vendor acme --vendors vendors --store store \
  --revocations plant.revocations.json --revocation-key plant.pub; then
  echo "a revoked key still verified" >&2; exit 1
fi
echo "denied after the revocation (exit 1), as it must be"
