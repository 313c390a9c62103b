'use strict';
// The Action's entry point run for real through `npx local-action`, offline: keyless signing
// against the local Sigstore services through the GitHub Actions token path, a real registry,
// a release download checked against SHA256SUMS; then the examples/github pipeline replayed job
// by job. Needs: the hallmark and hallmark-testsvc debug binaries, docker-registry, strip,
// and `npm ci` (scripts/install-test-deps.sh). A missing piece fails the test, never skips it.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const h = require('./harness');
const { replay, report } = require('./replay');

/** The end of a step's log, for an assertion's message (what hallmark said when it failed). */
const tail = (step) => (step.log || '').slice(-3000);

const IDENTITY = `https://github.com/${h.WORKFLOW_REF}`;

describe('the Hallmark Action through local-action', () => {
  let bins, services, registry, release, tmp, source, sha;

  before(async () => {
    bins = h.binaries();
    h.which('npx');
    h.which('strip');
    tmp = h.tmpdir('e2e');
    services = await h.startServices(path.join(tmp, 'services'), bins.testsvc);
    registry = await h.startRegistry(path.join(tmp, 'registry'));
    release = await h.serveRelease(path.join(tmp, 'release'), bins.hallmark);
    // acme/app: the example pipeline's repository. Its policy names the issuer of the test OIDC
    // service instead of GitHub's (the only change: the certificates here come from that issuer).
    const src = path.join(tmp, 'source');
    fs.cpSync(path.join(h.ROOT, 'examples', 'github'), src, { recursive: true });
    const policy = path.join(src, 'release.yaml');
    fs.writeFileSync(policy, fs.readFileSync(policy, 'utf8').replaceAll('https://token.actions.githubusercontent.com', services.issuer));
    sha = h.sourceRepo(path.join(tmp, 'origin'), src);
    source = path.join(tmp, 'origin');
  });

  after(async () => {
    if (registry) await registry.stop();
    if (services) services.stop();
    if (release) release.stop();
    if (tmp && !process.env.HALLMARK_KEEP_TMP) fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** A job's workspace (a checkout of acme/app) and its runner variables. */
  function job(name) {
    const dir = path.join(tmp, 'jobs', name);
    const workspace = path.join(dir, 'work');
    h.checkout(source, workspace);
    return { dir, workspace, env: h.runnerEnv({ workspace, runnerDir: path.join(dir, 'runner'), services, job: name, sha }) };
  }

  const sigstore = () => ({
    'download-url': release.url,
    'fulcio-url': `${services.url}/fulcio`,
    'rekor-url': `${services.url}/rekor`,
    'trusted-root': services.trustedRoot,
  });

  it('run mode: installs the release (checksum, then the tool cache), records a step keyless, verify allows it', async () => {
    const j = job('run-keyless');
    const before = release.hits.length;
    // The runner's service credentials, as a real runner sets them.
    const runtime = { ACTIONS_RUNTIME_TOKEN: 'runtime-secret-0123456789', ACTIONS_CACHE_URL: 'http://127.0.0.1:9/_cache-secret/' };
    const r = await h.runAction({
      dir: path.join(j.dir, 'a'), env: { ...j.env, ...runtime },
      inputs: { mode: 'run', step: 'build', materials: 'src', products: 'out', command: 'mkdir -p out\ncc -O2 -o out/hello src/hello.c\nenv > ../build-env.txt', 'github-token': 'ghs_registrytoken0123456789', ...sigstore() },
    });
    assert.equal(r.code, 0, r.log);
    // The build command sees neither the registry token nor the OIDC runtime variables.
    const seen = fs.readFileSync(path.join(j.workspace, '..', 'build-env.txt'), 'utf8');
    for (const secret of ['ghs_registrytoken0123456789', j.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN, 'ACTIONS_ID_TOKEN_REQUEST_URL', ...Object.values(runtime)]) assert.ok(!seen.includes(secret), secret);
    for (const line of r.log.split('\n').filter((x) => x.includes('ghs_registrytoken0123456789'))) assert.match(line, /^::add-mask::/, line);
    assert.ok(release.hits.slice(before).some((u) => u.endsWith('SHA256SUMS')), 'downloaded SHA256SUMS');
    assert.match(r.log, /matches SHA256SUMS/);
    assert.match(r.log, /keyless identity/);
    const cached = path.join(j.env.RUNNER_TOOL_CACHE, 'hallmark', h.VERSION, h.TARGET, 'hallmark');
    assert.equal(r.outputs['hallmark-path'], cached);
    assert.equal(r.outputs.pending, 'false');
    assert.match(r.outputs['attestation-digest'], /^sha256:[0-9a-f]{64}$/);
    const bundle = JSON.parse(fs.readFileSync(r.outputs['bundle-path'], 'utf8'));
    assert.equal(bundle.mediaType, 'application/vnd.dev.sigstore.bundle.v0.3+json');
    assert.ok(bundle.verificationMaterial.certificate || bundle.verificationMaterial.x509CertificateChain, 'keyless: a certificate');
    const manifest = r.outputs['attestation-digest'].split(':')[1];
    assert.ok(fs.existsSync(path.join(j.workspace, '.hallmark', 'store', 'blobs', 'sha256', manifest)), 'the attestation is in the store');
    assert.match(r.summary, /### Hallmark: step `build` recorded/);
    assert.match(r.summary, /`out\/hello` \| `sha256:[0-9a-f]{64}`/);
    // Tokens never reach the log: not the runtime bearer, not an OIDC token (a JWT).
    assert.ok(!r.log.includes(j.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN));
    assert.doesNotMatch(r.log, /eyJ[A-Za-z0-9_-]{10,}\.eyJ/);

    // The same runner again: the tool cache answers, nothing is downloaded.
    const n = release.hits.length;
    const v = await h.runAction({
      dir: path.join(j.dir, 'b'), env: j.env,
      inputs: { mode: 'verify', artifact: 'out/hello', 'certificate-identity': IDENTITY, 'certificate-oidc-issuer': services.issuer, 'trusted-root': services.trustedRoot, 'required-steps': 'build', 'download-url': release.url },
    });
    assert.equal(v.code, 0, v.log);
    assert.equal(release.hits.length, n, 'no download: the tool cache was used');
    assert.match(v.log, /from the tool cache/);
    assert.equal(v.outputs.allowed, 'true');
    assert.match(v.summary, /### Hallmark: ALLOWED `out\/hello/);

    // A different identity: denied, the step fails, the summary says why.
    const d = await h.runAction({
      dir: path.join(j.dir, 'c'), env: j.env,
      inputs: { mode: 'verify', artifact: 'out/hello', 'certificate-identity': 'https://github.com/acme/other/.github/workflows/x.yml@refs/heads/main', 'certificate-oidc-issuer': services.issuer, 'trusted-root': services.trustedRoot, 'download-url': release.url },
    });
    assert.notEqual(d.code, 0, d.log);
    assert.equal(d.outputs.allowed, 'false');
    assert.match(d.summary, /DENIED/);
    assert.match(d.summary, /\| `attestation\.none-verified` \|/);
  });

  it('run and attest modes with a key from a secret; the key is masked and removed', async () => {
    const j = job('run-key');
    const keys = path.join(j.dir, 'keys');
    fs.mkdirSync(keys, { recursive: true });
    execFileSync(bins.hallmark, ['keygen', '--output', path.join(keys, 'ci')], { stdio: 'ignore' });
    const pem = fs.readFileSync(path.join(keys, 'ci.key'), 'utf8');
    const r = await h.runAction({
      dir: path.join(j.dir, 'a'), env: j.env,
      inputs: { mode: 'run', step: 'build', materials: 'src', products: 'out', command: 'mkdir -p out && cc -o out/hello src/hello.c', 'signing-key': pem, 'download-url': release.url },
    });
    assert.equal(r.code, 0, r.log);
    const bundle = JSON.parse(fs.readFileSync(r.outputs['bundle-path'], 'utf8'));
    assert.ok(bundle.verificationMaterial.publicKey, 'key-signed: a public key hint');
    assert.match(r.summary, /signed: key [0-9a-f]{64}/);
    // Each key line appears only inside the ::add-mask:: command that hides it.
    const body = pem.split('\n').filter((l) => l && !l.startsWith('-----'));
    for (const l of body) {
      for (const line of r.log.split('\n').filter((x) => x.includes(l))) assert.match(line, /^::add-mask::/, line);
    }
    assert.deepEqual(fs.readdirSync(j.env.RUNNER_TEMP).filter((f) => f.startsWith('hallmark-key-')), [], 'the key file is removed');

    // attest: a custom predicate over a file.
    fs.writeFileSync(path.join(j.workspace, 'scan.json'), JSON.stringify({ scanner: 'none', findings: [] }));
    const a = await h.runAction({
      dir: path.join(j.dir, 'b'), env: j.env,
      inputs: { mode: 'attest', 'subject-path': 'out/hello', 'predicate-type': 'https://example.com/scan/v1', 'predicate-path': 'scan.json', 'signing-key': pem, 'download-url': release.url },
    });
    assert.equal(a.code, 0, a.log);
    const ok = spawnSync(bins.hallmark, ['verify', 'out/hello', '--key', path.join(keys, 'ci.pub'), '--predicate-type', 'https://example.com/scan/v1', '--bundle', a.outputs['bundle-path']], { cwd: j.workspace, encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(a.summary, /predicate: `https:\/\/example.com\/scan\/v1`/);

    // install: false uses the hallmark on PATH (here: the tool-cache copy put on PATH).
    const binDir = path.dirname(r.outputs['hallmark-path']);
    const p = await h.runAction({
      dir: path.join(j.dir, 'c'), env: { ...j.env, PATH: `${binDir}:${process.env.PATH}` },
      inputs: { mode: 'verify', artifact: 'out/hello', 'public-key': path.join(keys, 'ci.pub'), install: 'false' },
    });
    assert.equal(p.code, 0, p.log);
    assert.equal(p.outputs['hallmark-path'], path.join(binDir, 'hallmark'));
  });

  it('attest mode pushes job provenance next to an image; a failed push leaves it pending in the outbox', async () => {
    const j = job('attest-push');
    // An image in the registry: the example's layout script, copied with hallmark.
    const digest = execFileSync('sh', ['scripts/oci-image.sh', 'src/hello.c', 'image'], { cwd: j.workspace, encoding: 'utf8' }).trim();
    const image = `${registry.host}/acme/app/hello`;
    execFileSync(bins.hallmark, ['copy', 'image', `oci://${image}:v1`, '--allow-insecure-registry', registry.host], { cwd: j.workspace, stdio: 'pipe' });
    const inputs = { mode: 'attest', 'subject-name': image, 'subject-digest': digest, 'push-to-registry': 'true', 'allow-insecure-registry': registry.host, ...sigstore() };
    const r = await h.runAction({ dir: path.join(j.dir, 'a'), env: j.env, inputs });
    assert.equal(r.code, 0, r.log);
    assert.equal(r.outputs.pending, 'false');
    const att = r.outputs['attestation-digest'];
    const got = await h.httpGet(`http://${registry.host}/v2/acme/app/hello/manifests/${att}`, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(got.status, 200, 'the attestation manifest is in the registry');
    assert.equal(JSON.parse(got.body).subject.digest, digest);
    assert.ok(r.summary.includes(`pushed to \`oci://${image}@${digest} as ${att}\``), r.summary);
    const statement = JSON.parse(Buffer.from(JSON.parse(fs.readFileSync(r.outputs['bundle-path'], 'utf8')).dsseEnvelope.payload, 'base64'));
    assert.equal(statement.predicate.buildDefinition.buildType, 'https://actions.github.io/buildtypes/workflow/v1');

    // The registry goes away: the attestation is signed and stored, the push waits.
    await registry.stop();
    const down = await h.runAction({ dir: path.join(j.dir, 'b'), env: j.env, inputs });
    assert.notEqual(down.code, 0, 'on-push-failure defaults to fail');
    assert.equal(down.outputs.pending, 'true', down.log);
    const store = path.join(j.workspace, '.hallmark', 'store');
    const pending = JSON.parse(fs.readFileSync(path.join(store, 'pending.json'), 'utf8'));
    assert.ok(pending.some((p) => p.manifestDigest === down.outputs['attestation-digest'] && p.target === `oci://${image}@${digest}`), JSON.stringify(pending));
    assert.ok(fs.existsSync(path.join(store, 'blobs', 'sha256', down.outputs['attestation-digest'].split(':')[1])));
    assert.match(down.summary, /\*\*pending\*\*/);
    const warn = await h.runAction({ dir: path.join(j.dir, 'c'), env: j.env, inputs: { ...inputs, 'on-push-failure': 'warn' } });
    assert.equal(warn.code, 0, warn.log);
    assert.equal(warn.outputs.pending, 'true');
    assert.match(warn.log, /::warning::the push to/);

    // Back again on the same port: hallmark push --pending empties the outbox.
    registry = await h.startRegistry(path.join(tmp, 'registry'), registry.port);
    const push = spawnSync(bins.hallmark, ['push', '--pending', '--allow-insecure-registry', registry.host], { cwd: j.workspace, encoding: 'utf8' });
    assert.equal(push.status, 0, push.stderr);
    const pushedAs = new RegExp(`pushed ${down.outputs['attestation-digest']} to \\S+ as (sha256:[0-9a-f]{64})`).exec(push.stderr);
    assert.ok(pushedAs, push.stderr);
    const later = await h.httpGet(`http://${registry.host}/v2/acme/app/hello/manifests/${pushedAs[1]}`, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(later.status, 200);
    const layer = JSON.parse(later.body).layers[0].digest;
    const bundleDigest = `sha256:${require('node:crypto').createHash('sha256').update(fs.readFileSync(down.outputs['bundle-path'])).digest('hex')}`;
    assert.equal(layer, bundleDigest, 'the registry holds the bundle the failed run signed');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(store, 'pending.json'), 'utf8')).filter((p) => p.manifestDigest === down.outputs['attestation-digest']), []);
  });

  it('a download URL that is not http(s), or a pinned sha256 that SHA256SUMS contradicts, is refused before anything runs', async () => {
    const j = job('tampered');
    const bad = release.dir;
    const r = await h.runAction({ dir: path.join(j.dir, 'a'), env: j.env, inputs: { mode: 'verify', artifact: 'src/hello.c', 'download-url': `file://${bad}` } });
    assert.notEqual(r.code, 0);
    assert.match(r.log, /unsupported download URL scheme file:/);
    const served = await h.runAction({ dir: path.join(j.dir, 'b'), env: j.env, inputs: { mode: 'verify', artifact: 'src/hello.c', 'download-url': release.url, sha256: 'f'.repeat(64) } });
    assert.notEqual(served.code, 0);
    assert.match(served.log, /the sha256 input says f{64}/);
    assert.ok(!fs.existsSync(path.join(j.env.RUNNER_TOOL_CACHE, 'hallmark', h.VERSION, `${h.TARGET}.complete`)));
  });

  describe('examples/github replayed job by job', () => {
    const workflow = path.join(h.ROOT, 'examples', 'github', '.github', 'workflows', 'release.yml');
    // One tool cache for every job of every replay (a self-hosted runner's): the first tests
    // cover the download, its checks and the cache; here each job would write another 35 MB copy
    // of the debug build, a gigabyte over the suite.
    const opts = (base, edit) => ({
      base, source, sha, services, edit, toolCache: path.join(tmp, 'replay-tool-cache'),
      hallmarkInputs: sigstore(),
      envOverrides: { REGISTRY: registry.host, IMAGE: `${registry.host}/acme/app/hello`, INSECURE_REGISTRY: registry.host },
    });

    // Each replay after the first pushes to its own repository: the image is reproducible, and
    // attestations another replay left next to the same digest must not decide this one.
    const own = (base, edit, repo) => {
      const o = opts(base, edit);
      o.envOverrides = { ...o.envOverrides, IMAGE: `${registry.host}/acme/app/${repo}` };
      return o;
    };

    it('source → build → test → package → image → attest → the gate allows the image from the registry', async () => {
      const result = await replay(workflow, opts(path.join(tmp, 'replay-ok')));
      const text = report(result);
      for (const j of ['build', 'test', 'package', 'image', 'verify']) assert.equal(result.jobs[j].status, 'success', text);
      const gate = result.jobs.verify.steps.at(-1);
      assert.equal(gate.outputs.allowed, 'true', tail(gate));
      assert.match(gate.summary, /ALLOWED `.*acme\/app\/hello/);
      assert.match(gate.summary, /Chain: 4 step\(s\) verified/);
      const digest = result.jobs.image.outputs.digest;
      assert.match(digest, /^sha256:[0-9a-f]{64}$/);
      // The gate's store was empty: the evidence came from the registry.
      assert.ok(!fs.existsSync(path.join(result.jobs.verify.workspace, '.hallmark', 'store', 'index.json')) ||
        JSON.parse(fs.readFileSync(path.join(result.jobs.verify.workspace, '.hallmark', 'store', 'index.json'), 'utf8')).manifests.length === 0);
    });

    // The release policy written by `hallmark policy init --from` the workflow itself (the
    // issuer is the test services'): it allows the replayed run, and denies the run whose test
    // job still runs its command but no longer records it, and the run with an artifact swapped.
    it('a policy derived from the workflow allows the real run and denies it without the test step or with a swapped artifact', async () => {
      const derived = path.join(tmp, 'derived-release.yaml');
      execFileSync(bins.hallmark, ['policy', 'init', '--from', workflow, '--repository', 'https://github.com/acme/app',
        '--issuer', services.issuer, '--output', derived], { stdio: 'pipe' });
      const gateUses = (wf) => {
        const gate = wf.jobs.verify.steps.find((s) => s.with && s.with.mode === 'verify');
        gate.with.policy = derived;
      };
      const ok = await replay(workflow, own(path.join(tmp, 'replay-derived'), gateUses, 'derived'));
      const gate = ok.jobs.verify.steps.at(-1);
      assert.equal(gate.outputs.allowed, 'true', report(ok));
      const untested = await replay(workflow, own(path.join(tmp, 'replay-derived-untested'), (wf) => {
        gateUses(wf);
        const steps = wf.jobs.test.steps;
        const at = steps.findIndex((st) => st.with && st.with.step === 'test');
        steps[at] = { run: steps[at].with.command };
      }, 'derived-untested'));
      const text = report(untested);
      assert.equal(untested.jobs.test.status, 'success', text);
      assert.equal(untested.jobs.verify.status, 'failure', text);
      const denied = untested.jobs.verify.steps.at(-1);
      assert.equal(denied.outputs.allowed, 'false', tail(denied));
      assert.match(denied.summary, /DENIED/, tail(denied));
      // For the missing step, or for the report no recorded step produced.
      assert.match(denied.summary, /`(step\.missing|chain\.unattested-input)`/, denied.summary);
      // An artifact swapped between jobs: the package job downloads the build's output where
      // the test reports belong. Every step still records; the hand-over is the wrong one.
      const swapped = await replay(workflow, own(path.join(tmp, 'replay-derived-swapped'), (wf) => {
        gateUses(wf);
        const dl = wf.jobs.package.steps.find((st) => st.with && st.with.name === 'reports');
        dl.with.name = 'out';
      }, 'derived-swapped'));
      const swapText = report(swapped);
      assert.equal(swapped.jobs.package.status, 'success', swapText);
      assert.equal(swapped.jobs.verify.status, 'failure', swapText);
      const swapGate = swapped.jobs.verify.steps.at(-1);
      assert.equal(swapGate.outputs.allowed, 'false', tail(swapGate));
      assert.match(swapGate.summary, /`chain\.input-from-wrong-step` \| .*reports\/hello/, swapGate.summary);
    });

    it('a package job that slips in a file no step produced is denied by the gate, by name', async () => {
      const result = await replay(workflow, own(path.join(tmp, 'replay-tampered'), (wf) => {
        const steps = wf.jobs.package.steps;
        const at = steps.findIndex((s) => s.with && s.with.step === 'package');
        steps.splice(at, 0, { run: 'echo "not from any step" > reports/extra.txt' });
      }, 'tampered'));
      const text = report(result);
      for (const j of ['build', 'test', 'package', 'image']) assert.equal(result.jobs[j].status, 'success', text);
      assert.equal(result.jobs.verify.status, 'failure', text);
      const gate = result.jobs.verify.steps.at(-1);
      assert.equal(gate.outputs.allowed, 'false', tail(gate));
      assert.match(gate.summary, /DENIED/, tail(gate));
      assert.match(gate.summary, /`chain\.unattested-input` \| .*reports\/extra\.txt/);
    });
  });
});
