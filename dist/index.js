"use strict";
var __getOwnPropNames = Object.getOwnPropertyNames;
var __commonJS = (cb, mod) => function __require() {
  try {
    return mod || (0, cb[__getOwnPropNames(cb)[0]])((mod = { exports: {} }).exports, mod), mod.exports;
  } catch (e) {
    throw mod = 0, e;
  }
};

// src/runner.js
var require_runner = __commonJS({
  "src/runner.js"(exports2, module2) {
    "use strict";
    var fs2 = require("node:fs");
    var crypto = require("node:crypto");
    var os2 = require("node:os");
    function input(name, env = process.env) {
      const v = env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`];
      return v === void 0 ? "" : v.trim();
    }
    function lines(value) {
      return (value || "").split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("#"));
    }
    function bool(name, value) {
      if (["true", "True", "TRUE"].includes(value)) return true;
      if (["false", "False", "FALSE", ""].includes(value)) return false;
      throw new Error(`input ${name}: expected true or false, got ${JSON.stringify(value)}`);
    }
    function appendKeyValue(variable, key, value, env = process.env) {
      const file = env[variable];
      const text = String(value);
      if (!file) {
        process.stdout.write(`::set-output name=${key}::${text}${os2.EOL}`);
        return;
      }
      const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
      if (key.includes(delimiter) || text.includes(delimiter)) throw new Error("unexpected delimiter in output");
      fs2.appendFileSync(file, `${key}<<${delimiter}${os2.EOL}${text}${os2.EOL}${delimiter}${os2.EOL}`);
    }
    function setOutput(key, value, env = process.env) {
      appendKeyValue("GITHUB_OUTPUT", key, value, env);
    }
    function summary2(markdown, env = process.env) {
      if (env.GITHUB_STEP_SUMMARY) fs2.appendFileSync(env.GITHUB_STEP_SUMMARY, markdown + os2.EOL);
    }
    function escapeData(s) {
      return String(s).replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
    }
    function mask(secret) {
      for (const l of String(secret).split(/\r?\n/)) {
        if (l.trim() !== "") process.stdout.write(`::add-mask::${escapeData(l)}${os2.EOL}`);
      }
    }
    var info = (m) => process.stdout.write(`${m}${os2.EOL}`);
    var warning = (m) => process.stdout.write(`::warning::${escapeData(m)}${os2.EOL}`);
    var error = (m) => process.stdout.write(`::error::${escapeData(m)}${os2.EOL}`);
    module2.exports = { input, lines, bool, setOutput, summary: summary2, mask, info, warning, error, escapeData };
  }
});

// src/args.js
var require_args = __commonJS({
  "src/args.js"(exports2, module2) {
    "use strict";
    var { lines, bool } = require_runner();
    var DIGEST = /^sha256:[0-9a-f]{64}$/;
    function signing(inp, keyFile, env) {
      const args = [];
      if (keyFile) args.push("--key", keyFile);
      else if (!env.HALLMARK_KEY) args.push("--keyless");
      if (!keyFile && !env.HALLMARK_KEY) {
        if (inp["signing-config"]) args.push("--signing-config", inp["signing-config"]);
        if (inp["fulcio-url"]) args.push("--fulcio-url", inp["fulcio-url"]);
        if (inp["rekor-url"]) args.push("--rekor-url", inp["rekor-url"]);
        if (inp["trusted-root"]) args.push("--sigstore-trusted-root", inp["trusted-root"]);
      }
      return args;
    }
    function repeat(flag, values) {
      return values.flatMap((v) => [flag, v]);
    }
    function insecure(inp) {
      return inp["allow-insecure-registry"] ? ["--allow-insecure-registry", inp["allow-insecure-registry"]] : [];
    }
    function runArgs2(inp, { keyFile, store, bundle, env }) {
      if (!inp.step) throw new Error("mode run needs the input step");
      if (!inp.command) throw new Error("mode run needs the input command");
      const products = lines(inp.products);
      if (products.length === 0 && lines(inp.materials).length === 0) {
        throw new Error("mode run needs products (what the step writes) or materials (what it checked)");
      }
      return [
        "run",
        "--step",
        inp.step,
        ...repeat("-m", lines(inp.materials)),
        ...repeat("-p", products),
        ...repeat("--exclude", lines(inp.exclude)),
        ...signing(inp, keyFile, env),
        "--store",
        store,
        "--output",
        bundle,
        "--",
        "bash",
        "--noprofile",
        "--norc",
        "-eo",
        "pipefail",
        "-c",
        inp.command
      ];
    }
    function subjects(inp) {
      const out = lines(inp["subject-path"]);
      const name = inp["subject-name"];
      const digest = inp["subject-digest"];
      if (name || digest) {
        if (!name || !digest) throw new Error("subject-name and subject-digest go together");
        if (!DIGEST.test(digest)) throw new Error(`subject-digest must be sha256:<64 hex>, got ${JSON.stringify(digest)}`);
        const bare = name.replace(/^oci:\/\//, "");
        out.push(bool("push-to-registry", inp["push-to-registry"]) ? `oci://${bare}@${digest}` : `${bare}@${digest}`);
      } else if (bool("push-to-registry", inp["push-to-registry"])) {
        throw new Error("push-to-registry needs the image as subject-name and subject-digest");
      }
      if (out.length === 0) throw new Error("mode attest needs subject-path, or subject-name with subject-digest");
      return out;
    }
    function attestArgs2(inp, { keyFile, store, bundle, env }) {
      const type = inp["predicate-type"];
      const predicate = inp["predicate-path"];
      if (Boolean(type) !== Boolean(predicate)) throw new Error("predicate-type and predicate-path go together");
      return [
        "attest",
        ...repeat("--subject", subjects(inp)),
        ...type ? ["--predicate", predicate, "--type", type] : ["--provenance"],
        ...repeat("--exclude", lines(inp.exclude)),
        ...signing(inp, keyFile, env),
        "--store",
        store,
        "--output",
        bundle,
        ...insecure(inp)
      ];
    }
    function verifyArgs2(inp, { store }) {
      if (!inp.artifact) throw new Error("mode verify needs the input artifact");
      const args = ["verify", inp.artifact, "--format", "json", "--store", store];
      if (inp.policy) args.push("--policy", inp.policy);
      args.push(...repeat("--key", lines(inp["public-key"])));
      if (inp["certificate-identity"]) args.push("--certificate-identity", inp["certificate-identity"]);
      if (inp["certificate-identity-regexp"]) {
        args.push("--certificate-identity-regexp", inp["certificate-identity-regexp"]);
      }
      if ((inp["certificate-identity"] || inp["certificate-identity-regexp"]) && inp["certificate-oidc-issuer"]) {
        args.push("--certificate-oidc-issuer", inp["certificate-oidc-issuer"]);
      }
      if (inp["trusted-root"]) args.push("--trusted-root", inp["trusted-root"]);
      args.push(...repeat("--step", lines(inp["required-steps"])));
      args.push(...repeat("--bundle", lines(inp.bundle)));
      args.push(...insecure(inp));
      return args;
    }
    module2.exports = { runArgs: runArgs2, attestArgs: attestArgs2, verifyArgs: verifyArgs2, subjects, signing };
  }
});

