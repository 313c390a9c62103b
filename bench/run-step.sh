#!/usr/bin/env bash
# Benchmark: record one step over a big tree, hallmark vs in-toto-run vs plain sha256sum.
#
#   bash bench/setup.sh && bash bench/run-step.sh
#
# Builds hallmark in release (honouring CARGO_TARGET_DIR; set HALLMARK_BIN to skip the build and
# use that binary), generates bench/work/tree (bench/gen-tree.sh: 20,000 files, 512 B to 64 KiB
# each), makes one ECDSA P-256 key for both tools, then, from inside bench/work, runs each command
# once as warm-up and BENCH_RUNS (default 3) timed times, with hyperfine when it is installed and
# a plain loop otherwise. Nothing is dropped from the page cache: every tool reads a warm tree.
# One extra run of each under GNU time gives its peak RSS. Unless BENCH_PHASES=0, hallmark is also
# timed without its store (--no-store -o) and with a one-file product, to split its time in phases.
# Finally the digests hallmark signed are checked against in-toto-run's link, file by file.
#
# Each hallmark run gets a fresh, empty store: the previous one is renamed into bench/work/stores/
# (untimed) rather than deleted, and all stores are deleted once the report is written. On ext4
# without a journal, as on the machine these figures come from, inode allocation skips (after
# scanning) inodes deleted less than 60 s ago, or 360 s ago while their inode-table block is dirty:
# creating 20,000 files shortly after deleting 20,000 others becomes 2-3x slower, which would bill
# the benchmark's own clean-up to hallmark. So nothing is deleted while hallmark is timed, and the
# hallmark-with-store case waits until 361 s have passed since the last deletion of more than 1,000
# files (recorded in bench/work/stores.deleted-at); the other cases run first, so the wait overlaps
# them. (hallmark stores that hold one manifest per attestation have only a handful of files.)
#
# Prints a markdown table, also written to bench/work/results.md (raw data in bench/work/results/).
# Environment: HALLMARK_VENV (as in setup.sh), BENCH_RUNS, BENCH_WARMUP, BENCH_PHASES,
# BENCH_FILES and BENCH_SEED (the tree's size and seed), HALLMARK_BIN.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

runs=${BENCH_RUNS:-3}
warmup=${BENCH_WARMUP:-1}
phases=${BENCH_PHASES:-1}
files=${BENCH_FILES:-20000}
seed=${BENCH_SEED:-42}
venv=${HALLMARK_VENV:-$HOME/.cache/hallmark/venv}
work=$root/bench/work
results=$work/results

log() { echo "run-step: $*" >&2; }

# --- tools ------------------------------------------------------------------------------------
if [[ -n ${HALLMARK_BIN:-} ]]; then
  hallmark=$(realpath "$HALLMARK_BIN")
else
  log "building hallmark (release)"
  cargo build --release --quiet -p hallmark-cli
  target=${CARGO_TARGET_DIR:-target}
  hallmark=$(realpath "$target/release/hallmark")
fi
[[ -x $hallmark ]] || { log "no hallmark binary at $hallmark"; exit 1; }
in_toto_run=$venv/bin/in-toto-run
[[ -x $in_toto_run ]] || { log "no $in_toto_run: run bash bench/setup.sh first"; exit 1; }
have_hyperfine=0
command -v hyperfine >/dev/null && have_hyperfine=1
gnu_time=
[[ -x /usr/bin/time ]] && /usr/bin/time -v true 2>/dev/null && gnu_time=/usr/bin/time

# --- inputs -----------------------------------------------------------------------------------
rm -rf "$results"
mkdir -p "$work" "$results"
purge_stores() {
  if [[ -e $work/stores || -e $work/store ]]; then
    local n
    n=$(find "$work/stores" "$work/store" 2>/dev/null | wc -l)
    rm -rf "$work/stores" "$work/store"
    sync
    # A few hundred deleted inodes cost nothing measurable; thousands do (see the top).
    if ((n > 1000)); then date +%s >"$work/stores.deleted-at"; fi
  fi
}
purge_stores # left over by an interrupted invocation
mkdir -p "$work/stores"
bash bench/gen-tree.sh "$work/tree" "$files" "$seed"
cd "$work"
if [[ ! -f k.key ]]; then
  "$hallmark" keygen --output k >/dev/null
fi
# hallmark writes unencrypted PKCS#8 PEM, which in-toto-run reads too: one key serves both.
if [[ ! -f k.pem ]] || ! cmp -s k.key k.pem; then
  if grep -q -- '-----BEGIN PRIVATE KEY-----' k.key; then
    cp k.key k.pem
  else
    openssl pkcs8 -topk8 -nocrypt -in k.key -out k.pem
  fi
