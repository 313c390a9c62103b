# Hallmark's baseline policy: something verified attests the artifact, the required steps are in
# its chain and no undeclared step is, and every step's provenance comes from a trusted builder,
# repository, ref and time.
# Settings (policies/README.md): required_steps, declared_steps, trusted_builders,
# source_repositories, source_refs, max_age_hours.
package hallmark

import rego.v1

# Something verified must attest the artifact at all.
deny contains v if {
	count(input.attestations) == 0
	v := {"code": "attestation.none", "msg": sprintf("no verified attestation for %s", [artifact_label])}
}

# Every required step has a verified attestation in the artifact's chain.
deny contains v if {
	some name in settings.required_steps
	not name in provenance_steps
	v := {
		"code": "step.missing",
		"msg": sprintf("required step %q has no verified attestation in the chain of %s", [name, artifact_label]),
		"step": name,
	}
}

# The step names of the verified provenances, once.
provenance_steps := {p.step | some p in provenances}

# Every step of the chain is one of the declared steps, when the list is configured: a step
# without a name, or with a name the policy does not know, is denied.
deny contains v if {
	declared := settings.declared_steps
	some st in steps
	name := object.get(st, "step", null)
	not name in declared
	v := {
		"code": "step.undeclared",
		"msg": undeclared_msg(st, name, declared),
		"step": name,
		"attestation": st.origin,
		"expected": declared,
		"actual": name,
	}
}

undeclared_msg(st, name, declared) := sprintf("%s is not one of the declared steps %v", [step_ref(st), declared]) if is_string(name)
else := sprintf("%s names no step; the declared steps are %v", [step_ref(st), declared])

# Every step's builder is trusted, when the list is configured.
deny contains v if {
	allowed := settings.trusted_builders
	some builder in builder_ids
	not builder in allowed
	some p in provenances
	object.get(p.provenance, "builderId", null) == builder
	v := {
		"code": "builder.untrusted",
		"msg": sprintf("%s was built by %s, which is not a trusted builder (expected one of %v)", [step_ref(p), quote(builder), allowed]),
		"attestation": p.origin,
		"step": p.step,
		"expected": allowed,
		"actual": builder,
	}
}

# Every step built from a source built it from an allowed repository, when the list is
# configured: sourceUri is "git+<repo>@<ref>" or "<repo>".
deny contains v if {
	allowed := settings.source_repositories
	untrusted := untrusted_source_uris
	count(untrusted) > 0
	some p in provenances
	uri := p.provenance.sourceUri
	uri in untrusted
	v := {
		"code": "source.untrusted",
		"msg": sprintf("%s was built from %q, not from an allowed repository (expected one of %v)", [step_ref(p), uri, allowed]),
		"attestation": p.origin,
		"step": p.step,
		"expected": allowed,
		"actual": uri,
	}
}

# With the repositories or refs configured, every step must record its source: a step without a
# sourceUri cannot be checked, so it is denied rather than skipped.
source_rules contains k if {
	some k in ["source_repositories", "source_refs"]
	settings[k]
}

# Whether some provenance may record no source: told by the input's summary (withoutSource)
# when it has one; without one, every provenance is looked at.
may_lack_source if not is_number(input.summary.withoutSource)

may_lack_source if input.summary.withoutSource > 0

deny contains v if {
	count(source_rules) > 0
	may_lack_source
	some p in provenances
	not is_string(p.provenance.sourceRepository)
	what := {true: "repositories", false: "refs"}[count({"source_repositories"} & source_rules) > 0]
	allowed := object.get(config, ["source_repositories"], object.get(config, ["source_refs"], []))
	v := {
		"code": "source.unknown",
		"msg": sprintf("%s records no source (provenance sourceUri), so it cannot be checked against the allowed %s %v", [step_ref(p), what, allowed]),
		"attestation": p.origin,
		"step": p.step,
		"expected": allowed,
		"actual": null,
	}
}

# A provenance records a source when its sourceUri is a non-empty string; sourceRepository (a
# derived fact) is a string exactly then.

# The distinct source URIs of the provenances (a chain usually has one), each judged once: from
# the input's summary, else gathered here.
source_uris := input.summary.sourceUris if is_array(input.summary.sourceUris)
else := {p.provenance.sourceUri | some p in provenances; is_string(p.provenance.sourceRepository)}

untrusted_source_uris := {uri |
	allowed := settings.source_repositories
	some uri in source_uris
	not uri in allowed
	not has_prefix(uri, allowed_source_prefixes)
}

# "git+<repo>@" for each allowed repository; a repository listed as https://host/o/r also
# matches clones of https://host/o/r.git.
allowed_source_prefixes := {sprintf("git+%s@", [repo]) | some repo in settings.source_repositories} | {sprintf("git+%s.git@", [repo]) |
	some repo in settings.source_repositories
	not endswith(repo, ".git")
}

has_prefix(s, prefixes) if {
	some prefix in prefixes
	startswith(s, prefix)
}

