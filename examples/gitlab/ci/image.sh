#!/bin/sh
# The image: an OCI image layout (one layer holding the package) built without a daemon, pushed
# with skopeo to $CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA using CI_REGISTRY_USER/CI_REGISTRY_PASSWORD.
# The layout (LAYOUT_DIR) is the step's product: its manifest blob's digest is the image digest.
# Writes the pinned reference to image.ref for the jobs after it.
set -eu
package="$1"
layout="$2"
rm -rf "$layout" && mkdir -p "$layout/blobs/sha256"
blob() { # FILE -> stores it, prints "sha256:HEX SIZE"
  h="$(sha256sum "$1" | cut -d' ' -f1)"
  cp "$1" "$layout/blobs/sha256/$h"
  echo "sha256:$h $(wc -c < "$1" | tr -d ' ')"
}
work="$(mktemp -d)"
mkdir -p "$work/root/app"
cp "$package" "$work/root/app/"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work/root" -cf "$work/layer.tar" app
set -- $(blob "$work/layer.tar"); layer="$1"; layer_size="$2"
printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["/app/app.tar"]},"rootfs":{"type":"layers","diff_ids":["%s"]}}' "$layer" > "$work/config.json"
set -- $(blob "$work/config.json"); config="$1"; config_size="$2"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
  "$config" "$config_size" "$layer" "$layer_size" > "$work/manifest.json"
set -- $(blob "$work/manifest.json"); manifest="$1"; manifest_size="$2"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"latest"}}]}' \
  "$manifest" "$manifest_size" > "$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
rm -rf "$work"
skopeo copy --quiet --preserve-digests ${SKOPEO_DEST_FLAGS:-} \
  --dest-creds "$CI_REGISTRY_USER:$CI_REGISTRY_PASSWORD" \
  "oci:$layout:latest" "docker://$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA"
echo "oci://$CI_REGISTRY_IMAGE@$manifest" > image.ref
echo "pushed $CI_REGISTRY_IMAGE@$manifest"
