'use strict';
// The GitHub Actions runner protocol with node built-ins: inputs from INPUT_*, outputs and the job
// summary through the files the runner names, messages as workflow commands.
const fs = require('node:fs');
const crypto = require('node:crypto');
const os = require('node:os');

/** An input's value as the runner passes it (INPUT_ + name upper-cased, spaces as _), trimmed. */
function input(name, env = process.env) {
  const v = env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`];
  return v === undefined ? '' : v.trim();
}

/** A multi-line input as a list: one item per line (commas do not split: paths may hold them). */
function lines(value) {
  return (value || '').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

/** A boolean input as the YAML 1.2 core schema spells it; anything else is an error. */
function bool(name, value) {
  if (['true', 'True', 'TRUE'].includes(value)) return true;
  if (['false', 'False', 'FALSE', ''].includes(value)) return false;
  throw new Error(`input ${name}: expected true or false, got ${JSON.stringify(value)}`);
}

/** Appends NAME<<DELIM value DELIM to the file in `variable` (GITHUB_OUTPUT), as the runner reads it. */
function appendKeyValue(variable, key, value, env = process.env) {
  const file = env[variable];
  const text = String(value);
  if (!file) {
    // Without the file (an old runner), the workflow command; values here never hold newlines.
    process.stdout.write(`::set-output name=${key}::${text}${os.EOL}`);
    return;
  }
  const delimiter = `ghadelimiter_${crypto.randomUUID()}`;
  if (key.includes(delimiter) || text.includes(delimiter)) throw new Error('unexpected delimiter in output');
  fs.appendFileSync(file, `${key}<<${delimiter}${os.EOL}${text}${os.EOL}${delimiter}${os.EOL}`);
}

function setOutput(key, value, env = process.env) {
  appendKeyValue('GITHUB_OUTPUT', key, value, env);
}

/** Appends markdown to $GITHUB_STEP_SUMMARY (nothing when the runner names no file). */
function summary(markdown, env = process.env) {
  if (env.GITHUB_STEP_SUMMARY) fs.appendFileSync(env.GITHUB_STEP_SUMMARY, markdown + os.EOL);
}

/** Escapes data for a workflow command (as @actions/core does). */
function escapeData(s) {
  return String(s).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** Asks the runner to mask a secret in every log line; each line of a multi-line secret too. */
function mask(secret) {
  for (const l of String(secret).split(/\r?\n/)) {
    if (l.trim() !== '') process.stdout.write(`::add-mask::${escapeData(l)}${os.EOL}`);
  }
}

const info = (m) => process.stdout.write(`${m}${os.EOL}`);
const warning = (m) => process.stdout.write(`::warning::${escapeData(m)}${os.EOL}`);
const error = (m) => process.stdout.write(`::error::${escapeData(m)}${os.EOL}`);

module.exports = { input, lines, bool, setOutput, summary, mask, info, warning, error, escapeData };
