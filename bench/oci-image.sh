# Sourced by the benchmarks: a one-layer image for a test registry.
#
#   push_image WORK SRC HOST/REPO:TAG   tars SRC (a directory) into the one layer of an OCI layout
#                                       under WORK, copies it with skopeo (plain HTTP, digests
#                                       preserved) and prints the manifest's hex digest
push_image() {
  local work=$1 src=$2 dest=$3
  local layout=$work/layout
  mkdir -p "$layout/blobs/sha256"
  put() { local h; h=$(sha256sum "$1" | cut -d' ' -f1); cp "$1" "$layout/blobs/sha256/$h"; echo "$h"; }
  tar -cf "$work/layer.tar" -C "$src" .
  local layer config manifest
  layer=$(put "$work/layer.tar")
  printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" > "$work/config.json"
  config=$(put "$work/config.json")
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%d},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:%s","size":%d}]}' \
    "$config" "$(stat -c%s "$work/config.json")" "$layer" "$(stat -c%s "$work/layer.tar")" > "$work/manifest.json"
  manifest=$(put "$work/manifest.json")
  printf '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%d,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]}' \
    "$manifest" "$(stat -c%s "$work/manifest.json")" > "$layout/index.json"
  skopeo copy --quiet --dest-tls-verify=false --preserve-digests "oci:$layout:v1" "docker://$dest"
  echo "$manifest"
}