// src/install.js
var require_install = __commonJS({
  "src/install.js"(exports2, module2) {
    "use strict";
    var fs2 = require("node:fs");
    var path2 = require("node:path");
    var os2 = require("node:os");
    var crypto = require("node:crypto");
    var { spawnSync: spawnSync2 } = require("node:child_process");
    var DEFAULT_URL = "https://github.com/hallmark-dev/hallmark/releases/download/v{version}";
    var MAX_ARCHIVE = 256 * 1024 * 1024;
    var MAX_SUMS = 1024 * 1024;
    function target(env = process.env, platform = process.platform, arch = process.arch) {
      if (env.HALLMARK_TARGET) return env.HALLMARK_TARGET;
      if (platform !== "linux") throw new Error(`hallmark releases are built for Linux; this runner is ${platform}`);
      if (arch === "x64") return "x86_64-unknown-linux-musl";
      if (arch === "arm64") return "aarch64-unknown-linux-musl";
      throw new Error(`no hallmark release for ${arch}`);
    }
    function archiveName(version, tgt) {
      return `hallmark-${version}-${tgt}.tar.gz`;
    }
    function checksumFor(sums, name) {
      for (const line of sums.split(/\r?\n/)) {
        const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
        if (m && m[2] === name) return m[1];
      }
      return null;
    }
    function get(url, limit, redirects = 5) {
      return new Promise((resolve, reject) => {
        const u = new URL(url);
        if (u.protocol !== "https:" && u.protocol !== "http:") {
          reject(new Error(`unsupported download URL scheme ${u.protocol}`));
          return;
        }
        const lib = u.protocol === "https:" ? require("node:https") : require("node:http");
        const req = lib.get(u, { headers: { "user-agent": "hallmark-action" }, timeout: 6e4 }, (res) => {
          if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location) {
            res.resume();
            if (redirects === 0) reject(new Error(`too many redirects fetching ${u.origin}${u.pathname}`));
            else resolve(get(new URL(res.headers.location, u).toString(), limit, redirects - 1));
            return;
          }
          if (res.statusCode !== 200) {
            res.resume();
            reject(new Error(`GET ${u.origin}${u.pathname}: HTTP ${res.statusCode}`));
            return;
          }
          const chunks = [];
          let size = 0;
          res.on("data", (c) => {
            size += c.length;
            if (size > limit) {
              req.destroy(new Error(`GET ${u.origin}${u.pathname}: larger than ${limit} bytes`));
              return;
            }
            chunks.push(c);
          });
          res.on("end", () => resolve(Buffer.concat(chunks)));
          res.on("error", reject);
        });
        req.on("timeout", () => req.destroy(new Error(`GET ${u.origin}${u.pathname}: timed out`)));
        req.on("error", reject);
      });
    }
    function cacheDir(env, version, tgt) {
      const root = env.RUNNER_TOOL_CACHE || path2.join(os2.tmpdir(), "hallmark-tool-cache");
      return path2.join(root, "hallmark", version, tgt);
    }
    async function install2({ version, baseUrl, sha256, env = process.env, log = () => {
    } }) {
      if (!/^[0-9A-Za-z.+-]+$/.test(version)) throw new Error(`invalid version ${JSON.stringify(version)}`);
      const tgt = target(env);
      const dir = cacheDir(env, version, tgt);
      const bin = path2.join(dir, "hallmark");
      if (fs2.existsSync(`${dir}.complete`) && fs2.existsSync(bin)) {
        log(`hallmark ${version} (${tgt}) from the tool cache: ${bin}`);
        return { bin, cached: true };
      }
      const base = (baseUrl || DEFAULT_URL).replace(/\{version\}/g, version).replace(/\/+$/, "");
      const name = archiveName(version, tgt);
      log(`downloading ${name} from ${new URL(base).origin}`);
      const sums = (await get(`${base}/SHA256SUMS`, MAX_SUMS)).toString("utf8");
      const expected = checksumFor(sums, name);
      if (!expected) throw new Error(`SHA256SUMS has no line for ${name}`);
      if (sha256 && sha256.replace(/^sha256:/, "").toLowerCase() !== expected) {
        throw new Error(`SHA256SUMS says ${expected} for ${name}, the sha256 input says ${sha256}`);
      }
      const archive = await get(`${base}/${name}`, MAX_ARCHIVE);
      const actual = crypto.createHash("sha256").update(archive).digest("hex");
      if (actual !== expected) {
        throw new Error(`checksum mismatch for ${name}: expected ${expected}, downloaded ${actual}`);
      }
      log(`sha256 ${actual} matches SHA256SUMS`);
      const tmp = fs2.mkdtempSync(path2.join(env.RUNNER_TEMP || os2.tmpdir(), "hallmark-install-"));
      try {
        fs2.writeFileSync(path2.join(tmp, name), archive);
        const top = name.replace(/\.tar\.gz$/, "");
        const tar = spawnSync2("tar", ["-xzf", name, "--no-same-owner", `${top}/hallmark`], { cwd: tmp, encoding: "utf8" });
        if (tar.status !== 0) throw new Error(`unpacking ${name} failed: ${tar.stderr || tar.error}`);
        fs2.rmSync(dir, { recursive: true, force: true });
        fs2.mkdirSync(dir, { recursive: true });
        fs2.copyFileSync(path2.join(tmp, top, "hallmark"), bin);
        fs2.chmodSync(bin, 493);
        fs2.writeFileSync(`${dir}.complete`, "");
      } finally {
        fs2.rmSync(tmp, { recursive: true, force: true });
      }
      log(`installed hallmark ${version} into the tool cache: ${bin}`);
      return { bin, cached: false };
    }
    function onPath2(env = process.env) {
      for (const d of (env.PATH || "").split(path2.delimiter)) {
        if (!d) continue;
        const p = path2.join(d, "hallmark");
        try {
          fs2.accessSync(p, fs2.constants.X_OK);
          return p;
        } catch {
        }
      }
      throw new Error("install is false but no hallmark is on PATH");
    }
    module2.exports = { install: install2, onPath: onPath2, target, checksumFor, archiveName, cacheDir, DEFAULT_URL };
  }
});

