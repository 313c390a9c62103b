#!/usr/bin/env python3
"""Makes a big attestation store for lookup measurements (docs/benchmarks.md).

    python3 bench/gen-big-store.py SRC DST N [--per-subject]

Copies the store SRC (one `hallmark run` over bench's tree: one attestation of 20,000 subjects)
to DST and gives DST N such attestations: SRC's own, then N-1 more under other (dangling)
attestation manifest digests with random subject digests, in the store's format
(docs/decisions/0003-local-oci-layout-store.md):

- default: per attestation one index.json entry (its first subject) and a subject list (an
  artifact manifest of artifactType application/vnd.dev.hallmark.subjects.v1 whose one layer is
  the sorted `sha256:<hex>\\n` records, both written as real blobs), listed in index.json;
- --per-subject: the format before subject lists, one index.json entry per subject (SRC must be
  such a store, e.g. written by an older hallmark).

A lookup of a digest no entry names then does all the work N real attestations would cost it.
"""
import hashlib, json, os, random, shutil, sys

SUBJECTS = "application/vnd.dev.hallmark.subjects.v1"
LAYER = "application/vnd.dev.hallmark.subjects.v1.sha256"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"

args = [a for a in sys.argv[1:] if not a.startswith("--")]
per_subject = "--per-subject" in sys.argv
src, dst, n_att = args[0], args[1], int(args[2])
shutil.rmtree(dst, ignore_errors=True)
shutil.copytree(src, dst)
idx = json.load(open(os.path.join(src, "index.json")))
real = idx["manifests"]
rnd = random.Random(1)


def rand_digest():
    return "sha256:%064x" % rnd.getrandbits(256)


def put_blob(data):
    hexd = hashlib.sha256(data).hexdigest()
    with open(os.path.join(dst, "blobs", "sha256", hexd), "wb") as f:
        f.write(data)
    return "sha256:" + hexd, len(data)


out = list(real)
if per_subject:
    for a in range(1, n_att):
        mdig = "sha256:" + hashlib.sha256(b"m%d" % a).hexdigest()
        for e in real:
            e2 = dict(e)
            e2["digest"] = mdig
            ann = dict(e["annotations"])
            ann["dev.hallmark.subject"] = rand_digest()
            e2["annotations"] = ann
            out.append(e2)
else:
    atts = [e for e in real if e.get("artifactType") != SUBJECTS]
    lists = [e for e in real if e.get("artifactType") == SUBJECTS]
    if len(atts) != 1 or len(lists) != 1:
        sys.exit("SRC must hold one attestation with a subject list")
    lm = json.load(open(os.path.join(src, "blobs", "sha256", lists[0]["digest"][7:])))
    n_subjects = lm["layers"][0]["size"] // 72
    config = lm["config"]
    for a in range(1, n_att):
        mdig = "sha256:" + hashlib.sha256(b"m%d" % a).hexdigest()
        subjects = sorted(rand_digest() for _ in range(n_subjects))
        e = dict(atts[0])
        e["digest"] = mdig
        e["annotations"] = dict(atts[0]["annotations"], **{"dev.hallmark.subject": subjects[0]})
        out.append(e)
        layer, size = put_blob("".join(s + "\n" for s in subjects).encode())
        manifest = {
            "schemaVersion": 2,
            "mediaType": MANIFEST,
            "artifactType": SUBJECTS,
            "config": config,
            "layers": [{"mediaType": LAYER, "digest": layer, "size": size}],
            "subject": {"mediaType": MANIFEST, "digest": mdig, "size": atts[0]["size"]},
        }
        ldig, lsize = put_blob(json.dumps(manifest, separators=(",", ":")).encode())
        out.append({
            "mediaType": MANIFEST,
            "digest": ldig,
            "size": lsize,
            "artifactType": SUBJECTS,
            "annotations": {"dev.hallmark.subjects.of": mdig},
        })
idx["manifests"] = out
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump(idx, f, separators=(",", ":"))
print(dst, len(out), os.path.getsize(os.path.join(dst, "index.json")))