fi
openssl pkey -in k.pem -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256' ||
  { log "k.pem is not an ECDSA P-256 key"; exit 1; }

tree_bytes=$(du -sb tree | cut -f1)
tree_files=$(find tree -type f | wc -l)

# Quoted for the shell that hyperfine (or bash -c) runs each command in.
hq=$(printf %q "$hallmark")
iq=$(printf %q "$in_toto_run")

# --- benchmark cases --------------------------------------------------------------------------
# name | what it hashes | prepare (untimed, before every run) | command
names=() notes=() preps=() cmds=()
add() { names+=("$1"); notes+=("$2"); preps+=("$3"); cmds+=("$4"); }
add "hallmark run" "tree as materials + products, signs, writes a fresh store" \
  "if [ -e store ]; then mv store stores/\$(date +%s%N); fi; sync" \
  "$hq run --step build -m tree -p tree --key k.key --store store -- true"
add "in-toto-run" "tree as materials + products (hashed twice), signs, writes one .link" \
  "rm -f build.*.link; sync" \
  "$iq -n build -m tree -p tree --signing-key k.pem --use-dsse --no-command"
add "find | xargs sha256sum" "hashes the tree once, nothing else" \
  "sync" \
  "find tree -type f | xargs sha256sum > /dev/null"
if [[ $phases == 1 ]]; then
  add "hallmark run --no-store -o" "as hallmark run, but one bundle file instead of the store" \
    "rm -f out.json; sync" \
    "$hq run --step build -m tree -p tree --key k.key --no-store -o out.json -- true"
  # hallmark refuses a step without products: one small file stands in.
  add "hallmark run -p one file, --no-store -o" \
    "tree as materials, 1 file as product, one bundle file" \
    "rm -f out.json; sync" \
    "$hq run --step build -m tree -p tree/d00/s00/f000000.bin --key k.key --no-store \
-o out.json -- true"
fi

slug() { tr -c 'a-zA-Z0-9\n' '_' <<<"$1"; }

time_case() { # index -> writes $results/<slug>.times (one wall time in seconds per line)
  local i=$1 s
  s=$(slug "${names[$i]}")
  if ((have_hyperfine)); then
    hyperfine --style basic --warmup "$warmup" --runs "$runs" \
      --prepare "${preps[$i]}" --command-name "${names[$i]}" \
      --export-json "$results/$s.json" "${cmds[$i]}" >&2
    python3 - "$results/$s.json" "$results/$s" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
with open(sys.argv[2] + ".times", "w") as f:
    f.write("".join(f"{t}\n" for t in r["times"]))
with open(sys.argv[2] + ".cpu", "w") as f:
    f.write(f"{r['user']} {r['system']}\n")
PY
  else
    local n t0 t1
    : >"$results/$s.times"
    for ((n = 0; n < warmup + runs; n++)); do
      bash -c "${preps[$i]}"
      t0=$(date +%s.%N)
      bash -c "${cmds[$i]}" >/dev/null 2>&1
      t1=$(date +%s.%N)
      if ((n >= warmup)); then
        python3 -c 'import sys; print(float(sys.argv[2]) - float(sys.argv[1]))' "$t0" "$t1" \
          >>"$results/$s.times"
      fi
    done
  fi
  log "${names[$i]}: $(tr '\n' ' ' <"$results/$s.times")s"
}

rss_case() { # index -> writes $results/<slug>.rss (KiB, or "-")
  local i=$1 s
  s=$(slug "${names[$i]}")
  if [[ -z $gnu_time ]]; then
    echo - >"$results/$s.rss"
    return
  fi
  bash -c "${preps[$i]}"
  "$gnu_time" -v -o "$results/$s.timev" bash -c "${cmds[$i]}" \
    >"$results/$s.stdout" 2>"$results/$s.stderr"
  sed -n 's/^\s*Maximum resident set size (kbytes): //p' "$results/$s.timev" >"$results/$s.rss"
}

