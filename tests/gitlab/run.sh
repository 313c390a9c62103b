#!/usr/bin/env bash
# The GitLab example, run for real offline: gitlab-ci-local (shell executor, artifacts isolated
# between jobs) runs examples/gitlab/.gitlab-ci.yml with Hallmark's component, signing keyless
# against the local Sigstore services (hallmark-testsvc: OIDC with GitLab's ID-token claims,
# Fulcio, Rekor, TSA) and pushing to a local docker-registry with htpasswd auth
# (CI_REGISTRY_USER/CI_REGISTRY_PASSWORD). Then:
#   - the policy `hallmark policy init --from` derives allows the real run (the pipeline's own
#     gate job and `hallmark verify --policy` afterwards), and `policy diff` finds no drift with
#     the committed examples/gitlab/release.yaml;
#   - a job that slips an unattested file in is denied, naming the file;
#   - an artifact swapped between jobs (the test job hands over a rewritten out/app) is denied;
#   - the same pipeline without its test job is denied (step.missing);
# and the overhead per recorded step is printed (HALLMARK_BENCH_OUT gets it as a line).
#
# `include: component:` resolves only against a GitLab server (the catalog), so the pipeline is
# run with the same include rewritten to `include: local: templates/hallmark.yml` (the same
# file, the same inputs). gitlab-ci-local comes from scripts/install-test-deps.sh.
set -euo pipefail
cd "$(dirname "$0")/../.."
root="$PWD"
project=acme/app
gcl="${HALLMARK_GITLAB_CI_LOCAL:-$HOME/.cache/hallmark/gitlab-ci-local/node_modules/.bin/gitlab-ci-local}"
[ -x "$gcl" ] || { echo "gitlab: no gitlab-ci-local at $gcl; run scripts/install-test-deps.sh" >&2; exit 2; }
command -v rsync > /dev/null || { echo "gitlab: rsync missing; run scripts/install-test-deps.sh" >&2; exit 2; }
cargo build -q -p hallmark-cli -p hallmark-testsvc
target="${CARGO_TARGET_DIR:-$PWD/target}"
bin="$target/debug"
hallmark="$bin/hallmark"
work="$(mktemp -d)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; [ -n "${HALLMARK_KEEP_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok: $1"; }
fail() { failed=$((failed + 1)); echo "FAILED: $1"; [ -f "${2:-/dev/null}" ] && tail -n 60 "$2"; }

only=()
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The registry: docker-registry with htpasswd (the project's CI_REGISTRY_USER/_PASSWORD).
rport="$(free_port)"
mkdir -p "$work/registry"
htpasswd -Bbn gitlab-ci-token job-token-pw > "$work/registry/htpasswd" 2> /dev/null
cat > "$work/registry/config.yml" <<YML
version: 0.1
log: {level: error}
storage: {filesystem: {rootdirectory: $work/registry/data}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$rport}
auth: {htpasswd: {realm: hallmark-test, path: $work/registry/htpasswd}}
YML
docker-registry serve "$work/registry/config.yml" > "$work/registry.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$rport") 2> /dev/null && break; sleep 0.1; done
registry="127.0.0.1:$rport"

# A project checkout of the example, as gitlab.com/acme/app on main.
make_project() { # DIR
  local dir="$1"
  mkdir -p "$dir/templates"
  cp -r "$root/examples/gitlab/." "$dir/"
  cp "$root/templates/hallmark.yml" "$dir/templates/hallmark.yml"
  sed -i 's|^  - component: \$CI_SERVER_FQDN/hallmark-dev/hallmark/hallmark@.*$|  - local: templates/hallmark.yml|' "$dir/.gitlab-ci.yml"
  grep -q 'local: templates/hallmark.yml' "$dir/.gitlab-ci.yml" || { echo "gitlab: include not rewritten"; exit 2; }
  # The test services stand in for the public-good instance and the registry speaks plain HTTP.
  # Their addresses come in as variables (the services start after the commit the token names).
  sed -i 's|      signing: keyless|      signing: keyless\n      fulcio-url: $TEST_SIGSTORE/fulcio\n      rekor-url: $TEST_SIGSTORE/rekor\n      timestamp-server: $TEST_SIGSTORE/tsa/api/v1/timestamp\n      trusted-root: $TEST_TRUSTED_ROOT\n      allow-insecure-registry: $CI_REGISTRY\n      download-url: $TEST_DOWNLOAD_URL|' "$dir/.gitlab-ci.yml"
  (cd "$dir" && git init -q -b main && git remote add origin "https://gitlab.com/$project.git" \
    && git add -A && git -c user.email=ci@example.test -c user.name=ci commit -qm "example")
}
run_pipeline() { # NAME FILE POLICY [BRANCH TOKEN] -> exit code of gitlab-ci-local; the run is in $work/NAME
  local dir="$work/$1" file="$2" policy="$3" log="$work/$1.log" token="${5:-$token}"
  git clone -q "$work/project" "$dir"
  git -C "$dir" remote set-url origin "${origin_url:-https://gitlab.com/$project.git}"
  [ -z "${4:-}" ] || git -C "$dir" checkout -q -b "$4"
  local rc=0
  (cd "$dir" && PATH="${job_path:-$bin:$PATH}" "$gcl" --shell-executor-no-image --shell-isolation --no-color \
    --file "$file" \
    --timestamps --variable GITLAB_CI=true --variable "SIGSTORE_ID_TOKEN=$token" \
    --variable "CI_REGISTRY=$registry" --variable "CI_REGISTRY_IMAGE=$registry/$project" \
    --variable CI_REGISTRY_USER=gitlab-ci-token --variable CI_REGISTRY_PASSWORD=job-token-pw \
    --variable "SKOPEO_DEST_FLAGS=--dest-tls-verify=false" --variable "HALLMARK_POLICY=$policy" \
    --variable "TEST_SIGSTORE=$svc" --variable "TEST_TRUSTED_ROOT=$work/svc/trusted_root.json" \
    --variable "TEST_DOWNLOAD_URL=${download_url:-}" "${only[@]}" > "$log" 2>&1) || rc=$?
  return $rc
}

# The project: the example, and the variants the negative cases run, in one commit (the one the
# ID token names).
make_project "$work/project"
(
  cd "$work/project"
  mkdir variants
  python3 - <<'PY'
import re
base = open(".gitlab-ci.yml").read()
def sub(text, old, new):
    assert old in text, old
    return text.replace(old, new)
# A job that slips an unattested file into what package consumes.
sneak = sub(base, "package:\n  stage: package\n  extends: .hallmark-record\n  needs: [build, test]",
            "package:\n  stage: package\n  extends: .hallmark-record\n  needs: [build, test, sneak]")
sneak += "\nsneak:\n  stage: test\n  needs: []\n  script:\n    - mkdir -p out && echo injected > out/extra.txt\n  artifacts:\n    paths: [out/extra.txt]\n"
open("variants/sneak.yml", "w").write(sneak)
# The test job hands over a rewritten out/app, and package takes out/ from it.
swap = sub(base, 'HALLMARK_PRODUCTS: "reports"\n    HALLMARK_COMMAND: "sh tests/run.sh"\n  artifacts:\n    paths: [reports/, .hallmark/bundles/]',
           'HALLMARK_PRODUCTS: "reports out"\n    HALLMARK_COMMAND: "sh tests/run.sh && echo patched >> out/app"\n  artifacts:\n    paths: [reports/, out/, .hallmark/bundles/]')
swap = sub(swap, "extends: .hallmark-record\n  needs: [build, test]", "extends: .hallmark-record\n  needs: [test]")
open("variants/swap.yml", "w").write(swap)
# The test job removed.
start = base.index("test:\n  stage: test")
end = base.index("package:\n")
notest = base[:start] + base[end:]
notest = sub(notest, "needs: [build, test]\n", "needs: [build]\n")
notest = sub(notest, 'HALLMARK_MATERIALS: "out reports"', 'HALLMARK_MATERIALS: "out"')
notest = sub(notest, "-cf dist/app.tar out reports", "-cf dist/app.tar out")
notest = sub(notest, "needs: [build, test, package, container, attest-image]", "needs: [build, package, container, attest-image]")
open("variants/no-test.yml", "w").write(notest)
PY
  git add -A && git -c user.email=ci@example.test -c user.name=ci commit -qm "variants"
)
sha="$(git -C "$work/project" rev-parse HEAD)"

# The services: Sigstore on loopback with a GitLab ID token for acme/app at refs/heads/main.
claims() { # REF -> the claims of GitLab's ID token for a branch pipeline of $project at REF
  echo "{\"sub\":\"project_path:$project:ref_type:branch:ref:$1\",\"project_path\":\"$project\",\"namespace_path\":\"acme\",\"ref\":\"$1\",\"ref_type\":\"branch\",\"ci_config_ref_uri\":\"gitlab.com/$project//.gitlab-ci.yml@refs/heads/$1\",\"sha\":\"$sha\",\"runner_environment\":\"self-hosted\"}"
}
claims="[$(claims main),$(claims feature)]"
HALLMARK_TESTSVC_CLAIMS="$claims" "$bin/hallmark-testsvc" "$work/svc" 3600 2> "$work/svc.log" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/svc/url" ] && break; sleep 0.1; done
[ -s "$work/svc/url" ] || { echo "gitlab: testsvc did not start"; cat "$work/svc.log"; exit 2; }
svc="$(cat "$work/svc/url")"
token="$(cat "$work/svc/token")"


issuer="$svc/oidc"

# The policy, derived from the example pipeline; the committed one differs only in its issuer.
(cd "$work/project" && "$hallmark" policy init --from .gitlab-ci.yml --issuer "$issuer" \
  --output "$work/release.yaml" 2> "$work/init.log") && ok "policy init --from the example" \
  || fail "policy init --from the example" "$work/init.log"
cat "$work/release.yaml"
grep -q "repository https://gitlab.com/$project (from the git remote origin)" "$work/init.log" \
  && ok "the repository comes from the git remote origin, and says so" || fail "repository from origin" "$work/init.log"
code=0
(cd "$work/project" && "$hallmark" policy init --from .gitlab-ci.yml -o "$work/release.yaml" > "$work/init2.log" 2>&1) || code=$?
[ "$code" = 2 ] && grep -q -- "--force" "$work/init2.log" && ok "policy init does not overwrite a policy without --force" \
  || fail "policy init over an existing file (exit $code)" "$work/init2.log"
code=0
(cd "$root/examples/gitlab" && "$hallmark" policy diff --from .gitlab-ci.yml \
  --repository "https://gitlab.com/$project" release.yaml > "$work/diff.log" 2>&1) || code=$?
[ "$code" = 0 ] && ok "examples/gitlab/release.yaml has no drift from the pipeline" \
  || fail "examples/gitlab/release.yaml drifted (exit $code)" "$work/diff.log"

code=0
"$hallmark" policy diff --from .gitlab-ci.yml --repository https://gitlab.com/hallmark-dev/hallmark \
  --ref 'refs/tags/v*' release-policy.yaml > "$work/diff-own.log" 2>&1 || code=$?
[ "$code" = 0 ] && ok "release-policy.yaml has no drift from the project's .gitlab-ci.yml" \
  || fail "release-policy.yaml drifted (exit $code)" "$work/diff-own.log"
# A drifted policy is reported (exit 1), naming the step.
sed 's/"test": \["reports", "reports\/\*\*"\]/"build": ["reports\/**"]/' "$root/examples/gitlab/release.yaml" > "$work/drifted.yaml"
code=0
(cd "$root/examples/gitlab" && "$hallmark" policy diff --from .gitlab-ci.yml \
  --repository "https://gitlab.com/$project" "$work/drifted.yaml" > "$work/diff-drifted.log" 2>&1) || code=$?
[ "$code" = 1 ] && grep -q 'drift steps.package.inputs' "$work/diff-drifted.log" \
  && ok "policy diff reports a drifted policy (exit 1)" || fail "policy diff on a drifted policy (exit $code)" "$work/diff-drifted.log"

# 1. The example as it is: every job passes, the gate allows.
start=$(date +%s%N)
if run_pipeline good .gitlab-ci.yml "$work/release.yaml"; then ok "the example pipeline passes, its gate allows"
else fail "the example pipeline" "$work/good.log"; fi
end=$(date +%s%N)
grep -q 'PASS .*release-gate' "$work/good.log" && ok "the release-gate job passed" || fail "release-gate" "$work/good.log"
image="$(cat "$work/good/.gitlab-ci-local/artifacts/container/image.ref" 2> /dev/null || true)"
[ -n "$image" ] || fail "no image.ref from the container job" "$work/good.log"

# After the pipeline: the image verifies from the registry (its step's attestation was pushed by
# the attest job) plus the upstream bundles the jobs left as artifacts, with an empty store.
verify() { # NAME -> hallmark verify on that run's image, output in $work/NAME.verify
  local arts="$work/$1/.gitlab-ci-local/artifacts" args=()
  for job in build test package; do
    [ -f "$arts/$job/.hallmark/bundles/$job.sigstore.json" ] && args+=(--bundle "$arts/$job/.hallmark/bundles/$job.sigstore.json")
  done
  local ref; ref="$(cat "$arts/container/image.ref")"
  mkdir -p "$work/empty-store"
  HALLMARK_REGISTRY="$registry" HALLMARK_REGISTRY_USERNAME=gitlab-ci-token HALLMARK_REGISTRY_PASSWORD=job-token-pw \
    "$hallmark" verify "$ref" --policy "$work/release.yaml" "${args[@]}" --store "$work/empty-store" \
    --trusted-root "$work/svc/trusted_root.json" --allow-insecure-registry "$registry" --format json \
    > "$work/$1.verify" 2> "$work/$1.verify.err"
}
# Every verify document these pipelines make is held to the JSON contract (docs/schemas).
venv="${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}"
schema_ok() { # FILE -> ok/fail against verify-v1.json
  if "$venv/bin/check-jsonschema" --schemafile "$root/docs/schemas/verify-v1.json" "$1" > "$1.schema" 2>&1
  then ok "$(basename "$1"): valid against docs/schemas/verify-v1.json"
  else fail "$(basename "$1") does not match docs/schemas/verify-v1.json" "$1.schema"; fi
}
code=0; verify good || code=$?
schema_ok "$work/good.verify"
[ "$code" = 0 ] && ok "hallmark verify --policy allows the run (the image step from the registry)" \
  || fail "verify after the example (exit $code)" "$work/good.verify"
python3 - "$work/good.verify" <<'PY' && ok "the chain is container <- package <- build, test" || fail "chain" "$work/good.verify"
import json, sys
doc = json.load(open(sys.argv[1]))
steps = sorted(s["step"] for s in doc["chain"]["steps"])
assert steps == ["build", "container", "package", "test"], steps
origins = [s["origin"] for s in doc["chain"]["steps"] if s["step"] == "container"]
assert origins and origins[0].startswith("registry "), origins
PY

# 2-4. The variants: each gate denies, and verify afterwards names the rule and the file.
expect_denied() { # NAME FILE CODE TEXT [BRANCH TOKEN]
  local name="$1" file="$2" want="$3" text="$4" code=0
  run_pipeline "$name" "$file" "$work/release.yaml" "${5:-}" "${6:-}" || code=$?
  if [ "$code" != 0 ] && grep -q 'FAIL .*release-gate' "$work/$name.log" && grep -q -- "$want" "$work/$name.log"; then
    ok "$name: the pipeline's gate denies ($want)"
  else
    fail "$name: the gate did not deny with $want (gitlab-ci-local exit $code)" "$work/$name.log"
  fi
  code=0; verify "$name" || code=$?
  schema_ok "$work/$name.verify"
  if [ "$code" = 1 ] && python3 - "$work/$name.verify" "$want" "$text" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
hits = [v for v in doc["violations"] if v.get("code", "").endswith(sys.argv[2].split(": ")[-1]) and sys.argv[3] in v.get("message", "")]
assert hits, [(v.get("code"), v.get("message")) for v in doc["violations"]]
PY
  then ok "$name: verify --policy denies with $want naming $text"
  else fail "$name: verify (exit $code) did not deny with $want naming $text" "$work/$name.verify"; fi
}
expect_denied sneak variants/sneak.yml chain.unattested-input out/extra.txt
expect_denied swap variants/swap.yml chain.input-from-wrong-step out/app
expect_denied no-test variants/no-test.yml step.missing '"test"'
# 5. The same pipeline on an unprotected branch, with that branch's ID token: its certificates
#    name .gitlab-ci.yml@refs/heads/feature, which the policy does not trust for any step.
code=0
run_pipeline feature .gitlab-ci.yml "$work/release.yaml" feature "$(cat "$work/svc/token-1")" || code=$?
[ "$code" != 0 ] && grep -q 'FAIL .*release-gate' "$work/feature.log" && ok "feature: the pipeline's gate denies" \
  || fail "feature: the gate did not deny (exit $code)" "$work/feature.log"
code=0; verify feature || code=$?
if [ "$code" = 1 ] && python3 - "$work/feature.verify" 2>> "$work/feature.verify" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
bundles = [a for a in doc["attestations"] if "/feature/" in a["origin"]]
assert len(bundles) == 3 and all(a.get("code") == "sigstore.identity.mismatch" and "refs/heads/feature" in a["reason"] for a in bundles), bundles
assert any(v["code"] == "step.missing" for v in doc["violations"]), doc["violations"]
PY
then ok "feature: its steps are refused for their identity (sigstore.identity.mismatch), so steps are missing"
else fail "feature: verify (exit $code)" "$work/feature.verify"; fi
# 6. A run on the unprotected branch signed with the main branch's identity (a token the policy
#    trusts): the source ref the steps record is not an allowed ref.
expect_denied stolen-token .gitlab-ci.yml source.ref-not-allowed 'refs/heads/feature' feature "$token"
# 7. A fork's pipeline with a token the policy trusts: the steps record another repository.
origin_url=https://gitlab.com/evil/app.git expect_denied fork .gitlab-ci.yml source.untrusted 'gitlab.com/evil/app' '' "$token"

# 8. Without hallmark on PATH the component installs the pinned release: the archive and
#    SHA256SUMS (scripts/release.sh's layout) served on loopback; a SHA256SUMS that does not
#    match the archive stops the job before anything runs.
release_dir="$work/releases/v0.1.0"
name=hallmark-0.1.0-x86_64-unknown-linux-musl
mkdir -p "$release_dir/$name" "$work/nohallmark"
# Stripped (the code is the same): the debug build is 300 MB to gzip, unpack and copy.
strip -o "$release_dir/$name/hallmark" "$hallmark"
tar -C "$release_dir" -cf - "$name" | gzip -1 > "$release_dir/$name.tar.gz"
rm -rf "${release_dir:?}/$name"
(cd "$release_dir" && sha256sum "$name.tar.gz" > SHA256SUMS)
hport="$(free_port)"
python3 -m http.server --bind 127.0.0.1 --directory "$work/releases" "$hport" > /dev/null 2>&1 &
pids+=($!)
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$hport") 2> /dev/null && break; sleep 0.1; done
# PATH without hallmark: the tools the jobs use, linked into one directory.
for tool in node sh bash env git rsync skopeo tar gzip curl sha256sum grep cut mkdir mv cp cat sed chmod rm mktemp wc tr printf ls dirname basename id uname awk head tail sort find xargs stat touch ln readlink date sleep tee; do
  p="$(command -v "$tool" 2> /dev/null || true)"; [ -n "$p" ] && ln -sf "$p" "$work/nohallmark/$tool"
done
only=(build)
code=0
download_url="http://127.0.0.1:$hport" job_path="$work/nohallmark" run_pipeline install .gitlab-ci.yml "$work/release.yaml" || code=$?
[ "$code" = 0 ] && grep -q 'build .*hallmark: step "build"' "$work/install.log" && grep -q "$name.tar.gz: OK" "$work/install.log" \
  && ok "the component installs the release checked against SHA256SUMS and records the step" \
  || fail "install from the release (exit $code)" "$work/install.log"
echo "0000000000000000000000000000000000000000000000000000000000000000  $name.tar.gz" > "$release_dir/SHA256SUMS"
code=0
download_url="http://127.0.0.1:$hport" job_path="$work/nohallmark" run_pipeline install-tampered .gitlab-ci.yml "$work/release.yaml" || code=$?
[ "$code" != 0 ] && grep -q "$name.tar.gz: FAILED" "$work/install-tampered.log" && ! grep -q 'hallmark: step "build"' "$work/install-tampered.log" \
  && ok "a release that does not match SHA256SUMS stops the job" || fail "tampered release (exit $code)" "$work/install-tampered.log"
only=()
rm -rf "$work/releases"

# 9. The package, not the image, offered as the release: it comes from the wrong step.
arts="$work/good/.gitlab-ci-local/artifacts"
code=0
"$hallmark" verify "$arts/package/dist/app.tar" --policy "$work/release.yaml" \
  --bundle "$arts/build/.hallmark/bundles/build.sigstore.json" --bundle "$arts/test/.hallmark/bundles/test.sigstore.json" \
  --bundle "$arts/package/.hallmark/bundles/package.sigstore.json" --store "$work/empty-store" \
  --trusted-root "$work/svc/trusted_root.json" > "$work/artifact-from.verify" 2>&1 || code=$?
[ "$code" = 1 ] && grep -q 'chain.artifact-from-wrong-step' "$work/artifact-from.verify" \
  && ok "the package offered as the release is denied (chain.artifact-from-wrong-step)" \
  || fail "package as the release (exit $code)" "$work/artifact-from.verify"

# Overhead per recorded step, from gitlab-ci-local's timestamps (ms since the job started):
# `hallmark run` (hash, run the command, sign keyless with Fulcio + Rekor + TSA, store, write
# the bundle) from its command line to its summary line; the attest job's `hallmark push`; and
# each record job as a whole (shell start, artifacts in and out, the install check).
if python3 - "$work/good.log" <<'PY' > "$work/bench.txt"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
# gitlab-ci-local prints pretty-hrtime durations: "850 ms", then "1.2 s", "1.1 min" as a job runs on.
UNIT = {"ns": 1e-6, "μs": 1e-3, "ms": 1.0, "s": 1e3, "min": 6e4, "h": 3.6e6}
def ms(job, pattern):
    for l in lines:
        m = re.match(r"\[\S+\s+([0-9.]+) (ns|μs|ms|s|min|h)\] " + re.escape(job) + r"\s+" + pattern, l)
        if m:
            return float(m.group(1)) * UNIT[m.group(2)]
    sys.exit(f"figures not measured: no line of job {job} matches {pattern!r} in the log")
steps = ["build", "test", "package", "container"]
run = {j: ms(j, r"> hallmark: step ") - ms(j, r"\$ step=") for j in steps}
job = {j: ms(j, r"finished in") for j in steps}
push = ms("attest-image", r"> hallmark: pushed 1") - ms("attest-image", r"\$ image=")
print("hallmark run per step (ms): " + ", ".join(f"{j} {run[j]:.0f}" for j in steps)
      + f"; mean of build/test/package {sum(run[j] for j in steps[:3]) / 3:.0f}")
print(f"hallmark push of the image attestation (ms): {push:.0f}")
print("whole record job (ms): " + ", ".join(f"{j} {job[j]:.0f}" for j in steps))
PY
then cat "$work/bench.txt"; else echo "(the per-step figures are a report, not a gate)"; fi
echo "pipeline wall time: $(((end - start) / 1000000)) ms"
[ -n "${HALLMARK_BENCH_OUT:-}" ] && cp "$work/bench.txt" "$HALLMARK_BENCH_OUT"
echo "gitlab: $passed passed, $failed failed"
[ "$failed" = 0 ]