// src/evidence.js
var require_evidence = __commonJS({
  "src/evidence.js"(exports2, module2) {
    "use strict";
    var fs2 = require("node:fs");
    var path2 = require("node:path");
    var crypto = require("node:crypto");
    var MAX_JSON = 16 * 1024 * 1024;
    function readJson(file) {
      const st = fs2.statSync(file);
      if (st.size > MAX_JSON) throw new Error(`${file} is larger than ${MAX_JSON} bytes`);
      return JSON.parse(fs2.readFileSync(file, "utf8"));
    }
    function sha256File(file) {
      return `sha256:${crypto.createHash("sha256").update(fs2.readFileSync(file)).digest("hex")}`;
    }
    function describeBundle(file) {
      const b = readJson(file);
      const env = b.dsseEnvelope || {};
      const statement = JSON.parse(Buffer.from(env.payload || "", "base64").toString("utf8"));
      const vm = b.verificationMaterial || {};
      const signer = vm.publicKey ? `key ${vm.publicKey.hint || ""}`.trim() : vm.certificate || vm.x509CertificateChain ? "keyless (Fulcio certificate, Rekor entry)" : "unknown";
      return {
        predicateType: statement.predicateType || "",
        subjects: (statement.subject || []).map((s) => ({ name: s.name || "", digest: s.digest || {} })),
        signer
      };
    }
    function manifestDigestOf(store, bundleDigest) {
      const index = readJson(path2.join(store, "index.json"));
      const seen = /* @__PURE__ */ new Set();
      for (const m of index.manifests || []) {
        if (!m.digest || seen.has(m.digest)) continue;
        seen.add(m.digest);
        const [alg, hex] = m.digest.split(":");
        if (alg !== "sha256" || !/^[0-9a-f]{64}$/.test(hex || "")) continue;
        let manifest;
        try {
          manifest = readJson(path2.join(store, "blobs", "sha256", hex));
        } catch {
          continue;
        }
        if ((manifest.layers || []).some((l) => l.digest === bundleDigest)) return m.digest;
      }
      return null;
    }
    function pending(store) {
      const file = path2.join(store, "pending.json");
      if (!fs2.existsSync(file)) return [];
      const p = readJson(file);
      return Array.isArray(p) ? p : [];
    }
    module2.exports = { describeBundle, manifestDigestOf, pending, sha256File, readJson };
  }
});

