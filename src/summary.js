'use strict';
// The job summary, as markdown: what was attested, or why an artifact was denied.

function cell(s) {
  return String(s).replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function attested({ mode, step, description, bundlePath, attestationDigest, pushed, pending, seconds }) {
  const title = mode === 'run' ? `Hallmark: step \`${cell(step)}\` recorded` : 'Hallmark: attested';
  const rows = description.subjects.map((s) => {
    const d = s.digest.sha256 ? `sha256:${s.digest.sha256}` : Object.entries(s.digest).map(([k, v]) => `${k}:${v}`).join(' ');
    return `| \`${cell(s.name || '(unnamed)')}\` | \`${cell(d)}\` |`;
  });
  const out = [
    `### ${title}`,
    '',
    '| subject | digest |',
    '|---|---|',
    ...rows,
    '',
    `- predicate: \`${cell(description.predicateType)}\``,
    `- signed: ${cell(description.signer)}`,
    `- bundle: \`${cell(bundlePath)}\``,
  ];
  if (attestationDigest) out.push(`- in the store as \`${attestationDigest}\``);
  for (const t of pushed) out.push(`- pushed to \`${cell(t)}\``);
  for (const p of pending) out.push(`- **pending**: the push to \`${cell(p.target)}\` failed; the attestation waits in the store (\`hallmark push --pending\`)`);
  out.push(`- took ${seconds.toFixed(2)} s`);
  return out.join('\n') + '\n';
}

function verdict(doc, artifact) {
  if (doc.error) {
    return `### Hallmark: no decision for \`${cell(artifact)}\`\n\n\`${cell(doc.error.code)}\`: ${cell(doc.error.message)}\n`;
  }
  const name = doc.artifact ? `${doc.artifact.name || artifact} (${doc.artifact.digest})` : artifact;
  const out = [`### Hallmark: ${doc.allowed ? 'ALLOWED' : 'DENIED'} \`${cell(name)}\``, ''];
  if (doc.violations && doc.violations.length) {
    out.push('| code | why |', '|---|---|');
    for (const v of doc.violations) out.push(`| \`${cell(v.code)}\` | ${cell(v.message)} |`);
    out.push('');
  }
  const verified = (doc.attestations || []).filter((a) => a.verified);
  if (verified.length) {
    out.push('| verified attestation | step | from |', '|---|---|---|');
    for (const a of verified) out.push(`| \`${cell(a.predicateType)}\`${a.satisfies ? ' (the required evidence)' : ''} | ${cell(a.step || '')} | ${cell(a.origin)} |`);
    out.push('');
  }
  if (doc.chain && Array.isArray(doc.chain.steps)) out.push(`Chain: ${doc.chain.steps.length} step(s) verified.`, '');
  return out.join('\n');
}

module.exports = { attested, verdict };