# Every step built from a source built it from an allowed ref, when the globs are configured
# ("refs/heads/main", "refs/tags/v*"; `*` stays within one path segment, `**` spans several).
# The ref is the provenance's sourceRef; a sourceUri without one is denied.
deny contains v if {
	patterns := settings.source_refs
	not_allowed := refs_not_allowed
	count(not_allowed) > 0
	some p in provenances
	ref := p.provenance.sourceRef
	ref in not_allowed
	uri := p.provenance.sourceUri
	v := {
		"code": "source.ref-not-allowed",
		"msg": sprintf("%s was built from ref %q of %q, which matches none of the allowed refs %v", [step_ref(p), ref, uri, patterns]),
		"attestation": p.origin,
		"step": p.step,
		"expected": patterns,
		"actual": ref,
	}
}

deny contains v if {
	patterns := settings.source_refs
	some p in provenances
	is_string(p.provenance.sourceRepository)
	not is_string(p.provenance.sourceRef)
	uri := p.provenance.sourceUri
	v := {
		"code": "source.ref-not-allowed",
		"msg": sprintf("%s was built from %q, which names no ref (expected one of %v)", [step_ref(p), uri, patterns]),
		"attestation": p.origin,
		"step": p.step,
		"expected": patterns,
		"actual": null,
	}
}

# The ref of the provenance's "git+<repo>@<ref>" sourceUri: provenance.sourceRef, split once in
# Rust (docs/policy-input.md). A git ref may itself contain "@" (a branch named
# "feature@refs/heads/main"), so when the URI names a full ref ("@refs/…") the ref is everything
# from the FIRST "@refs/" on; otherwise (a commit, a short name) it is the text after the last
# "@" (a repository URL may hold one: "ssh://git@host/…"). Undefined when the URI names none.
# The distinct refs the provenances record, each matched once (a glob is compiled per match).
source_refs := input.summary.sourceRefs if is_array(input.summary.sourceRefs)
else := {ref | some p in provenances; ref := p.provenance.sourceRef; is_string(ref)}

refs_not_allowed := {ref |
	patterns := settings.source_refs
	some ref in source_refs
	not ref_allowed(ref, patterns)
}

ref_allowed(ref, patterns) if {
	some pattern in patterns
	glob.match(pattern, ["/"], ref)
}

# The time of a step is its `time` (computed once in Rust): the earliest of its verifiedTimes
# (signing times a transparency log or a timestamp authority proved) when it has one; else its
# provenance finishedOn, which is only what the signer claimed; null when it has neither (or
# neither parses).

# The oldest and the latest step time accepted, in nanoseconds (computed once).
oldest_ns := now_ns - (settings.max_age_hours * 3600000000000)

latest_ns := now_ns + (future_skew_seconds * 1000000000)

time_desc(st) := sprintf("was signed at %s (verified time)", [st.time]) if st.basis == "verified"
else := sprintf("finished at %s (claimed finishedOn, not verified)", [st.time])

# Whether some provenance may be older than oldest_ns, or dated after latest_ns: told by the
# input's summary of step times (oldestNs, newestNs) when it has one, so that a chain within
# both limits is judged once; without one, every provenance is looked at.
may_be_too_old if not is_number(input.summary.oldestNs)

may_be_too_old if input.summary.oldestNs < oldest_ns

may_be_from_the_future if not is_number(input.summary.newestNs)

may_be_from_the_future if input.summary.newestNs > latest_ns

# Every step is recent enough, when a maximum age is configured.
deny contains v if {
	max_hours := settings.max_age_hours
	may_be_too_old
	oldest := oldest_ns
	some p in provenances
	st := p.time
	st.ns < oldest
	v := {
		"code": "provenance.too-old",
		"msg": sprintf("%s %s, more than %v hours before %s", [step_ref(p), time_desc(st), max_hours, input.context.time]),
		"attestation": p.origin,
		"step": p.step,
		"expected": max_hours,
		"actual": st.time,
		"basis": st.basis,
	}
}

# A step whose age cannot be told is denied when a maximum age is configured.
deny contains v if {
	max_hours := settings.max_age_hours
	some p in provenances
	p.time == null
	v := {
		"code": "provenance.time-unknown",
		"msg": sprintf("%s has no verified signing time and no valid finishedOn, so its age cannot be checked against max_age_hours %v", [step_ref(p), max_hours]),
		"attestation": p.origin,
		"step": p.step,
		"expected": max_hours,
		"actual": null,
	}
}

# Allowed clock skew of a step's time past the verification time.
future_skew_seconds := 300

# A step dated after the verification time (beyond the skew) is denied when a maximum age is
# configured: a future finishedOn would otherwise pass any age limit.
deny contains v if {
	settings.max_age_hours
	may_be_from_the_future
	latest := latest_ns
	some p in provenances
	st := p.time
	st.ns > latest
	v := {
		"code": "provenance.from-the-future",
		"msg": sprintf("%s %s, more than %d seconds after the verification time %s", [step_ref(p), time_desc(st), future_skew_seconds, input.context.time]),
		"attestation": p.origin,
		"step": p.step,
		"expected": input.context.time,
		"actual": st.time,
		"basis": st.basis,
	}
}

# Self-asserted local builds are worth a warning.
warn contains v if {
	some builder in builder_ids
	is_string(builder)
	endswith(builder, "/self-asserted")
	some p in provenances
	p.provenance.builderId == builder
	v := {
		"code": "builder.self-asserted",
		"msg": sprintf("%s was built on a self-asserted local builder", [step_ref(p)]),
		"attestation": p.origin,
		"step": p.step,
	}
}