// src/summary.js
var require_summary = __commonJS({
  "src/summary.js"(exports2, module2) {
    "use strict";
    function cell(s) {
      return String(s).replace(/\|/g, "\\|").replace(/\r?\n/g, " ");
    }
    function attested({ mode, step, description, bundlePath, attestationDigest, pushed, pending, seconds }) {
      const title = mode === "run" ? `Hallmark: step \`${cell(step)}\` recorded` : "Hallmark: attested";
      const rows = description.subjects.map((s) => {
        const d = s.digest.sha256 ? `sha256:${s.digest.sha256}` : Object.entries(s.digest).map(([k, v]) => `${k}:${v}`).join(" ");
        return `| \`${cell(s.name || "(unnamed)")}\` | \`${cell(d)}\` |`;
      });
      const out = [
        `### ${title}`,
        "",
        "| subject | digest |",
        "|---|---|",
        ...rows,
        "",
        `- predicate: \`${cell(description.predicateType)}\``,
        `- signed: ${cell(description.signer)}`,
        `- bundle: \`${cell(bundlePath)}\``
      ];
      if (attestationDigest) out.push(`- in the store as \`${attestationDigest}\``);
      for (const t of pushed) out.push(`- pushed to \`${cell(t)}\``);
      for (const p of pending) out.push(`- **pending**: the push to \`${cell(p.target)}\` failed; the attestation waits in the store (\`hallmark push --pending\`)`);
      out.push(`- took ${seconds.toFixed(2)} s`);
      return out.join("\n") + "\n";
    }
    function verdict(doc, artifact) {
      if (doc.error) {
        return `### Hallmark: no decision for \`${cell(artifact)}\`

\`${cell(doc.error.code)}\`: ${cell(doc.error.message)}
`;
      }
      const name = doc.artifact ? `${doc.artifact.name || artifact} (${doc.artifact.digest})` : artifact;
      const out = [`### Hallmark: ${doc.allowed ? "ALLOWED" : "DENIED"} \`${cell(name)}\``, ""];
      if (doc.violations && doc.violations.length) {
        out.push("| code | why |", "|---|---|");
        for (const v of doc.violations) out.push(`| \`${cell(v.code)}\` | ${cell(v.message)} |`);
        out.push("");
      }
      const verified = (doc.attestations || []).filter((a) => a.verified);
      if (verified.length) {
        out.push("| verified attestation | step | from |", "|---|---|---|");
        for (const a of verified) out.push(`| \`${cell(a.predicateType)}\`${a.satisfies ? " (the required evidence)" : ""} | ${cell(a.step || "")} | ${cell(a.origin)} |`);
        out.push("");
      }
      if (doc.chain && Array.isArray(doc.chain.steps)) out.push(`Chain: ${doc.chain.steps.length} step(s) verified.`, "");
      return out.join("\n");
    }
    module2.exports = { attested, verdict };
  }
});

