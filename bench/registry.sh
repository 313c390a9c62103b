#!/usr/bin/env bash
# Latency of attest+push and discover+verify against a loopback CNCF distribution registry.
#
#   bash bench/registry.sh        # needs docker-registry, skopeo, hyperfine (scripts/install-test-deps.sh, bench/setup.sh)
#
# Starts `docker-registry` on a free loopback port with temporary storage, pushes a one-layer
# image with skopeo, then times with hyperfine (3 warm-ups, 20 runs):
#   hallmark attest --subject oci://HOST/bench/app@DIGEST --provenance --key k.key   (sign, store, push)
#   hallmark verify oci://HOST/bench/app:v1 --key k.pub --store EMPTY                 (resolve, discover, verify)
# Every attest run adds one attestation, so verify is also timed after the runs with all of them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cargo build --release -q -p hallmark-cli
hallmark=$PWD/${CARGO_TARGET_DIR:-target}/release/hallmark
work=$(mktemp -d)
trap 'kill $registry_pid 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
host=127.0.0.1:$port
cat > "$work/config.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: $host
YAML
docker-registry serve "$work/config.yml" > /dev/null 2>&1 &
registry_pid=$!
for _ in $(seq 100); do curl -fs "http://$host/v2/" > /dev/null 2>&1 && break; sleep 0.05; done

# A one-layer image in an OCI layout, pushed with its digests preserved.
mkdir -p "$work/src"
echo bench > "$work/src/hello.txt"
# shellcheck source=bench/oci-image.sh
source bench/oci-image.sh
manifest=$(push_image "$work" "$work/src" "$host/bench/app:v1")

cd "$work"
"$hallmark" keygen --output k 2> /dev/null
mkdir empty
attest="$hallmark attest --subject oci://$host/bench/app@sha256:$manifest --provenance --key k.key --allow-insecure-registry $host --store store"
verify="$hallmark verify oci://$host/bench/app:v1 --key k.pub --allow-insecure-registry $host --store empty"
$attest 2> /dev/null
median() { python3 -c 'import json,sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%s: median %.1f ms, min %.1f ms (%d runs)" % (r["command"], r["median"] * 1000, r["min"] * 1000, len(r["times"])))' "$1"; }
hyperfine -N --warmup 3 --runs 20 -n "attest+push" "$attest" -n "discover+verify (growing)" "$verify" --export-json t1.json > /dev/null 2>&1
median t1.json
count=$($verify --format json 2> /dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["attestations"]))')
echo
echo "attestations on the image at the end: $count"
hyperfine -N --warmup 2 --runs 10 -n "discover+verify ($count attestations)" "$verify" --export-json t2.json > /dev/null 2>&1
median t2.json
