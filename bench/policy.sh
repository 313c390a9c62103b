#!/usr/bin/env bash
# Benchmark: the release decision over a 10-step chain, `hallmark verify --policy` vs
# `in-toto-verify` with a signed layout.
#
#   bash bench/setup.sh && bash bench/policy.sh
#
# Builds hallmark in release (honouring CARGO_TARGET_DIR; set HALLMARK_BIN to skip the build and
# use that binary). In bench/work/policy (recreated on every run) it makes a git repository with
# 50 small files in src/, commits, and copies it: hallmark records the chain in one copy, in-toto
# in the other, so both tools see the same bytes. One ECDSA P-256 key (`hallmark keygen`; the PKCS#8
# PEM k.key is k.pem for in-toto) signs everything. The chain is linear, the same commands for both:
#
#   s0: materials src, product out/s0      sh -c 'mkdir -p out && cat src/* > out/s0'
#   si: materials out/s{i-1}, product out/si   sh -c 'cp out/s{i-1} out/si && echo i >> out/si'
#
# recorded with `hallmark run --step si -m ... -p ... --key k.key` (the store at the git root) and
# `in-toto-run -n si -m ... -p ... --signing-key k.pem --use-dsse` (si.<keyid>.link files). The
# products are checked equal byte for byte. The decisions:
#
#   hallmark:  release.yaml (hallmark.dev/policy/v1): s0..s9 each signed by k.pub, each taking its
#              inputs from the previous step (s0 from the source: in-toto's MATCH ... FROM), maxAge 7d;
#              `hallmark verify out/s9 --policy release.yaml`
#   in-toto:   root.layout, a DSSE envelope signed with k.pem (made by the venv's Python with the
#              in-toto 3.1.0 API), expiring in a day: steps s0..s9 with the key as functionary,
#              the expected command, material rules (s0: ALLOW src/*; si: MATCH out/s{i-1} WITH
#              PRODUCTS FROM s{i-1}; then DISALLOW *), product rules (CREATE out/si, DISALLOW *),
#              no inspections; `in-toto-verify --layout root.layout --verification-keys k.pub
#              --link-dir .`
#   reference: `hallmark verify out/s9 --key k.pub --step s9` (one attestation, no policy, no chain)
#
# Each must allow (exit 0; hallmark's JSON verdict "allow") before anything is timed. Then each runs
# BENCH_WARMUP (default 2) times as warm-up and BENCH_RUNS (default 10) timed times, from inside its
# copy of the repository, with hyperfine when it is installed and a plain loop otherwise; one extra
# run under GNU time gives its peak RSS.
#
# Prints a markdown table, also written to bench/work/policy-results.md (raw data in
# bench/work/policy/results/). Environment: HALLMARK_VENV (as in setup.sh), BENCH_RUNS,
# BENCH_WARMUP, HALLMARK_BIN.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

runs=${BENCH_RUNS:-10}
warmup=${BENCH_WARMUP:-2}
venv=${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}
nsteps=10
nsources=50
work=$root/bench/work/policy
results=$work/results
report=$root/bench/work/policy-results.md

log() { echo "policy: $*" >&2; }

# --- tools ------------------------------------------------------------------------------------
if [[ -n ${HALLMARK_BIN:-} ]]; then
  hallmark=$(realpath "$HALLMARK_BIN")
  build="HALLMARK_BIN"
else
  log "building hallmark (release)"
  cargo build --release --quiet -p hallmark-cli
  target=${CARGO_TARGET_DIR:-target}
  hallmark=$(realpath "$target/release/hallmark")
  build="release build"
fi
[[ -x $hallmark ]] || { log "no hallmark binary at $hallmark"; exit 1; }
in_toto_run=$venv/bin/in-toto-run
in_toto_verify=$venv/bin/in-toto-verify
for t in "$in_toto_run" "$in_toto_verify"; do
  [[ -x $t ]] || { log "no $t: run bash bench/setup.sh first"; exit 1; }
done
have_hyperfine=0
command -v hyperfine >/dev/null && have_hyperfine=1
gnu_time=
[[ -x /usr/bin/time ]] && /usr/bin/time -v true 2>/dev/null && gnu_time=/usr/bin/time

# --- the repository and the key ---------------------------------------------------------------
rm -rf "$work"
mkdir -p "$work" "$results"
cd "$work"
hm=$work/hallmark # hallmark's copy of the repository
it=$work/in-toto  # in-toto's copy
mkdir -p "$hm/src"
for ((f = 0; f < nsources; f++)); do
  printf 'int f%02d(int x) { return x * %d + %d; }\n' "$f" "$f" "$((f * 7 % 13))" >"$hm/src/f$f.c"
done
git -C "$hm" init -q
git -C "$hm" add src
git -C "$hm" -c user.name=bench -c user.email=bench@example.invalid commit -q -m sources
cp -a "$hm" "$it"