// src/index.js
var fs = require("node:fs");
var path = require("node:path");
var os = require("node:os");
var { spawn, spawnSync } = require("node:child_process");
var runner = require_runner();
var { runArgs, attestArgs, verifyArgs } = require_args();
var { install, onPath } = require_install();
var evidence = require_evidence();
var summary = require_summary();
var INPUTS = [
  "mode",
  "version",
  "install",
  "download-url",
  "sha256",
  "step",
  "command",
  "materials",
  "products",
  "exclude",
  "working-directory",
  "subject-path",
  "subject-name",
  "subject-digest",
  "predicate-type",
  "predicate-path",
  "push-to-registry",
  "on-push-failure",
  "signing-key",
  "signing-key-password",
  "fulcio-url",
  "rekor-url",
  "signing-config",
  "trusted-root",
  "artifact",
  "policy",
  "public-key",
  "certificate-identity",
  "certificate-identity-regexp",
  "certificate-oidc-issuer",
  "required-steps",
  "bundle",
  "store",
  "allow-insecure-registry",
  "github-token",
  "summary"
];
var DEFAULTS = {
  version: "0.1.0",
  install: "true",
  "working-directory": ".",
  "push-to-registry": "false",
  "on-push-failure": "fail",
  "certificate-oidc-issuer": "https://token.actions.githubusercontent.com",
  summary: "true"
};
function readInputs(env) {
  const inp = {};
  for (const name of INPUTS) {
    const v = runner.input(name, env);
    inp[name] = v === "" && DEFAULTS[name] !== void 0 && env[`INPUT_${name.toUpperCase()}`] === void 0 ? DEFAULTS[name] : v;
  }
  return inp;
}
function hallmark(bin, args, { cwd, env, quiet = false }) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      if (!quiet) process.stdout.write(d);
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      process.stdout.write(d);
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code: code === null ? 128 : code, signal, stdout, stderr }));
  });
}
function defaultStore(cwd, env) {
  if (env.HALLMARK_STORE) return path.resolve(cwd, env.HALLMARK_STORE);
  const top = spawnSync("git", ["rev-parse", "--show-toplevel"], { cwd, encoding: "utf8" });
  return path.join(top.status === 0 ? top.stdout.trim() : cwd, ".hallmark", "store");
}
function bundlePathFor(env, label) {
  const dir = path.join(env.RUNNER_TEMP || os.tmpdir(), "hallmark-attestations");
  fs.mkdirSync(dir, { recursive: true });
  const base = label.replace(/[^A-Za-z0-9._-]/g, "_") || "attestation";
  for (let i = 1; ; i++) {
    const p = path.join(dir, i === 1 ? `${base}.sigstore.json` : `${base}-${i}.sigstore.json`);
    if (!fs.existsSync(p)) return p;
  }
}
async function run(env = process.env) {
  const started = process.hrtime.bigint();
  let keyDir = null;
  let gate = false;
  try {
    const inp = readInputs(env);
    const mode = inp.mode;
    gate = mode === "verify";
    if (!["run", "attest", "verify"].includes(mode)) {
      throw new Error(`input mode must be run, attest or verify, got ${JSON.stringify(mode)}`);
    }
    if (!["fail", "warn"].includes(inp["on-push-failure"])) {
      throw new Error(`input on-push-failure must be fail or warn, got ${JSON.stringify(inp["on-push-failure"])}`);
    }
    if (inp["signing-key"]) runner.mask(inp["signing-key"]);
    if (inp["signing-key-password"]) runner.mask(inp["signing-key-password"]);
    if (inp["github-token"]) runner.mask(inp["github-token"]);
    const bin = runner.bool("install", inp.install) ? (await install({ version: inp.version, baseUrl: inp["download-url"], sha256: inp.sha256, env, log: runner.info })).bin : onPath(env);
    runner.setOutput("hallmark-path", bin, env);
    const cwd = path.resolve(env.GITHUB_WORKSPACE || process.cwd(), inp["working-directory"]);
    const store = inp.store ? path.resolve(cwd, inp.store) : defaultStore(cwd, env);
    const childEnv = { ...env };
    for (const k of Object.keys(childEnv)) if (k.startsWith("INPUT_")) delete childEnv[k];
    if (mode !== "run" && inp["github-token"] && !childEnv.GITHUB_TOKEN) childEnv.GITHUB_TOKEN = inp["github-token"];
    if (mode === "run") {
      for (const k of ["ACTIONS_RUNTIME_TOKEN", "ACTIONS_RUNTIME_URL", "ACTIONS_CACHE_URL", "ACTIONS_RESULTS_URL"]) delete childEnv[k];
    }
    if (mode === "verify") {
      const args2 = verifyArgs(inp, { store });
      runner.info(`hallmark ${args2.join(" ")}`);
      const res2 = await hallmark(bin, args2, { cwd, env: childEnv, quiet: true });
      let doc;
      try {
        doc = JSON.parse(res2.stdout);
      } catch {
        const why2 = res2.signal ? `was killed by ${res2.signal}` : `exited ${res2.code}`;
        const last = res2.stderr.trim().split("\n").slice(-3).join(" / ");
        throw new Error(`hallmark verify ${why2} without a JSON document${last ? `: ${last}` : ""}`);
      }
      process.stdout.write(`${JSON.stringify(doc, null, 2)}
`);
      const allowed = res2.code === 0 && doc.allowed === true;
      if (runner.bool("summary", inp.summary)) runner.summary(summary.verdict({ ...doc, allowed }, inp.artifact), env);
      runner.setOutput("allowed", allowed ? "true" : "false", env);
      gate = false;
      if (allowed) return;
      if (doc.error) throw new Error(`no decision: ${doc.error.code}: ${doc.error.message}`);
      const why = (doc.violations || []).map((v) => `${v.code}: ${v.message}`).join("; ");
      throw new Error(`DENIED ${inp.artifact}: ${why}`);
    }
    let keyFile = null;
    if (inp["signing-key"]) {
      keyDir = fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), "hallmark-key-"));
      keyFile = path.join(keyDir, "signing.key");
      fs.writeFileSync(keyFile, inp["signing-key"].endsWith("\n") ? inp["signing-key"] : `${inp["signing-key"]}
`, { mode: 384 });
      if (inp["signing-key-password"]) childEnv.HALLMARK_PASSWORD = inp["signing-key-password"];
    }
    const bundle = bundlePathFor(env, mode === "run" ? inp.step : "attestation");
    const ctx = { keyFile, store, bundle, env: childEnv };
    const args = mode === "run" ? runArgs(inp, ctx) : attestArgs(inp, ctx);
    runner.info(`hallmark ${args.join(" ")}`);
    const res = await hallmark(bin, args, { cwd, env: childEnv });
    if (!fs.existsSync(bundle)) {
      throw new Error(res.signal ? `hallmark ${mode} was killed by ${res.signal}` : `hallmark ${mode} exited ${res.code}; nothing was attested`);
    }
    const bundleDigest = evidence.sha256File(bundle);
    const manifest = evidence.manifestDigestOf(store, bundleDigest);
    const waiting = manifest ? evidence.pending(store).filter((p) => p.manifestDigest === manifest) : [];
    const pushTargets = mode === "attest" && runner.bool("push-to-registry", inp["push-to-registry"]) ? attestArgs(inp, ctx).filter((a, i, all) => all[i - 1] === "--subject" && a.startsWith("oci://")) : [];
    const pushedAs = new Map([...res.stderr.matchAll(/^hallmark: pushed to (\S+) as (sha256:[0-9a-f]{64})$/gm)].map((m) => [m[1], m[2]]));
    const pushed = pushTargets.filter((t) => pushedAs.has(t));
    runner.setOutput("bundle-path", bundle, env);
    runner.setOutput("attestation-digest", (pushed.length ? pushedAs.get(pushed[0]) : manifest) || "", env);
    runner.setOutput("pending", waiting.length > 0 ? "true" : "false", env);
    if (runner.bool("summary", inp.summary)) {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      runner.summary(summary.attested({
        mode,
        step: inp.step,
        description: evidence.describeBundle(bundle),
        bundlePath: bundle,
        attestationDigest: manifest,
        pushed: pushed.map((t) => `${t} as ${pushedAs.get(t)}`),
        pending: waiting,
        seconds
      }), env);
    }
    if (waiting.length > 0) {
      const msg = `the push to ${waiting.map((p) => p.target).join(", ")} failed: the attestation waits in ${store} (run hallmark push --pending)`;
      if (inp["on-push-failure"] === "warn") {
        runner.warning(msg);
        return;
      }
      throw new Error(msg);
    }
    if (res.code !== 0) throw new Error(`hallmark ${mode} exited ${res.code}`);
  } catch (e) {
    if (gate) runner.setOutput("allowed", "false", env);
    runner.error(e.message);
    process.exitCode = 1;
  } finally {
    if (keyDir) fs.rmSync(keyDir, { recursive: true, force: true });
  }
}
module.exports = { run, readInputs, INPUTS, DEFAULTS };
if (require.main === module) run();
