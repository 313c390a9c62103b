#!/usr/bin/env bash
# Installs what bench/run-step.sh compares hallmark against. Idempotent.
#
#   bash bench/setup.sh
#
# - a Python venv at ${HALLMARK_VENV:-$HOME/.cache/hallmark/venv} with in-toto 3.1.0 (and with it
#   securesystemslib[crypto]) from PyPI, for `in-toto-run`;
# - hyperfine and GNU time from Debian's packages when apt-get is there and we are root
#   (a failure is not fatal: run-step.sh falls back to its own timing loop and skips peak RSS).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

IN_TOTO_VERSION=3.1.0
venv=${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}

if [[ ! -x $venv/bin/python ]]; then
  echo "setup: creating the venv $venv" >&2
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
fi
installed=$("$venv/bin/python" -m pip show in-toto 2>/dev/null | sed -n 's/^Version: //p' || true)
if [[ $installed != "$IN_TOTO_VERSION" ]]; then
  echo "setup: installing in-toto==$IN_TOTO_VERSION into $venv" >&2
  "$venv/bin/python" -m pip install --quiet "in-toto==$IN_TOTO_VERSION"
fi
"$venv/bin/in-toto-run" --version >&2

missing=()
command -v hyperfine >/dev/null || missing+=(hyperfine)
[[ -x /usr/bin/time ]] || missing+=(time)
if ((${#missing[@]})); then
  if command -v apt-get >/dev/null && [[ $(id -u) == 0 ]]; then
    echo "setup: apt-get install ${missing[*]}" >&2
    { apt-get update -qq && apt-get install -y -qq "${missing[@]}"; } >&2 ||
      echo "setup: could not install ${missing[*]}; run-step.sh will do without" >&2
  else
    echo "setup: ${missing[*]} missing and apt-get unusable here; run-step.sh will do without" >&2
  fi
fi
echo "setup: done" >&2