"$hallmark" keygen --output k >/dev/null 2>&1
# hallmark writes unencrypted PKCS#8 PEM, which in-toto reads too: one key serves both.
if grep -q -- '-----BEGIN PRIVATE KEY-----' k.key; then
  cp k.key k.pem
else
  openssl pkcs8 -topk8 -nocrypt -in k.key -out k.pem
fi
openssl pkey -in k.pem -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256' ||
  { log "k.pem is not an ECDSA P-256 key"; exit 1; }
cp k.pub "$hm/k.pub"
cp k.pub "$it/k.pub"

# --- record the chain, once with each tool ----------------------------------------------------
step_cmd() { # i -> the shell command step si runs
  if (($1 == 0)); then
    echo 'mkdir -p out && cat src/* > out/s0'
  else
    echo "cp out/s$(($1 - 1)) out/s$1 && echo $1 >> out/s$1"
  fi
}
step_materials() { if (($1 == 0)); then echo src; else echo "out/s$(($1 - 1))"; fi; }

log "recording the $nsteps-step chain with hallmark run and with in-toto-run"
cmds=()
for ((i = 0; i < nsteps; i++)); do
  cmd=$(step_cmd "$i")
  mat=$(step_materials "$i")
  cmds+=("$cmd")
  (cd "$hm" && "$hallmark" run --step "s$i" -m "$mat" -p "out/s$i" --key ../k.key -- sh -c "$cmd") \
    >>"$results/record.log" 2>&1
  (cd "$it" && "$in_toto_run" -n "s$i" -m "$mat" -p "out/s$i" --signing-key ../k.pem --use-dsse \
    -- sh -c "$cmd") >>"$results/record.log" 2>&1
done
for ((i = 0; i < nsteps; i++)); do
  cmp -s "$hm/out/s$i" "$it/out/s$i" || { log "out/s$i differs between the two chains"; exit 1; }
done
links=$(find "$it" -maxdepth 1 -name 's*.link' | wc -l)
((links == nsteps)) || { log "in-toto-run wrote $links links, not $nsteps"; exit 1; }

# --- the hallmark policy ----------------------------------------------------------------------
{
  echo 'apiVersion: hallmark.dev/policy/v1'
  echo 'steps:'
  echo "  s0: {signers: [k.pub], inputs: [source]}"
  for ((i = 1; i < nsteps; i++)); do echo "  s$i: {signers: [k.pub], inputs: [s$((i - 1))]}"; done
  echo 'maxAge: 7d'
} >"$hm/release.yaml"

# --- the in-toto layout -----------------------------------------------------------------------
(cd "$it" && "$venv/bin/python" - ../k.pem k.pub root.layout "${cmds[@]}") <<'PY'
# Signed DSSE root layout for the chain s0..s{n-1} (in-toto 3.1.0 API).
import sys
from datetime import datetime, timedelta, timezone

from in_toto.models._signer import (
    load_crypto_signer_from_pkcs8_file,
    load_public_key_from_file,
)
from in_toto.models.layout import Layout, Step
from in_toto.models.metadata import Envelope

key_path, pub_path, out, cmds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
pub = load_public_key_from_file(pub_path)
steps = []
for i, cmd in enumerate(cmds):
    if i == 0:
        materials = [["ALLOW", "src/*"], ["DISALLOW", "*"]]
    else:
        materials = [["MATCH", f"out/s{i-1}", "WITH", "PRODUCTS", "FROM", f"s{i-1}"],
                     ["DISALLOW", "*"]]
    steps.append(Step(name=f"s{i}", pubkeys=[pub["keyid"]], threshold=1,
                      expected_command=["sh", "-c", cmd],
                      expected_materials=materials,
                      expected_products=[["CREATE", f"out/s{i}"], ["DISALLOW", "*"]]))
expires = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
layout = Layout(steps=steps, inspect=[], keys={pub["keyid"]: pub}, expires=expires)
envelope = Envelope.from_signable(layout)
envelope.create_signature(load_crypto_signer_from_pkcs8_file(key_path))
envelope.dump(out)
PY

# --- benchmark cases --------------------------------------------------------------------------
hq=$(printf %q "$hallmark")
iq=$(printf %q "$in_toto_verify")
# name | directory | command shown in the table | command run
names=() dirs=() shows=() runs_=()
add() { names+=("$1"); dirs+=("$2"); shows+=("$3"); runs_+=("$4"); }
add "hallmark" "$hm" "hallmark verify out/s9 --policy release.yaml" \
  "$hq verify out/s9 --policy release.yaml"
add "in-toto-verify" "$it" \
  "in-toto-verify --layout root.layout --verification-keys k.pub --link-dir ." \
  "$iq --layout root.layout --verification-keys k.pub --link-dir ."
