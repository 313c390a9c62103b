'use strict';
// Replays a GitHub workflow job by job on this machine: each job gets a fresh checkout, runner
// directories and the runner's variables; the Hallmark Action runs through local-action,
// actions/checkout and the artifact actions are done by hand as the runner does them, `run:`
// steps run under bash. Expressions are evaluated for the contexts the examples use; anything
// else (an `if:`, another action, an unknown expression) fails the replay by name.
const fs = require('node:fs');
const path = require('node:path');
const YAML = require('yaml');
const h = require('./harness');

function evaluate(expr, ctx) {
  const e = expr.trim();
  let m;
  if ((m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e))) return ctx.steps[m[1]]?.outputs?.[m[2]] ?? '';
  if ((m = /^needs\.([\w-]+)\.outputs\.([\w-]+)$/.exec(e))) {
    if (!ctx.needs[m[1]]) throw new Error(`expression ${e}: job ${m[1]} is not in needs`);
    return ctx.needs[m[1]].outputs[m[2]] ?? '';
  }
  if ((m = /^env\.(\w+)$/.exec(e))) return ctx.env[m[1]] ?? '';
  if (e === 'github.token' || e === 'secrets.GITHUB_TOKEN') return '';
  if (e === 'github.sha') return ctx.env.GITHUB_SHA;
  if (e === 'github.repository') return ctx.env.GITHUB_REPOSITORY;
  if (e === 'github.workspace') return ctx.env.GITHUB_WORKSPACE;
  if (e === 'runner.temp') return ctx.env.RUNNER_TEMP;
  throw new Error(`the replay does not know the expression \${{ ${e} }}`);
}

function substitute(value, ctx) {
  if (typeof value === 'boolean' || typeof value === 'number') return String(value);
  return String(value).replace(/\$\{\{(.*?)\}\}/g, (_, e) => evaluate(e, ctx));
}

function order(jobs) {
  const done = [];
  const visit = (name, stack = []) => {
    if (done.includes(name)) return;
    if (stack.includes(name)) throw new Error(`needs cycle at ${name}`);
    for (const n of [].concat(jobs[name].needs || [])) visit(n, [...stack, name]);
    done.push(name);
  };
  Object.keys(jobs).forEach((j) => visit(j));
  return done;
}

function copyInto(from, to) {
  fs.mkdirSync(to, { recursive: true });
  fs.cpSync(from, to, { recursive: true });
}

/**
 * replay(workflowFile, { base, source, sha, services, hallmarkInputs, envOverrides, edit, toolCache })
 * → { jobs: { NAME: { status: 'success'|'failure'|'skipped', steps: [...], outputs } } }
 * With `toolCache`, every job uses that tool cache, as on a self-hosted runner (a hosted runner
 * starts each job with an empty one): the Action installs hallmark once, not once per job.
 */
async function replay(file, opts) {
  const wf = YAML.parse(fs.readFileSync(file, 'utf8'));
  if (opts.edit) opts.edit(wf);
  const artifacts = path.join(opts.base, 'artifacts');
  const results = {};
  for (const name of order(wf.jobs)) {
    const job = wf.jobs[name];
    const needs = [].concat(job.needs || []);
    if (needs.some((n) => results[n].status !== 'success')) {
      results[name] = { status: 'skipped', steps: [], outputs: {} };
      continue;
    }
    if (job.if !== undefined) throw new Error(`job ${name}: the replay does not evaluate if:`);
    const dir = path.join(opts.base, 'jobs', name);
    const workspace = path.join(dir, 'work');
    const runner = h.runnerEnv({ workspace, runnerDir: path.join(dir, 'runner'), services: opts.services, job: name, sha: opts.sha, toolCache: opts.toolCache });
    const ctx = { env: { ...runner }, steps: {}, needs: Object.fromEntries(needs.map((n) => [n, results[n]])) };
    for (const [k, v] of Object.entries(wf.env || {})) ctx.env[k] = k in (opts.envOverrides || {}) ? opts.envOverrides[k] : substitute(v, ctx);
    for (const [k, v] of Object.entries(job.env || {})) ctx.env[k] = substitute(v, ctx);
    fs.mkdirSync(workspace, { recursive: true });
    const steps = [];
    let status = 'success';
    for (const [i, step] of job.steps.entries()) {
      if (step.if !== undefined) throw new Error(`job ${name} step ${i}: the replay does not evaluate if:`);
      const env = { ...ctx.env };
      for (const [k, v] of Object.entries(step.env || {})) env[k] = substitute(v, { ...ctx, env });
      const w = Object.fromEntries(Object.entries(step.with || {}).map(([k, v]) => [k, substitute(v, { ...ctx, env })]));
      const stepDir = path.join(dir, 'steps', String(i));
      fs.mkdirSync(stepDir, { recursive: true });
      let r;
      const uses = step.uses || '';
      if (uses.startsWith('actions/checkout@')) {
        fs.rmSync(workspace, { recursive: true, force: true });
        h.checkout(opts.source, workspace);
        r = { code: 0, outputs: {} };
      } else if (uses.startsWith('actions/upload-artifact@')) {
        const p = path.join(workspace, w.path);
        if (w.path.includes('\n') || !fs.existsSync(p)) throw new Error(`job ${name}: upload-artifact path ${w.path} (one existing path)`);
        const dest = path.join(artifacts, w.name);
        if (fs.existsSync(dest)) throw new Error(`artifact ${w.name} uploaded twice`);
        if (fs.statSync(p).isDirectory()) copyInto(p, dest); else copyInto(p, path.join(dest, path.basename(p)));
        r = { code: 0, outputs: {} };
      } else if (uses.startsWith('actions/download-artifact@')) {
        const from = path.join(artifacts, w.name);
        if (!fs.existsSync(from)) throw new Error(`job ${name}: no artifact ${w.name}`);
        copyInto(from, path.join(workspace, w.path || '.'));
        r = { code: 0, outputs: {} };
      } else if (/^hallmark-dev\/hallmark@/.test(uses) || uses === './') {
        r = await h.runAction({ inputs: { ...w, ...opts.hallmarkInputs }, env, dir: stepDir });
      } else if (step.run !== undefined) {
        const output = path.join(stepDir, 'github_output');
        fs.writeFileSync(output, '');
        const p = await h.exec('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', substitute(step.run, { ...ctx, env })], {
          cwd: workspace, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env, GITHUB_OUTPUT: output },
        });
        r = { code: p.status, log: `${p.stdout}\n${p.stderr}`, outputs: h.parseOutputs(fs.readFileSync(output, 'utf8')) };
      } else {
        throw new Error(`job ${name} step ${i}: the replay does not run ${uses || JSON.stringify(step)}`);
      }
      steps.push({ name: step.name || step.id || uses || 'run', ...r });
      if (step.id) ctx.steps[step.id] = { outputs: r.outputs };
      if (r.code !== 0) { status = 'failure'; break; }
    }
    const outputs = {};
    if (status === 'success') for (const [k, v] of Object.entries(job.outputs || {})) outputs[k] = substitute(v, ctx);
    results[name] = { status, steps, outputs, workspace };
  }
  return { jobs: results };
}

/** A readable account of a replay, for assertion messages. */
function report(result) {
  return Object.entries(result.jobs).map(([n, j]) => `${n}: ${j.status}${j.steps.length ? '\n' + j.steps.map((s) => `  - ${s.name}: exit ${s.code}${s.code !== 0 ? '\n' + (s.log || '').slice(-4000) : ''}`).join('\n') : ''}`).join('\n');
}

module.exports = { replay, report, evaluate };
