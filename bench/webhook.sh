#!/usr/bin/env bash
# Load on the admission webhook from a second process: cached decisions, uncached decisions (a
# different image each request), and a registry outage (fail closed).
#
#   bash bench/webhook.sh [SECONDS]      # needs docker-registry, skopeo, kubectl, wrk, openssl
#                                        # (scripts/install-test-deps.sh); default 20 s a run
#
# Builds hallmark and hallmark-webhook in release (honouring CARGO_TARGET_DIR), starts
# docker-registry on a loopback port, pushes and attests (SLSA provenance, key-signed) N images
# (default 100, $IMAGES), starts hallmark-webhook with a self-signed certificate, and drives it
# with wrk (bench/webhook.lua) over HTTPS with AdmissionReview v1 bodies made from
# `kubectl create deployment … --dry-run=client -o json`:
#
#   cached-digest  one image named by digest (what /validate sees after /mutate pinned it):
#                  a verdict cache hit, no registry call; 22 connections paced to about 2,000 requests/s
#   cached-tag     one image named by tag: the tag is resolved at the registry on every request
#                  (once per request, by design), then a cache hit; paced at about 2,000/s
#   saturated      cached-digest unpaced (the most the 2 cores give)
#   uncached       N images by tag, round robin, with the cache turned off (ttl 0): every
#                  request resolves, discovers, fetches and verifies; unpaced, 2 connections
#                  (uncached-c2) and 8
#   outage         the registry stopped, N images by tag, cache off: every request must be
#                  answered, denied (fail closed), within the deadline
#
# Prints a RESULT line per run and the server's peak RSS (VmHWM) after each.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
secs=${1:-20}
images=${IMAGES:-100}
cargo build --release -q -p hallmark-cli -p hallmark-webhook
target=${CARGO_TARGET_DIR:-target}
[[ $target = /* ]] || target=$PWD/$target
bin=$target/release
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The registry.
port=$(free_port)
host=127.0.0.1:$port
cat > "$work/registry.yml" <<YAML
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $work/data
http:
  addr: $host
YAML
docker-registry serve "$work/registry.yml" > /dev/null 2>&1 &
registry_pid=$!
pids+=("$registry_pid")
for _ in $(seq 100); do curl -fs "http://$host/v2/" > /dev/null 2>&1 && break; sleep 0.05; done

# Signed images.
# shellcheck source=bench/oci-image.sh
source bench/oci-image.sh
cd "$work"
"$bin/hallmark" keygen --output k 2> /dev/null
echo "pushing and attesting $images images..."
for n in $(seq "$images"); do
  mkdir -p "img$n/src"
  echo "bench image $n" > "img$n/src/hello.txt"
  push_image "$work/img$n" "$work/img$n/src" "$host/bench/app$n:v1" > "img$n/digest"
  "$bin/hallmark" attest --subject "oci://$host/bench/app$n@sha256:$(cat "img$n/digest")" --provenance \
    --key k.key --allow-insecure-registry "$host" --store store 2> /dev/null > /dev/null
done

# AdmissionReview bodies, one a line.
review() { # IMAGE
  kubectl create deployment app --image "$1" --dry-run=client -o json | python3 -c '
import json, sys, uuid
o = json.load(sys.stdin)
print(json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
  "uid": str(uuid.uuid4()), "kind": {"group": "apps", "version": "v1", "kind": "Deployment"},
  "resource": {"group": "apps", "version": "v1", "resource": "deployments"},
  "namespace": "default", "operation": "CREATE", "object": o}}, separators=(",", ":")))'
}
review "$host/bench/app1@sha256:$(cat img1/digest)" > digest.jsonl
review "$host/bench/app1:v1" > tag.jsonl
for n in $(seq "$images"); do review "$host/bench/app$n:v1"; done > many.jsonl

# The server.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout tls.key -out tls.crt 2> /dev/null
config() { # TTL
  cat > config.yaml <<YAML
apiVersion: hallmark.dev/admission/v1
deadline: 8s
trust:
  keys: [k.pub]
registries:
  insecure: ["$host"]
cache:
  ttl: $1
  denyTtl: $1
rules:
  - name: default
YAML
}
start() {
  aport=$(free_port)
  mport=$(free_port)
  "$bin/hallmark-webhook" --config config.yaml --tls-cert tls.crt --tls-key tls.key \
    --listen "127.0.0.1:$aport" --admin-listen "127.0.0.1:$mport" --shutdown-delay 0s > webhook.log &
  webhook_pid=$!
  pids+=("$webhook_pid")
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$mport/readyz" > /dev/null 2>&1 && break; sleep 0.05; done
}
stop() { kill "$webhook_pid"; wait "$webhook_pid" 2> /dev/null || true; }
load() { # NAME BODIES CONNECTIONS DELAY_MS
  curl -sk -o /dev/null -X POST --data-binary @<(head -1 "$2") "https://127.0.0.1:$aport/validate"
  printf '%-14s ' "$1"
  BODIES=$2 DELAY_MS=$4 wrk -t2 -c"$3" -d"${secs}s" --timeout 10s -s "$repo/bench/webhook.lua" \
    "https://127.0.0.1:$aport" | grep '^RESULT' | sed 's/^RESULT //'
  printf '%-14s %s; load average %s\n' "" "server $(grep VmHWM /proc/$webhook_pid/status | tr -s ' \t' ' ')" "$(cut -d' ' -f1-3 /proc/loadavg)"
}

config 10m
start
load cached-digest digest.jsonl 22 10
load cached-tag tag.jsonl 22 10
load saturated digest.jsonl 16 0
stop
config 0s
start
load uncached-c2 many.jsonl 2 0
load uncached many.jsonl 8 0
kill "$registry_pid"
load outage many.jsonl 16 0
stop