add "hallmark (reference)" "$hm" "hallmark verify out/s9 --key k.pub --step s9" \
  "$hq verify out/s9 --key k.pub --step s9"

slug() { tr -c 'a-zA-Z0-9\n' '_' <<<"$1"; }

# Every decision must allow before it is timed.
for i in "${!names[@]}"; do
  s=$(slug "${names[$i]}")
  (cd "${dirs[$i]}" && bash -c "${runs_[$i]}") >"$results/$s.check" 2>&1 ||
    { cat "$results/$s.check" >&2; log "${names[$i]}: \`${shows[$i]}\` did not allow"; exit 1; }
done
verdict=$(cd "$hm" && "$hallmark" verify out/s9 --policy release.yaml --format json 2>/dev/null |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["verdict"])')
[[ $verdict == allow ]] || { log "hallmark's JSON verdict is $verdict, not allow"; exit 1; }
log "both decisions allow (hallmark verdict: $verdict; in-toto-verify exit 0)"

time_case() { # index -> writes $results/<slug>.times (one wall time in seconds per line)
  local i=$1 s
  s=$(slug "${names[$i]}")
  cd "${dirs[$i]}"
  if ((have_hyperfine)); then
    hyperfine --style basic --warmup "$warmup" --runs "$runs" --command-name "${names[$i]}" \
      --export-json "$results/$s.json" "${runs_[$i]}" >&2
    python3 - "$results/$s.json" "$results/$s" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
with open(sys.argv[2] + ".times", "w") as f:
    f.write("".join(f"{t}\n" for t in r["times"]))
PY
  else
    local n t0 t1
    : >"$results/$s.times"
    for ((n = 0; n < warmup + runs; n++)); do
      t0=$(date +%s.%N)
      bash -c "${runs_[$i]}" >/dev/null 2>&1
      t1=$(date +%s.%N)
      if ((n >= warmup)); then
        python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$t0" "$t1" \
          >>"$results/$s.times"
      fi
    done
  fi
  cd "$work"
  log "${names[$i]}: $(tr '\n' ' ' <"$results/$s.times")s"
}

rss_case() { # index -> writes $results/<slug>.rss (KiB, or "-")
  local i=$1 s
  s=$(slug "${names[$i]}")
  if [[ -z $gnu_time ]]; then
    echo - >"$results/$s.rss"
    return
  fi
  (cd "${dirs[$i]}" && "$gnu_time" -v -o "$results/$s.timev" bash -c "${runs_[$i]}") \
    >"$results/$s.stdout" 2>"$results/$s.stderr"
  sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$results/$s.timev" >"$results/$s.rss"
}

for i in "${!names[@]}"; do
  log "timing: ${names[$i]}"
  time_case "$i"
  rss_case "$i"
done

# --- report -----------------------------------------------------------------------------------
hallmark_version=$("$hallmark" --version)
in_toto_version=$("$in_toto_verify" --version)
export RESULTS=$results
python3 - "$nsteps" "$nsources" "$(nproc)" "$have_hyperfine" "$runs" "$warmup" \
  "$hallmark_version" "$in_toto_version" "$build: $hallmark" "${#names[@]}" \
  "${names[@]}" "${shows[@]}" >"$report" <<'PY'
import os, re, statistics, sys

a = sys.argv[1:]
nsteps, nsources, ncpu, hf, runs, warmup, hv, iv, binary, n = a[:10]
n = int(n)
names, shows = a[10:10 + n], a[10 + n:10 + 2 * n]
res = os.environ["RESULTS"]

def read(name, ext):
    try:
        with open(os.path.join(res, re.sub(r"[^a-zA-Z0-9]", "_", name) + ext)) as f:
            return f.read().split()
    except FileNotFoundError:
        return []

rows = {}
for name, show in zip(names, shows):
    times = [float(x) * 1000 for x in read(name, ".times")]
    rss = read(name, ".rss")
    rss = f"{int(rss[0]) / 1024:.0f}" if rss and rss[0].isdigit() else "-"
    rows[name] = (show, statistics.median(times), min(times), max(times), rss)
base = rows["in-toto-verify"][1]
print(f"Decision over a {nsteps}-step linear chain (s0 reads {nsources} files from src/, each later "
      f"step one file), one ECDSA P-256 key; {ncpu} CPUs; {warmup} warm-up + {runs} timed runs "
      f"each ({'hyperfine' if hf == '1' else 'shell loop'}).\n")
print("| Tool | Command | Median (ms) | Min (ms) | Max (ms) | Peak RSS (MiB) "
      "| Speed-up vs in-toto-verify (median) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for name, (show, med, mn, mx, rss) in rows.items():
    print(f"| {name} | `{show}` | {med:.1f} | {mn:.1f} | {mx:.1f} | {rss} | {base / med:.1f}x |")
print(f"\nVersions: {hv.splitlines()[0]} ({binary}); {iv}.")
PY
cat "$report"
