#!/usr/bin/env python3
"""Makes the denial-of-service attacks of bench/dos.sh: what anyone who can write to a store,
a registry or a file handed to `verify --bundle` can do to stall or break a decision.

  dos_attacks.py flood STORE BLOBS MIB DIGEST...   BLOBS bundles of ~MIB MiB each (SLSA provenance
                                                   claims with bogus signatures), every one listed
                                                   in index.json for every DIGEST
  dos_attacks.py dangling STORE DIGEST             an index.json entry for DIGEST naming a manifest
                                                   that is not in the store
  dos_attacks.py huge-index STORE ENTRIES          ENTRIES junk entries appended to index.json
  dos_attacks.py many-signatures OUT SIGS DIGEST   a bundle claiming DIGEST, signed SIGS times (bogus)
  dos_attacks.py oversize-referrer OUT SUBJECT MT SIZE
                                                   a referrer manifest for SUBJECT (media type MT) whose
                                                   bundle layer claims SIZE bytes
"""
import base64
import hashlib
import json
import os
import sys

BUNDLE = "application/vnd.dev.sigstore.bundle.v0.3+json"
MANIFEST = "application/vnd.oci.image.manifest.v1+json"
EMPTY = "application/vnd.oci.empty.v1+json"
SLSA = "https://slsa.dev/provenance/v1"


def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def put(store, data):
    d = sha(data)
    path = os.path.join(store, "blobs", "sha256", d[7:])
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
    return d


def bundle(subjects, signatures, nonce):
    """A key-signed bundle whose statement claims SLSA provenance for `subjects` (a list of
    sha256 hex), with `signatures` bogus signatures."""
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": f"f{i}", "digest": {"sha256": s}} for i, s in enumerate(subjects)],
        "predicateType": SLSA,
        "predicate": {
            "buildDefinition": {"buildType": "https://hallmark.dev/junk", "externalParameters": {},
                                "resolvedDependencies": [{"name": "x", "digest": {"sha256": subjects[0]}}]},
            "runDetails": {"builder": {"id": f"junk-{nonce}"}},
        },
    }
    payload = base64.b64encode(json.dumps(statement).encode()).decode()
    sig = base64.b64encode(b"\x30" + bytes(69)).decode()
    return json.dumps({
        "mediaType": BUNDLE,
        "verificationMaterial": {"publicKey": {"hint": "junk"}, "tlogEntries": [],
                                 "timestampVerificationData": {}},
        "dsseEnvelope": {"payload": payload, "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"keyid": "", "sig": sig}] * signatures},
    }).encode()


def manifest(config, layer, size, subject, subject_type="application/octet-stream"):
    return json.dumps({
        "schemaVersion": 2, "mediaType": MANIFEST, "artifactType": BUNDLE,
        "config": {"mediaType": EMPTY, "digest": config, "size": 2},
        "layers": [{"mediaType": BUNDLE, "digest": layer, "size": size}],
        "subject": {"mediaType": subject_type, "digest": subject, "size": 0},
    }).encode()


def entry(digest, size, subject):
    return {"mediaType": MANIFEST, "digest": digest, "size": size, "artifactType": BUNDLE,
            "annotations": {"dev.hallmark.subject": subject,
                            "dev.sigstore.bundle.predicateType": SLSA}}


def index_append(store, entries):
    path = os.path.join(store, "index.json")
    with open(path) as f:
        index = json.load(f)
    index["manifests"].extend(entries)
    with open(path, "w") as f:
        json.dump(index, f)


def flood(store, blobs, mib, digests):
    config = put(store, b"{}")
    per_subject = 110  # bytes of one subject in the payload, base64-inflated below
    count = max(1, int(mib * 1024 * 1024 / (per_subject * 4 / 3)))
    hexes = [d.split(":", 1)[1] for d in digests]
    entries = []
    for n in range(blobs):
        subjects = [hashlib.sha256(b"%d-%d" % (n, i)).hexdigest() for i in range(count)]
        data = bundle(subjects[:1] + hexes + subjects[1:], 1, n)
        layer = put(store, data)
        m = manifest(config, layer, len(data), digests[0])
        md = put(store, m)
        entries += [entry(md, len(m), d) for d in digests]
    index_append(store, entries)


def dangling(store, digest):
    missing = sha(b"a manifest nobody stored")
    index_append(store, [entry(missing, 500, digest)])


def huge_index(store, n):
    path = os.path.join(store, "index.json")
    with open(path) as f:
        index = json.load(f)
    junk = json.dumps(entry(sha(b"junk manifest"), 500, sha(b"junk subject")))
    body = json.dumps(index)
    head, tail = body.rsplit("]", 1)
    sep = ", " if index["manifests"] else ""
    with open(path, "w") as f:
        f.write(head + sep + ", ".join([junk] * n) + "]" + tail)


def many_signatures(out, sigs, digest):
    with open(out, "wb") as f:
        f.write(bundle([digest.split(":", 1)[1]], sigs, 0))


def oversize_referrer(out, subject, media_type, size):
    config = sha(b"{}")
    layer = config  # an existing blob: the registry checks that it exists, not its size
    with open(out, "wb") as f:
        f.write(manifest(config, layer, size, subject, media_type))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "flood":
        flood(args[0], int(args[1]), float(args[2]), args[3:])
    elif cmd == "dangling":
        dangling(args[0], args[1])
    elif cmd == "huge-index":
        huge_index(args[0], int(args[1]))
    elif cmd == "many-signatures":
        many_signatures(args[0], int(args[1]), args[2])
    elif cmd == "oversize-referrer":
        oversize_referrer(args[0], args[1], args[2], int(args[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
