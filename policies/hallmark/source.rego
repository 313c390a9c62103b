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
signed_provenances contains p if {
	some x in steps
	p := signed_provenance(x)
}

signed_provenances contains p if {
	some x in input.attestations
	is_object(x.provenance)
	p := signed_provenance(x)
}

signed_provenance(x) := {
	"origin": x.origin,
	"step": object.get(x, "step", null),
	"provenance": x.provenance,
	"details": signer_details(x),
}

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
	not setting("allow_dirty_source") == true
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

deny contains v if {
	some p in signed_provenances
	some d in p.details
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
		"step": p.step,
		"expected": certified,
		"actual": recorded,
	}
}

# What the provenance records for a field: the commit, or the repository / ref of its
# "git+<repo>@<ref>" sourceUri. Undefined when it records no source at all (nothing to compare);
# null when it records a source without that part.
recorded_source(prov, "commit") := object.get(prov, "sourceCommit", null) if recorded_any_source(prov)

recorded_source(prov, "repository") := repo if {
	uri := prov.sourceUri
	is_string(uri)
	repo := source_repo(uri)
} else := null if recorded_any_source(prov)

recorded_source(prov, "ref") := ref if {
	uri := prov.sourceUri
	is_string(uri)
	ref := source_ref(uri)
} else := null if recorded_any_source(prov)

# The repository of "git+<repo>@<ref>": the URI without "git+" and without "@" and the ref
# source_ref (baseline.rego) reads, so both parts are split at the same "@".
source_repo(uri) := trim_prefix(substring(uri, 0, (count(uri) - count(ref)) - 1), "git+") if {
	ref := source_ref(uri)
} else := trim_prefix(uri, "git+")

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
# harm; an input whose every producer is from elsewhere is a hand-over across builds.
step_commits := {st.id: c | some st in steps; c := st.provenance.sourceCommit; is_string(c)}

step_runs := {st.id: r | some st in steps; r := st.provenance.pipelineRun; is_string(r)}

mixed_fields := {
	"commit": {"ids": step_commits, "what": "commit", "expected": "one commit"},
	"run": {"ids": step_runs, "what": "pipeline run", "expected": "one pipeline run"},
}

# The names of st's produced inputs none of whose producers shares st's value in `ids`. A step
# with no value (no commit recorded, or run outside CI) that consumes inputs from steps with one
# cannot show it belongs to their build: those inputs count too.
handed_across(st, ids) := names if {
	mine := ids[st.id]
	names := sort([name |
		some m in st.materials
		ps := producers(m)
		count(ps) > 0
		not produced_at(ps, ids, mine)
		name := object.get(m, "name", null)
	])
} else := names if {
	names := sort({name |
		some m in st.materials
		some id in producers(m)
		ids[id]
		name := object.get(m, "name", null)
	})
}

produced_at(ps, ids, value) if {
	some id in ps
	ids[id] == value
}

deny contains v if {
	not setting("allow_mixed_sources") == true
	some f in mixed_fields
	some st in steps
	names := handed_across(st, f.ids)
	count(names) > 0
	others := sort({f.ids[id] | some m in st.materials; m.name in names; some id in producers(m); f.ids[id]})
	mine := object.get(f.ids, st.id, null)
	v := {
		"code": "chain.mixed-sources",
		"msg": sprintf("%s (%s %s) consumed %d file(s) built from another %s, e.g. %v from %v: every step of one build must build the same %s (set allow_mixed_sources to accept this)", [step_ref(st), f.what, quote(mine), count(names), f.what, array.slice(names, 0, 3), others, f.what]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
		"file": names[0],
		"expected": mine,
		"actual": others,
	}
}
