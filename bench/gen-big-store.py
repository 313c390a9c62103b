#!/usr/bin/env python3
"""Makes a big attestation store for lookup measurements (docs/benchmarks.md).

    python3 bench/gen-big-store.py SRC DST N

Copies the store SRC (one `hallmark run` over bench's tree: one attestation of 20,000 subjects)
to DST and gives DST an index.json of N such attestations: SRC's entries, then N-1 copies of
them under other (dangling) manifest digests with random subject digests. A lookup of a digest
no entry names reads and parses the whole index, as with N real attestations.
"""
import json, os, sys, shutil, hashlib, random
src, dst, n_att = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst)
idx = json.load(open(os.path.join(src, "index.json")))
real = idx["manifests"]
rnd = random.Random(1)
out = list(real)
for a in range(1, n_att):
    mdig = "sha256:" + hashlib.sha256(b"m%d" % a).hexdigest()
    for e in real:
        e2 = dict(e); e2["digest"] = mdig
        ann = dict(e["annotations"]); ann["dev.hallmark.subject"] = "sha256:%064x" % rnd.getrandbits(256)
        e2["annotations"] = ann
        out.append(e2)
idx["manifests"] = out
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump(idx, f, separators=(",", ":"))
print(dst, len(out), os.path.getsize(os.path.join(dst, "index.json")))
