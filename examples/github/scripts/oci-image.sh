#!/bin/sh
# oci-image.sh TAR DIR: a minimal OCI image layout in DIR with TAR as its one layer
# (uncompressed, so the digests are those of the bytes), reproducible for the same TAR.
# Prints the manifest digest.
set -eu
tar="$1"; dir="$2"
rm -rf "$dir"; mkdir -p "$dir/blobs/sha256"
blob() { # FILE: stored by its digest; prints "sha256:HEX SIZE"
  d="$(sha256sum "$1" | cut -d' ' -f1)"; cp "$1" "$dir/blobs/sha256/$d"; echo "sha256:$d $(wc -c < "$1" | tr -d ' ')"
}
layer="$(blob "$tar")"
tmp="$(mktemp -d)"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/out/hello"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
  "${layer% *}" > "$tmp/config"
config="$(blob "$tmp/config")"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
  "${config% *}" "${config#* }" "${layer% *}" "${layer#* }" > "$tmp/manifest"
manifest="$(blob "$tmp/manifest")"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "${manifest% *}" "${manifest#* }" > "$dir/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' > "$dir/oci-layout"
rm -rf "$tmp"
echo "${manifest% *}"
