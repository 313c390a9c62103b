#!/usr/bin/env bash
# A plant, end to end and offline, in a scratch directory (docs/index.md, docs/report.md):
#   CI builds two releases of an HMI application (signed step provenance and an SBOM) → the
#   release manager approves each for production → operations deploys them to two lines, the
#   deployment gate refusing a release that is not approved yet, and rolls one line back → the
#   MES records production lots → everything is verified into the evidence index → the two
#   questions an investigation asks are answered → the compliance report is written → the
#   HMI's install folder is audited against the evidence.
#
#   bash examples/plant/walkthrough.sh          (HALLMARK=path/to/hallmark to pick a binary;
#                                                KEEP=DIR to keep the scratch directory)
set -euo pipefail
hallmark=${HALLMARK:-$(command -v hallmark || echo "${CARGO_TARGET_DIR:-target}/debug/hallmark")}
hallmark=$(realpath "$hallmark")
work=${KEEP:-$(mktemp -d)}
mkdir -p "$work"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT
say() { printf '\n== %s\n' "$*"; }
now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
tick() { sleep 1.1; }   # records are stamped to the second: keep events apart

cd "$work"
say "keys: CI (build.key), the release manager (rm.key), the release gate (gate.key), operations (ops.key), the MES (mes.key)"
for k in build rm gate ops mes; do "$hallmark" keygen --output "$k" > /dev/null; done
cat > release.yaml <<'YAML'
apiVersion: hallmark.dev/policy/v1
steps:
  build:   {signers: [build.pub], inputs: [source]}
  package: {signers: [build.pub], inputs: [build]}
