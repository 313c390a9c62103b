# Is every step built from the source it claims, and from one source? Always on.
#
# - source.commit-mismatch: the CI platform named another commit or repository than the checkout
#   the step built (a job that checked out another ref or a fork, e.g. pull_request_target); the
#   provenance records the checkout's commit and the platform's claim (provenance.sourceCiClaim).
# - source.dirty: the step was built from a tree with uncommitted changes, unless the setting
#   allow_dirty_source is true.
# - source.claim-mismatch: a keyless step's certificate (Fulcio extensions sourceRepositoryURI,
#   sourceRepositoryRef, sourceRepositoryDigest, vouched for by the CI's OIDC token) names
#   another repository, ref or commit than the provenance records.
# - chain.mixed-sources: a step consumed an input that no step of its own source commit (or, for
#   steps run in CI, of its own pipeline run) produced, unless the setting allow_mixed_sources is
#   true. Without this, yesterday's genuine build output could be packaged today.
package hallmark

import rego.v1

# Every verified provenance with the signer details of the signature(s) that verified it.
# The chain's steps (whole-job ones included) and the provenance attestations of the artifact,
# with their signer details.
provenance_records := array.concat(chain_steps, [a | some a in input.attestations; is_object(a.provenance)])

deny contains v if {
	some p in provenances
	claim := p.provenance.sourceCiClaim
	is_object(claim)
	v := {
		"code": "source.commit-mismatch",
		"msg": sprintf("%s built %s at commit %s, but the CI platform ran for %s %s at commit %s: the job built another checkout than the one it ran for", [step_ref(p), quote(object.get(p.provenance, "sourceUri", null)), quote(object.get(p.provenance, "sourceCommit", null)), quote(object.get(claim, "repository", null)), quote(object.get(claim, "ref", null)), quote(object.get(claim, "commit", null))]),
		"attestation": p.origin,
		"step": p.step,
		"expected": claim,
		"actual": {"commit": object.get(p.provenance, "sourceCommit", null), "sourceUri": object.get(p.provenance, "sourceUri", null)},
	}
}

deny contains v if {
	not settings.allow_dirty_source == true
	some p in provenances
	p.provenance.sourceDirty == true
	v := {
		"code": "source.dirty",
		"msg": sprintf("%s was built from a working tree with uncommitted changes to %s (set allow_dirty_source to accept this)", [step_ref(p), quote(object.get(p.provenance, "sourceUri", null))]),
		"attestation": p.origin,
		"step": p.step,
		"expected": false,
		"actual": true,
	}
}

# The certificate's source extensions against the provenance's source, one finding per field.
claim_fields := {
	"sourceRepositoryDigest": "commit",
	"sourceRepositoryRef": "ref",
	"sourceRepositoryURI": "repository",
}

# Whether some signature may carry certificate extensions (keyless), and whether some input may
# have crossed from another build: told by the input's summary (certifiedSigners, crossed) when
# it has one; without one, every record is looked at.
may_be_certified if not is_number(input.summary.certifiedSigners)

may_be_certified if input.summary.certifiedSigners > 0

may_have_crossed if not is_number(input.summary.crossed)

may_have_crossed if input.summary.crossed > 0

deny contains v if {
	may_be_certified
	some p in provenance_records
	some d in p.signerDetails
	is_object(d.extensions)
	some ext, field in claim_fields
	certified := d.extensions[ext]
	is_string(certified)
	certified != ""
	recorded := recorded_source(p.provenance, field)
	not same_source_value(field, certified, recorded)
	v := {
		"code": "source.claim-mismatch",
		"msg": sprintf("%s records source %s %s, but its signing certificate (%s) says %s", [step_ref(p), field, quote(recorded), ext, quote(certified)]),
		"attestation": p.origin,
		"step": object.get(p, "step", null),
		"expected": certified,
		"actual": recorded,
	}
}

# What the provenance records for a field: the commit, or the repository / ref of its
# "git+<repo>@<ref>" sourceUri (sourceRepository and sourceRef, split once in Rust; see
# docs/policy-input.md). Undefined when it records no source at all (nothing to compare); null
# when it records a source without that part.
recorded_source(prov, "commit") := object.get(prov, "sourceCommit", null) if recorded_any_source(prov)

recorded_source(prov, "repository") := object.get(prov, "sourceRepository", null) if recorded_any_source(prov)

recorded_source(prov, "ref") := object.get(prov, "sourceRef", null) if recorded_any_source(prov)

recorded_any_source(prov) if is_string(prov.sourceUri)

recorded_any_source(prov) if is_string(prov.sourceCommit)

same_source_value("commit", certified, recorded) if {
	is_string(recorded)
	lower(certified) == lower(recorded)
}

same_source_value("ref", certified, recorded) if certified == recorded

same_source_value("repository", certified, recorded) if {
	is_string(recorded)
	normal_repo(certified) == normal_repo(recorded)
}

normal_repo(url) := trim_suffix(trim_suffix(lower(url), "/"), ".git")

# One source commit and one pipeline run per build: every input a step consumed from another
# step must have a producer built from the same commit (and, when the consumer ran in CI, in the
# same pipeline run). Identical outputs rebuilt from other commits are extra producers and do no
# harm; an input whose every producer is from elsewhere is a hand-over across builds. A step with
# no value (no commit recorded, or run outside CI) that consumes inputs from steps with one
# cannot show it belongs to their build: those inputs count too. Which inputs crossed over is a
# fact of the evidence, computed once per step (crossed.commit, crossed.run: indices into its
# materials; docs/policy-input.md); whether that is allowed is the policy's.
mixed_fields := {
	"commit": {"key": "sourceCommit", "producers": "producerCommits", "what": "commit"},
	"run": {"key": "pipelineRun", "producers": "producerRuns", "what": "pipeline run"},
}

deny contains v if {
	not settings.allow_mixed_sources == true
	may_have_crossed
	some st in steps
	some f, indices in st.crossed
	count(indices) > 0
	spec := mixed_fields[f]
	crossed := [m | some i in indices; m := st.materials[i]]
	names := sort([object.get(m, "name", null) | some m in crossed])
	others := sort({x | some m in crossed; some x in m[spec.producers]})
	mine := object.get(st.provenance, spec.key, null)
	v := {
		"code": "chain.mixed-sources",
		"msg": sprintf("%s (%s %s) consumed %d file(s) built from another %s, e.g. %v from %v: every step of one build must build the same %s (set allow_mixed_sources to accept this)", [step_ref(st), spec.what, quote(mine), count(names), spec.what, array.slice(names, 0, 3), others, spec.what]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
		"file": names[0],
		"expected": mine,
		"actual": others,
	}
}
