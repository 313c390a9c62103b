#!/usr/bin/env bash
# Builds the seed corpora fuzz/corpus/TARGET/ from the shared test vectors ($HALLMARK_VECTORS,
# default ../shared/vectors), the repository's docs and examples, and fuzz/regressions/TARGET/.
# Corpora are generated, never committed. Needs python3. Idempotent: seeds are named by content.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(dirname "$here")"
vectors="${HALLMARK_VECTORS:-$repo/../shared/vectors}"
if [ ! -d "$vectors" ]; then
  echo "seed.sh: no test vectors at $vectors (set HALLMARK_VECTORS); seeding from the repository only" >&2
fi
exec python3 - "$here" "$repo" "$vectors" <<'PY'
import base64, hashlib, io, json, os, re, sys, tarfile

fuzz, repo, vectors = sys.argv[1:4]
corpus = os.path.join(fuzz, "corpus")
MAX = 1 << 20  # seeds larger than this slow libFuzzer down for little coverage
counts = {}

def add(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX:
        return
    d = os.path.join(corpus, target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()
    path = os.path.join(d, name)
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(data)
        counts[target] = counts.get(target, 0) + 1

def walk(root, skip=("node_modules", ".git", "target", "corpus")):
    if not os.path.isdir(root):
        return
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in skip]
        for f in files:
            yield os.path.join(dirpath, f)

def read(path):
    try:
        if os.path.getsize(path) > MAX:
            return None
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None

def b64(text):
    try:
        return base64.b64decode(text.replace("\n", ""), validate=False)
    except Exception:
        return None

def der_len(buf, i):
    """Length of the DER TLV at i: (header length, content length)."""
    first = buf[i + 1]
    if first < 0x80:
        return 2, first
    n = first & 0x7F
    return 2 + n, int.from_bytes(buf[i + 2:i + 2 + n], "big")

SCT_OID = bytes.fromhex("060a2b06010401d679020402")

def sct_list(cert):
    """The TLS SCT list inside a certificate's embedded-SCT extension, if it has one."""
    i = cert.find(SCT_OID)
    if i < 0:
        return None
    i += len(SCT_OID)
    if cert[i] == 0x01:  # critical BOOLEAN
        i += 3
    h, _ = der_len(cert, i)  # extnValue OCTET STRING
    i += h
    h, n = der_len(cert, i)  # inner OCTET STRING
    return cert[i + h:i + h + n]

def certificate(der):
    if not der:
        return
    add("certificate", der)
    try:
        scts = sct_list(der)
    except IndexError:
        scts = None
    if scts:
        add("sct", scts)

def envelope(env):
    add("dsse", json.dumps(env))
    payload = b64(env.get("payload", ""))
    if payload:
        add("statement", payload)
        try:
            statement = json.loads(payload)
        except ValueError:
            return
        predicate = statement.get("predicate") if isinstance(statement, dict) else None
        if isinstance(predicate, dict):
            if "bomFormat" in predicate or "spdxVersion" in predicate:
                add("sbom", json.dumps(predicate))
            if "entries" in predicate and "sequence" in predicate:
                add("revocation", json.dumps(predicate))

def bundle(doc, raw):
    add("bundle", raw)
    vm = doc.get("verificationMaterial") or {}
    for c in (vm.get("x509CertificateChain") or {}).get("certificates") or []:
        certificate(b64(c.get("rawBytes", "")))
    certificate(b64((vm.get("certificate") or {}).get("rawBytes", "")))
    for t in (vm.get("timestampVerificationData") or {}).get("rfc3161Timestamps") or []:
        token = b64(t.get("signedTimestamp", ""))
        if token:
            add("timestamp", token)
    for e in vm.get("tlogEntries") or []:
        body = b64(e.get("canonicalizedBody", ""))
        if body:
            add("rekor_body", body)
        checkpoint = ((e.get("inclusionProof") or {}).get("checkpoint") or {}).get("envelope")
        if checkpoint:
            add("checkpoint", checkpoint)
    if isinstance(doc.get("dsseEnvelope"), dict):
        envelope(doc["dsseEnvelope"])

def trust_root(doc, raw):
    add("trust_root", raw)
    doc = doc.get("trustedRoot", doc)
    for group in ("certificateAuthorities", "timestampAuthorities"):
        for ca in doc.get(group) or []:
            for c in (ca.get("certChain") or {}).get("certificates") or []:
                certificate(b64(c.get("rawBytes", "")))

def json_file(path, raw):
    try:
        doc = json.loads(raw)
    except ValueError:
        # JSON lines (trust roots, in-toto .jsonl)
        for line in raw.splitlines():
            try:
                one = json.loads(line)
            except ValueError:
                continue
            if isinstance(one, dict):
                json_doc(path, line, one)
        return
    if isinstance(doc, dict):
        json_doc(path, raw, doc)

def json_doc(path, raw, doc):
    keys = set(doc)
    if "mediaType" in keys and "verificationMaterial" in keys:
        bundle(doc, raw)
    elif "tlogs" in keys or "trustedRoot" in keys:
        trust_root(doc, raw)
    elif {"payload", "payloadType"} <= keys:
        envelope(doc)
    elif "_type" in keys:
        add("statement", raw)
        envelope({"payloadType": "application/vnd.in-toto+json",
                  "payload": base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode(), "signatures": []})
    elif "bomFormat" in keys or "spdxVersion" in keys:
        add("sbom", raw)
    elif "schemaVersion" in keys and ("manifests" in keys or "layers" in keys):
        add("oci_manifest", raw)
    elif doc.get("kind") == "AdmissionReview":
        add("admission_review", raw)
    elif "kind" in keys and "apiVersion" in keys and "spec" in keys:
        add("rekor_body", raw)
    elif {"entries", "sequence", "issued"} <= keys:
        add("revocation", raw)

# 1. The shared vectors and the repository's own fixtures (JSON of every kind, by content).
for root in (vectors, repo):
    for path in walk(root):
        low = path.lower()
        if low.endswith((".json", ".jsonl", ".sigstore", ".intoto")):
            raw = read(path)
            if raw:
                json_file(path, raw)
        elif low.endswith((".pem", ".crt")):
            raw = read(path) or b""
            for m in re.finditer(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", raw, re.S):
                certificate(b64(m.group(1).decode()))
        elif low.endswith((".der", ".tsr")):
            raw = read(path)
            if raw:
                add("timestamp" if low.endswith(".tsr") else "certificate", raw)

# 2. YAML documents: declarative policies and vendor profiles (files, and fenced blocks in docs).
def yaml_text(text):
    if "hallmark.dev/policy/v1" in text:
        add("policy", text)
    if "hallmark.dev/vendor/v1" in text:
        add("vendor_profile", text)
    if "pkcs11:" in text:
        for m in re.finditer(r"pkcs11:[^\s\"'`)<>]*", text):
            add("pkcs11_uri", m.group(0))

for path in walk(repo):
    if path.endswith((".yaml", ".yml")):
        raw = read(path)
        if raw:
            yaml_text(raw.decode("utf-8", "replace"))
    elif path.endswith(".md") or path.endswith(".rs"):
        raw = read(path)
        if not raw:
            continue
        text = raw.decode("utf-8", "replace")
        for m in re.finditer(r"```(?:ya?ml|json)?\n(.*?)```", text, re.S):
            block = m.group(1)
            yaml_text(block)
            try:
                doc = json.loads(block)
            except ValueError:
                continue
            if isinstance(doc, dict):
                json_doc(path, block, doc)
        if "pkcs11:" in text:
            yaml_text(text)

# 3. Small hand-made seeds where the vectors have none.
add("pkcs11_uri", "pkcs11:token=hallmark;object=release?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin")
add("pkcs11_uri", "pkcs11:model=SoftHSM%20v2;manufacturer=SoftHSM%20project;serial=1;type=private;id=%01%02")
add("checkpoint", "rekor.sigstore.dev - 1193050959916656506\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n\u2014 rekor.sigstore.dev wNI9ajBFAiEA\n")
blob = b'{"_type":"https://in-toto.io/Statement/v1"}'
digest = "sha256:" + hashlib.sha256(blob).hexdigest()
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "artifactType": "application/vnd.dev.sigstore.bundle.v0.3+json",
            "config": {"mediaType": "application/vnd.oci.empty.v1+json",
                       "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a", "size": 2},
            "layers": [{"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json", "digest": digest, "size": len(blob)}],
            "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest, "size": len(blob)},
            "annotations": {"dev.sigstore.bundle.predicateType": "https://slsa.dev/provenance/v1"}}
add("oci_manifest", json.dumps(manifest))
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
         "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": digest,
                        "size": len(blob), "annotations": {"org.opencontainers.image.ref.name": "latest"}}]}
