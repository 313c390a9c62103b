'use strict';
// Installs the pinned hallmark release: download (http/https, redirects followed, size-limited),
// checksum against SHA256SUMS (and the sha256 input), unpack, keep in the runner's tool cache.
const fs = require('node:fs');
const path = require('node:path');
const os = require('node:os');
const crypto = require('node:crypto');
const { spawnSync } = require('node:child_process');

const DEFAULT_URL = 'https://github.com/hallmark-dev/hallmark/releases/download/v{version}';
const MAX_ARCHIVE = 256 * 1024 * 1024;
const MAX_SUMS = 1024 * 1024;

/** The release target for this runner: static musl builds (HALLMARK_TARGET overrides). */
function target(env = process.env, platform = process.platform, arch = process.arch) {
  if (env.HALLMARK_TARGET) return env.HALLMARK_TARGET;
  if (platform !== 'linux') throw new Error(`hallmark releases are built for Linux; this runner is ${platform}`);
  if (arch === 'x64') return 'x86_64-unknown-linux-musl';
  if (arch === 'arm64') return 'aarch64-unknown-linux-musl';
  throw new Error(`no hallmark release for ${arch}`);
}

function archiveName(version, tgt) {
  return `hallmark-${version}-${tgt}.tar.gz`;
}

/** The SHA-256 hex an SHA256SUMS text gives for `name`, or null; lines as sha256sum writes them. */
function checksumFor(sums, name) {
  for (const line of sums.split(/\r?\n/)) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m && m[2] === name) return m[1];
  }
  return null;
}

/** GET url into memory, following up to 5 redirects, refusing bodies over `limit` bytes. */
function get(url, limit, redirects = 5) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    if (u.protocol !== 'https:' && u.protocol !== 'http:') {
      reject(new Error(`unsupported download URL scheme ${u.protocol}`));
      return;
    }
    const lib = u.protocol === 'https:' ? require('node:https') : require('node:http');
    const req = lib.get(u, { headers: { 'user-agent': 'hallmark-action' }, timeout: 60000 }, (res) => {
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
      res.on('data', (c) => {
        size += c.length;
        if (size > limit) {
          req.destroy(new Error(`GET ${u.origin}${u.pathname}: larger than ${limit} bytes`));
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${u.origin}${u.pathname}: timed out`)));
    req.on('error', reject);
  });
}

/** Where the tool cache keeps a version (the @actions/tool-cache layout: tool/version/arch). */
function cacheDir(env, version, tgt) {
  const root = env.RUNNER_TOOL_CACHE || path.join(os.tmpdir(), 'hallmark-tool-cache');
  return path.join(root, 'hallmark', version, tgt);
}

/**
 * Returns the path of a hallmark binary for `version`: from the tool cache when a complete copy
 * is there, else downloaded, checked and cached. `log` receives progress lines.
 */
async function install({ version, baseUrl, sha256, env = process.env, log = () => {} }) {
  if (!/^[0-9A-Za-z.+-]+$/.test(version)) throw new Error(`invalid version ${JSON.stringify(version)}`);
  const tgt = target(env);
  const dir = cacheDir(env, version, tgt);
  const bin = path.join(dir, 'hallmark');
  if (fs.existsSync(`${dir}.complete`) && fs.existsSync(bin)) {
    log(`hallmark ${version} (${tgt}) from the tool cache: ${bin}`);
    return { bin, cached: true };
  }
  const base = (baseUrl || DEFAULT_URL).replace(/\{version\}/g, version).replace(/\/+$/, '');
  const name = archiveName(version, tgt);
  log(`downloading ${name} from ${new URL(base).origin}`);
  const sums = (await get(`${base}/SHA256SUMS`, MAX_SUMS)).toString('utf8');
  const expected = checksumFor(sums, name);
  if (!expected) throw new Error(`SHA256SUMS has no line for ${name}`);
  if (sha256 && sha256.replace(/^sha256:/, '').toLowerCase() !== expected) {
    throw new Error(`SHA256SUMS says ${expected} for ${name}, the sha256 input says ${sha256}`);
  }
  const archive = await get(`${base}/${name}`, MAX_ARCHIVE);
  const actual = crypto.createHash('sha256').update(archive).digest('hex');
  if (actual !== expected) {
    throw new Error(`checksum mismatch for ${name}: expected ${expected}, downloaded ${actual}`);
  }
  log(`sha256 ${actual} matches SHA256SUMS`);
  const tmp = fs.mkdtempSync(path.join(env.RUNNER_TEMP || os.tmpdir(), 'hallmark-install-'));
  try {
    fs.writeFileSync(path.join(tmp, name), archive);
    const top = name.replace(/\.tar\.gz$/, '');
    const tar = spawnSync('tar', ['-xzf', name, '--no-same-owner', `${top}/hallmark`], { cwd: tmp, encoding: 'utf8' });
    if (tar.status !== 0) throw new Error(`unpacking ${name} failed: ${tar.stderr || tar.error}`);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    fs.copyFileSync(path.join(tmp, top, 'hallmark'), bin);
    fs.chmodSync(bin, 0o755);
    fs.writeFileSync(`${dir}.complete`, '');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  log(`installed hallmark ${version} into the tool cache: ${bin}`);
  return { bin, cached: false };
}

/** The hallmark on PATH, or an error saying so. */
function onPath(env = process.env) {
  for (const d of (env.PATH || '').split(path.delimiter)) {
    if (!d) continue;
    const p = path.join(d, 'hallmark');
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  throw new Error('install is false but no hallmark is on PATH');
}

module.exports = { install, onPath, target, checksumFor, archiveName, cacheDir, DEFAULT_URL };
