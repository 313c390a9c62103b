#!/usr/bin/env bash
# Generates a deterministic tree of files for the `hallmark run` benchmark.
#
#   bash bench/gen-tree.sh DIR [COUNT] [SEED]
#
# COUNT files (default 20000) with sizes drawn uniformly from 512 B to 64 KiB (mean 32.25 KiB, so
# about 660 MB for 20,000 files), spread over 100 directories nested two deep
# (DIR/dNN/sNN/fNNNNNN.bin). Content and sizes depend only on COUNT and SEED (default 42).
# DIR is relative to the caller's directory.
#
# Idempotent: when DIR already holds a tree made with the same COUNT and SEED (a stamp file records
# them), nothing is written. Otherwise DIR is removed and made anew.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 3 ]]; then
  echo "usage: $0 DIR [COUNT] [SEED]" >&2
  exit 2
fi
dir=$1
while [[ $dir == */ && $dir != / ]]; do dir=${dir%/}; done
count=${2:-20000}
seed=${3:-42}
if ! [[ $count =~ ^[0-9]+$ && $seed =~ ^[0-9]+$ ]]; then
  echo "$0: COUNT and SEED must be non-negative integers" >&2
  exit 2
fi

stamp="$dir.stamp"
want="count=$count seed=$seed layout=v1"
if [[ -d $dir && -f $stamp && $(cat "$stamp") == "$want" ]]; then
  echo "gen-tree: $dir is up to date ($want)" >&2
  exit 0
fi

rm -rf -- "$dir" "$stamp"
python3 - "$dir" "$count" "$seed" <<'PY'
import os
import random
import sys

root, count, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
MIN, MAX = 512, 64 * 1024
TOP, SUB = 10, 10  # 10 x 10 = 100 leaf directories
total = 0
for i in range(count):
    leaf = i % (TOP * SUB)
    d = os.path.join(root, f"d{leaf // SUB:02d}", f"s{leaf % SUB:02d}")
    if i < TOP * SUB:
        os.makedirs(d, exist_ok=True)
    size = rng.randint(MIN, MAX)
    with open(os.path.join(d, f"f{i:06d}.bin"), "wb") as f:
        f.write(rng.randbytes(size))
    total += size
print(f"gen-tree: wrote {count} files, {total} bytes ({total / 1e6:.1f} MB) under {root}",
      file=sys.stderr)
PY
echo "$want" > "$stamp"
