#!/usr/bin/env bash
# Peak memory and throughput of `hallmark bundle export` and `bundle import` for one large file
# artifact (2 GiB by default): the bundle streams, so peak RSS must not grow with the artifact.
#
#   bash bench/evidence-bundle.sh [SIZE_MIB]      (default 2048)
#
# HALLMARK (default target/release/hallmark, else $CARGO_TARGET_DIR/debug/hallmark) is measured
# with GNU time (`/usr/bin/time -v`, Debian `time`). Needs 3 x SIZE of free disk in $TMPDIR.
# Results go to stdout as a Markdown table row per command; docs/benchmarks.md records them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
size_mib=${1:-2048}
hallmark=${HALLMARK:-}
if [[ -z $hallmark ]]; then
  for candidate in target/release/hallmark "${CARGO_TARGET_DIR:-target}/release/hallmark" \
    "${CARGO_TARGET_DIR:-target}/debug/hallmark"; do
    [[ -x $candidate ]] && { hallmark=$candidate; break; }
  done
fi
[[ -x ${hallmark:-} ]] || { echo "build hallmark first (cargo build -p hallmark-cli --release)" >&2; exit 2; }
hallmark=$(realpath "$hallmark")
[[ -x /usr/bin/time ]] || { echo "needs GNU time: apt-get install time" >&2; exit 2; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$hallmark" keygen --output vendor >/dev/null 2>&1
"$hallmark" keygen --output station >/dev/null 2>&1
"$hallmark" keygen --output plant >/dev/null 2>&1
echo "bench: writing a ${size_mib} MiB artifact" >&2
head -c "$((size_mib * 1024 * 1024))" /dev/urandom > big.bin
"$hallmark" attest --subject big.bin --provenance --key vendor.key --store vendor-store >/dev/null 2>&1

measure() { # LABEL COMMAND...
  local label=$1; shift
  /usr/bin/time -v "$@" > "$label.out" 2> "$label.time" || { cat "$label.time" >&2; exit 1; }
  local rss wall
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$label.time")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$label.time")
  local secs
  secs=$(awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }' <<< "$wall")
  printf '| %s | %d MiB | %s MiB | %s s | %s MiB/s |\n' "$label" "$size_mib" \
    "$(awk -v k="$rss" 'BEGIN { printf "%.1f", k / 1024 }')" "$secs" \
    "$(awk -v s="$secs" -v m="$size_mib" 'BEGIN { printf "%.0f", (s > 0 ? m / s : 0) }')"
}

echo "| command | artifact | peak RSS | wall time | throughput |"
echo "|---|---|---|---|---|"
measure "bundle export" "$hallmark" bundle export big.bin --key vendor.pub --signing-key station.key \
  --store vendor-store --out bundle.tar
rm big.bin
measure "bundle import" "$hallmark" bundle import bundle.tar --exporter-key station.pub --key vendor.pub \
  --station bench --custody-key plant.key --store plant/store
measure "bundle inspect" "$hallmark" bundle inspect bundle.tar