# hallmark with its store goes last, so the wait after deleting old stores overlaps other work.
for i in $(seq 1 $((${#names[@]} - 1))) 0; do
  if ((i == 0)) && [[ -f $work/stores.deleted-at ]]; then
    left=$(($(cat "$work/stores.deleted-at") + 361 - $(date +%s)))
    if ((left > 0)); then
      log "waiting ${left}s: recently deleted inodes slow down file creation (see the top)"
      sleep "$left"
    fi
  fi
  log "timing: ${names[$i]}"
  time_case "$i"
  rss_case "$i"
done

# --- sanity checks on what the tools produced -------------------------------------------------
# The last hallmark run left its store (./store), the last in-toto-run its link.
store_manifests=$(python3 -c 'import json; print(len(json.load(open("store/index.json"))["manifests"]))' )
store_blobs=$(find store/blobs -type f | wc -l)
store_bytes=$(du -sb store | cut -f1)
store_disk=$(($(du -sk store | cut -f1) * 1024))
check=$(python3 - <<'PY'
import base64, glob, json

def payload(envelope):
    return json.loads(base64.b64decode(envelope["payload"]))

links = glob.glob("build.*.link")
assert len(links) == 1, links
link = payload(json.load(open(links[0])))
link = link.get("predicate", link)
index = json.load(open("store/index.json"))
manifest = json.load(open("store/blobs/sha256/" + index["manifests"][0]["digest"][7:]))
bundle = json.load(open("store/blobs/sha256/" + manifest["layers"][0]["digest"][7:]))
st = payload(bundle["dsseEnvelope"])
subjects = {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
materials = {d["name"]: d["digest"]["sha256"]
             for d in st["predicate"]["buildDefinition"]["resolvedDependencies"]
             if "name" in d and "sha256" in d.get("digest", {})}
want_p = {k: v["sha256"] for k, v in link["products"].items()}
want_m = {k: v["sha256"] for k, v in link["materials"].items()}
assert subjects == want_p, "hallmark's subjects differ from in-toto-run's products"
assert materials == want_m, "hallmark's materials differ from in-toto-run's materials"
print(f"{len(want_m)} {len(want_p)}")
PY
) || { log "hallmark and in-toto-run disagree on the digests"; exit 1; }
log "digests agree: hallmark and in-toto-run both recorded $check materials/products"

# --- report -----------------------------------------------------------------------------------
export RESULTS=$results
python3 - "$tree_files" "$tree_bytes" "$store_manifests" "$store_blobs" "$store_bytes" \
  "$store_disk" "$check" "$(nproc)" "$have_hyperfine" "$runs" "$warmup" "${#names[@]}" \
  "${names[@]}" "${notes[@]}" >"$work/results.md" <<'PY'
import os, re, statistics, sys

a = sys.argv[1:]
tree_files, tree_bytes, manifests, blobs, store_bytes, store_disk, link, ncpu, hf, runs, warmup, n \
    = a[:12]
n = int(n)
names, notes = a[12:12 + n], a[12 + n:12 + 2 * n]
res = os.environ["RESULTS"]

def slug(s):
    return re.sub(r"[^a-zA-Z0-9]", "_", s)

def read(name, ext):
    try:
        with open(os.path.join(res, slug(name) + ext)) as f:
            return f.read().split()
    except FileNotFoundError:
        return []

rows = {}
for name, note in zip(names, notes):
    times = [float(x) for x in read(name, ".times")]
    rss = read(name, ".rss")
    rss = f"{int(rss[0]) / 1024:.0f}" if rss and rss[0].isdigit() else "-"
    cpu = read(name, ".cpu")
    cpu = f"{float(cpu[0]):.2f} + {float(cpu[1]):.2f}" if cpu else "-"
    rows[name] = (note, statistics.median(times), min(times), cpu, rss)
base = rows["in-toto-run"][1]
print(f"Tree: {tree_files} files, {int(tree_bytes) / 1e6:.0f} MB; {ncpu} CPUs; "
      f"{warmup} warm-up + {runs} timed runs each ({'hyperfine' if hf == '1' else 'shell loop'}); "
      "warm page cache.\n")
print("| Command | Work | Wall median (s) | Wall min (s) | CPU user + sys (s, mean) "
      "| Peak RSS (MiB) | Speed-up vs in-toto-run (median) |")
print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
for name, (note, med, mn, cpu, rss) in rows.items():
    code = name.replace("|", "\\|")
    print(f"| `{code}` | {note} | {med:.2f} | {mn:.2f} | {cpu} | {rss} | {base / med:.1f}x |")
lm, lp = link.split()
print(f"\nhallmark's store after one run: {manifests} entries in index.json, {blobs} blobs, "
      f"{int(store_bytes) / 1e6:.1f} MB ({int(store_disk) / 1e6:.1f} MB on disk). "
      f"Digests checked equal to in-toto-run's link: {lm} materials, {lp} products.")
if "hallmark run --no-store -o" in rows:
    store = rows["hallmark run"][1] - rows["hallmark run --no-store -o"][1]
    print(f"Store phase (hallmark run minus hallmark run --no-store -o, medians): {store:.2f} s, "
          f"{store / int(manifests) * 1000:.3f} ms per index entry.")
PY
cat "$work/results.md"
purge_stores
