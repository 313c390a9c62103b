#!/usr/bin/env bash
# Peak memory of `hallmark bundle export oci://…` and `bundle import --to oci://…` for an image
# with one large layer (2 GiB by default) between two loopback `docker-registry` instances (the
# vendor's and the plant's): blobs stream registry → staging files → tar → staging → registry.
#
#   bash bench/evidence-bundle-image.sh [SIZE_MIB]     (default 2048)
#
# Needs docker-registry and skopeo (scripts/install-test-deps.sh), GNU time, curl, and 4 x SIZE
# of free disk in $TMPDIR (the registries' storage, the bundle, the staging directories).
# HALLMARK picks the binary (default target/release/hallmark, else $CARGO_TARGET_DIR/debug).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size_mib=${1:-2048}
hallmark=${HALLMARK:-}
for candidate in target/release/hallmark "${CARGO_TARGET_DIR:-target}/release/hallmark" \
  "${CARGO_TARGET_DIR:-target}/debug/hallmark"; do
  [[ -z $hallmark && -x $candidate ]] && hallmark=$candidate
done
[[ -x ${hallmark:-} ]] || { echo "build hallmark first" >&2; exit 2; }
hallmark=$(realpath "$hallmark")
# shellcheck source=bench/oci-image.sh
source bench/oci-image.sh
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
registry() { # NAME → prints host:port
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$work/$1-data" "$port" > "$work/$1.yml"
  docker-registry serve "$work/$1.yml" > /dev/null 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" > /dev/null 2>&1 && break; sleep 0.05; done
  echo "127.0.0.1:$port"
}
vendor=$(registry vendor)
plant=$(registry plant)
mkdir -p "$work/src"
echo "bench: writing a ${size_mib} MiB layer" >&2
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > "$work/src/big.bin"
manifest=$(push_image "$work" "$work/src" "$vendor/vendor/app:v1")
rm -rf "$work/src" "$work/layout" "$work/layer.tar"
cd "$work"
for k in vendor station plant; do "$hallmark" keygen --output "$k" >/dev/null 2>&1; done
"$hallmark" attest --subject "oci://$vendor/vendor/app@sha256:$manifest" --provenance --key vendor.key \
  --allow-insecure-registry "$vendor" --store vendor-store >/dev/null 2>&1

measure() { # LABEL COMMAND...
  local label=$1; shift
  local file=${label//[^a-z]/-}
  /usr/bin/time -v "$@" > "$file.out" 2> "$file.time" || { cat "$file.time" >&2; exit 1; }
  local rss wall secs
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$file.time")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$file.time")
  secs=$(awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<< "$wall")
  printf '| %s | %d MiB layer | %s MiB | %s s | %s MiB/s |\n' "$label" "$size_mib" \
    "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$secs" \
    "$(awk -v s="$secs" -v m="$size_mib" 'BEGIN { printf "%.0f", (s > 0 ? m / s : 0) }')"
}
echo "| command | artifact | peak RSS | wall time | throughput |"
echo "|---|---|---|---|---|"
measure "bundle export oci://" "$hallmark" bundle export "oci://$vendor/vendor/app:v1" --key vendor.pub \
  --signing-key station.key --store vendor-store --out bundle.tar --allow-insecure-registry "$vendor"
measure "bundle import --to oci://" "$hallmark" bundle import bundle.tar --exporter-key station.pub \
  --key vendor.pub --station bench --custody-key plant.key --store plant/store \
  --to "oci://$plant/plant/app:v1" --allow-insecure-registry "$plant"
"$hallmark" verify "oci://$plant/plant/app:v1" --key vendor.pub --store plant/store \
  --allow-insecure-registry "$plant" >/dev/null 2>&1 && echo "(the plant registry's copy verifies)" >&2