sources: {repositories: [https://git.example/plant/hmi]}
approvals: {required: 1, approvers: [rm.pub]}
deployments: {requireApproval: true, deployers: [ops.pub]}
YAML

release() {   # release VERSION: build and package the HMI application from a commit
  local version=$1
  mkdir -p src && echo "const char *version = \"$version\";" > src/version.c
  git add src && git -c user.name=ci -c user.email=ci@plant.example commit -qm "hmi $version"
  "$hallmark" run --step build -m src -p out --key build.key -- \
    sh -c 'mkdir -p out && cat src/*.c > out/hmi.bin' 2> /dev/null
  "$hallmark" run --step package -m out -p "dist/$version" --key build.key -- \
    sh -c "mkdir -p dist/$version && tar -cf dist/$version/hmi.tar out" 2> /dev/null
  cat > "sbom-$version.cdx.json" <<JSON
{"bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1,
 "components": [{"type": "library", "name": "opcua-stack", "version": "1.5.$version",
                 "purl": "pkg:generic/opcua-stack@1.5.$version"}]}
JSON
  "$hallmark" attest --subject "dist/$version/hmi.tar" --sbom "sbom-$version.cdx.json" --key build.key 2> /dev/null
  echo "built hmi $version: $(git rev-parse HEAD)"
}

say "CI: two releases of the HMI application, each from its own commit"
git init -q . && git remote add origin https://git.example/plant/hmi.git
release 1
release 2
v1=dist/1/hmi.tar; v2=dist/2/hmi.tar
commit1=$(git rev-parse HEAD~1)

say "release manager: approve release 1 for production"
"$hallmark" approve "$v1" --reason "validated on the pilot line" --environment production \
  --ticket CHG-101 --key rm.key

gate() {   # gate ARTIFACT: decide it for production, and keep the decision as a signed VSA
  "$hallmark" verify "$1" --policy release.yaml --key build.pub \
    --key rm.pub --emit-vsa "$1.vsa.json" --vsa-signing-key gate.key > /dev/null
  echo "release gate: $1 ALLOWED for production; VSA stored"
}
gate "$v1"

say "operations: deploy release 1 to both lines (the gate decides first: policy, environment)"
deploy() {   # deploy ARTIFACT TARGET [more record flags]
  local artifact=$1 target=$2; shift 2
  "$hallmark" record deployment "$artifact" --target "$target" --environment production \
    --policy release.yaml --key ops.key "$@"
}
deploy "$v1" plant-a/line-1/hmi-1 --first --change CHG-101
deploy "$v1" plant-a/line-2/hmi-1 --first --change CHG-101
tick

say "MES: lot L-001 on line 1 and lot L-002 on line 2, made while release 1 ran"
start=$(now); tick
"$hallmark" record lot L-001 --target plant-a/line-1 --from "$start" --to "$(now)" --product valve-body --key mes.key
"$hallmark" record lot L-002 --target plant-a/line-2 --from "$start" --to "$(now)" --product valve-body --key mes.key
tick

say "operations: release 2 on line 1 before its approval: the gate refuses, nothing is recorded"
if deploy "$v2" plant-a/line-1/hmi-1 --change CHG-102; then
  echo "a release without an approval was recorded" >&2; exit 1
fi

say "release manager approves release 2; operations deploys it on line 1"
"$hallmark" approve "$v2" --reason "fixes alarm latency" --environment production --ticket CHG-102 --key rm.key
gate "$v2"
deploy "$v2" plant-a/line-1/hmi-1 --change CHG-102
tick
during2=$(now); tick
"$hallmark" record lot L-003 --target plant-a/line-1 --from "$during2" --to "$(now)" --product valve-body --key mes.key
tick

say "operations: line 1 rolls back to release 1 (a recorded, approved deployment; it replaces release 2)"
deploy "$v1" plant-a/line-1/hmi-1 --change CHG-103
tick

say "quality: verify everything into the evidence index (.hallmark/index.sqlite)"
"$hallmark" index add --key build.pub --key rm.pub --key gate.pub --key ops.pub --key mes.pub

digest1=sha256:$(sha256sum "$v1" | cut -d' ' -f1)
say "question 1: which lots were produced while release 1 ($digest1) was running, and where?"
"$hallmark" trace forward --digest "$digest1"
lots=$("$hallmark" trace forward --digest "$digest1" --format json \
  | python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted({l["lot"] for a in d["artifacts"] for w in a["deployments"] for l in w["lots"]})))')
[ "$lots" = "L-001 L-002" ] || { echo "expected lots L-001 L-002 from release 1, got: $lots" >&2; exit 1; }

say "question 1, by source: the same from release 1's commit"
"$hallmark" trace forward --commit "$commit1" > /dev/null

say "question 2: where did the software on line 1's HMI come from while lot L-003 was made, who approved it?"
"$hallmark" trace backward --target plant-a/line-1/hmi-1 --at "$during2"
"$hallmark" trace backward --lot L-003 --format json \
  | python3 -c 'import json,sys,os; d=json.load(sys.stdin); r=[w["artifact"] for w in d["running"]]; assert len(r)==1, r; print("lot L-003 ran with", r[0])'

say "compliance: the NIST SP 800-53 report (HTML for people, OSCAL for the GRC tool)"
roles=(--approver-key rm.pub --deployer-key ops.pub)
"$hallmark" report --controls nist-800-53 "${roles[@]}" -o report.html 2>&1 | tee report.log
grep -q "8 of 8 controls satisfied" report.log || { echo "expected every control satisfied" >&2; exit 1; }
"$hallmark" report --controls nist-800-53 "${roles[@]}" --format oscal -o assessment-results.json

say "audit: line 1's HMI install folder (release 1 back in service, plus a hand-copied DLL)"
mkdir -p hmi-install && cp "$v1" hmi-install/ && echo "hotfix from a USB stick" > hmi-install/patch.dll
if "$hallmark" audit --dir hmi-install --target plant-a/line-1/hmi-1 --deployer-key ops.pub; then
  echo "the audit missed the unattested DLL" >&2; exit 1
fi
rm hmi-install/patch.dll
"$hallmark" audit --dir hmi-install --target plant-a/line-1/hmi-1 --deployer-key ops.pub
echo
echo "done: report.html, assessment-results.json and the index are in $work${KEEP:+ (kept)}"
