#!/usr/bin/env bash
# Installs what the tests need, idempotently: a Python venv with the independent verifiers
# (tests/interop/requirements.txt), Debian packages, and npm gitlab-ci-local (pinned) in a cache
# directory. Needs PyPI, Debian and npm access the first time; later runs reuse what is there.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
stamp="$venv/.hallmark-requirements"
if ! cmp -s tests/interop/requirements.txt "$stamp" 2>/dev/null; then
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements.txt
  cp tests/interop/requirements.txt "$stamp"
fi
sigvenv="$venv-sigstore"
if [ ! -x "$sigvenv/bin/python" ]; then
  python3 -m venv "$sigvenv"
fi
if ! cmp -s tests/interop/requirements-sigstore.txt "$sigvenv/.hallmark-requirements" 2>/dev/null; then
  "$sigvenv/bin/pip" install --quiet --disable-pip-version-check -r tests/interop/requirements-sigstore.txt
  cp tests/interop/requirements-sigstore.txt "$sigvenv/.hallmark-requirements"
fi
command -v git > /dev/null || { echo "git is required by the tests" >&2; exit 2; }
# The registry tests run the CNCF distribution registry (with htpasswd auth and TLS from a test
# CA made with openssl) and push images with skopeo.
missing=()
command -v docker-registry > /dev/null || missing+=(docker-registry)
command -v skopeo > /dev/null || missing+=(skopeo)
command -v htpasswd > /dev/null || missing+=(apache2-utils)
command -v openssl > /dev/null || missing+=(openssl)
# The GitHub Action's tests: node 20+ and npm run the Action through local-action, jq and cc run
# the example pipeline's steps, strip shrinks the binary they install. The GitLab pipeline test
# runs gitlab-ci-local (npm, on Node 20), which needs rsync.
command -v node > /dev/null || missing+=(nodejs)
command -v npm > /dev/null || missing+=(npm)
command -v jq > /dev/null || missing+=(jq)
command -v cc > /dev/null || missing+=(gcc)
command -v strip > /dev/null || missing+=(binutils)
command -v rsync > /dev/null || missing+=(rsync)
# The webhook tests build real objects with kubectl (--dry-run=client) and render the example
# manifests with kubectl kustomize; bench/webhook.sh drives load with wrk.
command -v kubectl > /dev/null || missing+=(kubernetes-client)
command -v wrk > /dev/null || missing+=(wrk)
# The PKCS#11 tests keep keys in a throw-away SoftHSM2 token (docs/pkcs11.md).
command -v softhsm2-util > /dev/null || missing+=(softhsm2)
# The compliance report's HTML is rendered in headless Chromium and looked at as a screenshot.
command -v chromium > /dev/null || missing+=(chromium)
# The evidence index tests start a throw-away PostgreSQL (testsvc/src/postgres.rs).
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || missing+=(postgresql)
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ] && command -v apt-get > /dev/null; then
    echo "installing ${missing[*]} (Debian packages)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" > /dev/null
  else
    echo "missing ${missing[*]}: install them (apt-get install ${missing[*]}) and re-run" >&2
    exit 2
  fi
fi
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || { echo "node $node_major is too old: the Action and gitlab-ci-local need node 20" >&2; exit 2; }
# npm packages for the Action (package-lock.json: @github/local-action 7.0.1, esbuild 0.28.2,
# yaml), installed into node_modules/ once per lock-file change.
if ! cmp -s package-lock.json node_modules/.hallmark-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json node_modules/.hallmark-lock
fi
# gitlab-ci-local, pinned, in a cache directory (not the project's node_modules).
gcl_version=4.56.0
gcl_dir="${HALLMARK_GITLAB_CI_LOCAL_DIR:-$HOME/.cache/hallmark/gitlab-ci-local}"
if [ "$(cat "$gcl_dir/.hallmark-version" 2>/dev/null)" != "$gcl_version" ]; then
  mkdir -p "$gcl_dir"
  npm install --prefix "$gcl_dir" --no-audit --no-fund --silent "gitlab-ci-local@$gcl_version"
  echo "$gcl_version" > "$gcl_dir/.hallmark-version"
fi
echo "test dependencies ready (venv: $venv, node_modules; gitlab-ci-local $gcl_version in $gcl_dir)"
