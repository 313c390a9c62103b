#!/bin/sh
# sbom.sh TAR: a minimal CycloneDX 1.5 SBOM of the files in TAR (each file's name and SHA-256).
set -eu
tmp="$(mktemp -d)"
tar -xf "$1" -C "$tmp"
(cd "$tmp" && find . -type f | sort | while read -r f; do
  printf '%s %s\n' "$(sha256sum "$f" | cut -d' ' -f1)" "${f#./}"
done) | jq -Rn '{bomFormat: "CycloneDX", specVersion: "1.5", version: 1,
  components: [inputs | split(" ") | {type: "file", name: .[1], hashes: [{alg: "SHA-256", content: .[0]}]}]}'
rm -rf "$tmp"
