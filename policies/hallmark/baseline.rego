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
	some name in setting("required_steps")
	not step_in_chain(name)
	v := {
		"code": "step.missing",
		"msg": sprintf("required step %q has no verified attestation in the chain of %s", [name, artifact_label]),
		"step": name,
	}
}

step_in_chain(name) if {
	some p in provenances
	p.step == name
}

# Every step of the chain is one of the declared steps, when the list is configured: a step
# without a name, or with a name the policy does not know, is denied.
deny contains v if {
	declared := setting("declared_steps")
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
	allowed := setting("trusted_builders")
	some p in provenances
	builder := object.get(p.provenance, "builderId", null)
	not builder in allowed
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
	allowed := setting("source_repositories")
	some p in provenances
	uri := source_uri(p)
	not source_allowed(uri, allowed)
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
	setting(k)
}

deny contains v if {
	count(source_rules) > 0
	what := {true: "repositories", false: "refs"}[count({"source_repositories"} & source_rules) > 0]
	allowed := object.get(config, ["source_repositories"], object.get(config, ["source_refs"], []))
	some p in provenances
	not source_uri(p)
	v := {
		"code": "source.unknown",
		"msg": sprintf("%s records no source (provenance sourceUri), so it cannot be checked against the allowed %s %v", [step_ref(p), what, allowed]),
		"attestation": p.origin,
		"step": p.step,
		"expected": allowed,
		"actual": null,
	}
}

source_uri(p) := uri if {
	uri := p.provenance.sourceUri
	is_string(uri)
	uri != ""
}

source_allowed(uri, allowed) if {
	some repo in allowed
	startswith(uri, sprintf("git+%s@", [repo]))
}

source_allowed(uri, allowed) if uri in allowed

# A repository listed as https://host/o/r also matches clones of https://host/o/r.git.
source_allowed(uri, allowed) if {
	some repo in allowed
	not endswith(repo, ".git")
	startswith(uri, sprintf("git+%s.git@", [repo]))
}

# Every step built from a source built it from an allowed ref, when the globs are configured
# ("refs/heads/main", "refs/tags/v*"; `*` stays within one path segment, `**` spans several).
# The ref is source_ref(sourceUri) below; a sourceUri without one is denied.
deny contains v if {
	patterns := setting("source_refs")
	some p in provenances
	uri := source_uri(p)
	ref := source_ref(uri)
	not ref_allowed(ref, patterns)
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
	patterns := setting("source_refs")
	some p in provenances
	uri := source_uri(p)
	not source_ref(uri)
	v := {
		"code": "source.ref-not-allowed",
		"msg": sprintf("%s was built from %q, which names no ref (expected one of %v)", [step_ref(p), uri, patterns]),
		"attestation": p.origin,
		"step": p.step,
		"expected": patterns,
		"actual": null,
	}
}

# The ref of "git+<repo>@<ref>". A git ref may itself contain "@" (a branch named
# "feature@refs/heads/main"), so when the URI names a full ref ("@refs/…") the ref is everything
# from the FIRST "@refs/" on: "git+https://x/app.git@refs/heads/feature@refs/heads/main" is
# "refs/heads/feature@refs/heads/main", not "refs/heads/main". Otherwise (a commit, a short
# name) it is the text after the last "@" (a repository URL may hold one: "ssh://git@host/…").
source_ref(uri) := ref if {
	i := indexof(uri, "@refs/")
	i >= 0
	ref := substring(uri, i + 1, -1)
} else := ref if {
	parts := split(uri, "@")
	count(parts) > 1
	ref := parts[count(parts) - 1]
	ref != ""
}

ref_allowed(ref, patterns) if {
	some pattern in patterns
	glob.match(pattern, ["/"], ref)
}

# The time of a step: the earliest of its verifiedTimes (signing times a transparency log or a
# timestamp authority proved) when it has one; else its provenance finishedOn, which is only
# what the signer claimed. Undefined when it has neither (or neither parses).
step_time(p) := {"basis": "verified", "time": vt.time, "ns": vt.ns} if {
	vt := earliest_verified_time(p)
} else := {"basis": "claimed", "time": t, "ns": ns} if {
	t := object.get(p.provenance, "finishedOn", null)
	ns := parse_time(t)
}

time_desc(st) := sprintf("was signed at %s (verified time)", [st.time]) if st.basis == "verified"
else := sprintf("finished at %s (claimed finishedOn, not verified)", [st.time])

# Every step is recent enough, when a maximum age is configured.
deny contains v if {
	max_hours := setting("max_age_hours")
	some p in provenances
	st := step_time(p)
	now_ns - st.ns > max_hours * 3600000000000
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
	max_hours := setting("max_age_hours")
	some p in provenances
	not step_time(p)
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
	setting("max_age_hours")
	some p in provenances
	st := step_time(p)
	st.ns - now_ns > future_skew_seconds * 1000000000
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
	some p in provenances
	builder := p.provenance.builderId
	is_string(builder)
	endswith(builder, "/self-asserted")
	v := {
		"code": "builder.self-asserted",
		"msg": sprintf("%s was built on a self-asserted local builder", [step_ref(p)]),
		"attestation": p.origin,
		"step": p.step,
	}
}