add("oci_manifest", json.dumps(index))
add("admission_review", json.dumps({"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {
    "uid": "705ab4f5-6393-11e8-b7cc-42010a800002", "kind": {"group": "", "version": "v1", "kind": "Pod"},
    "resource": {"group": "", "version": "v1", "resource": "pods"}, "namespace": "default", "operation": "CREATE",
    "object": {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "default"},
               "spec": {"containers": [{"name": "app", "image": "registry.example/app:1.0"}],
                        "initContainers": [{"name": "init", "image": "registry.example/init@" + digest}]}}}}))
add("revocation", json.dumps({"name": "plant", "sequence": 3, "issued": "2026-01-01T00:00:00Z",
    "expires": "2026-02-01T00:00:00Z", "entries": [
    {"kind": "artifact", "value": digest, "reason": "recalled", "effective": "2026-01-01T00:00:00Z"},
    {"kind": "identity", "value": "https://github.com/org/repo/.github/workflows/release.yml@refs/heads/main",
     "issuer": "https://token.actions.githubusercontent.com", "reason": "compromised", "effective": "2026-01-01T00:00:00Z"},
    {"kind": "key", "value": "0123abcd", "reason": "lost", "effective": "2026-01-01T00:00:00Z"},
    {"kind": "vendor", "value": "acme", "reason": "contract ended", "effective": "2026-01-01T00:00:00Z"}]}))

add("traceability", json.dumps({"target": "plant-a/line-3/hmi-2", "environment": "production",
    "replaces": digest, "lots": ["L-0042"], "workOrder": "WO-118", "change": "CHG-1234",
    "deployedAt": "2026-11-26T09:30:00Z"}))
add("traceability", json.dumps({"lot": "L-2026-0042", "target": "plant-a/line-3",
    "from": "2026-11-26T06:00:00Z", "to": "2026-11-26T14:00:00Z", "product": "valve-body-7"}))
add("traceability", "plant-a/line-3\nplant-a/line-3/hmi-2")
add("traceability", "plant-a/line-1\nplant-a/line-10")

def tar_bytes(members):
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            t.addfile(info, io.BytesIO(data))
    return out.getvalue()

layout = b'{"imageLayoutVersion":"1.0.0"}'
m = json.dumps(manifest).encode()
idx = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + hashlib.sha256(m).hexdigest(), "size": len(m)}]}).encode()
members = [("oci-layout", layout), ("index.json", idx),
           ("blobs/sha256/" + hashlib.sha256(m).hexdigest(), m),
           ("blobs/sha256/" + hashlib.sha256(blob).hexdigest(), blob)]
add("evidence_archive", tar_bytes(members))
add("evidence_archive", tar_bytes(members[:2]))

# 4. Regression inputs are seeds too: a fixed crash stays fixed.
regressions = os.path.join(fuzz, "regressions")
for path in walk(regressions):
    target = os.path.basename(os.path.dirname(path))
    raw = read(path)
    if raw:
        add(target, raw)

for target in sorted(os.listdir(os.path.join(fuzz, "fuzz_targets"))):
    name = target[:-3]
    d = os.path.join(corpus, name)
    os.makedirs(d, exist_ok=True)
    print(f"{name:18} {len(os.listdir(d)):6} seeds ({counts.get(name, 0)} new)")
PY
