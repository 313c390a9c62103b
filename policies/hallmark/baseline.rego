# Hallmark's baseline policy: something verified attests the artifact, the required steps are in
# its chain, and every step's provenance comes from a trusted builder, repository, ref and time.
# Settings (policies/README.md): required_steps, trusted_builders, source_repositories,
# source_refs, max_age_hours.
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

# Every step's builder is trusted, when the list is configured.
deny contains v if {
	allowed := setting("trusted_builders")
	some p in provenances
	builder := p.provenance.builderId
	not builder in allowed
	v := {
		"code": "builder.untrusted",
		"msg": sprintf("%s (%s) was built by %q, which is not a trusted builder (expected one of %v)", [step_desc(p), p.origin, builder, allowed]),
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
		"msg": sprintf("%s (%s) was built from %q, not from an allowed repository (expected one of %v)", [step_desc(p), p.origin, uri, allowed]),
		"attestation": p.origin,
		"step": p.step,
		"expected": allowed,
		"actual": uri,
	}
}

source_uri(p) := uri if {
	uri := p.provenance.sourceUri
	is_string(uri)
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
# The ref is what follows the last "@" of sourceUri; a sourceUri without one is denied.
deny contains v if {
	patterns := setting("source_refs")
	some p in provenances
	uri := source_uri(p)
	ref := source_ref(uri)
	not ref_allowed(ref, patterns)
	v := {
		"code": "source.ref-not-allowed",
		"msg": sprintf("%s (%s) was built from ref %q of %q, which matches none of the allowed refs %v", [step_desc(p), p.origin, ref, uri, patterns]),
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
		"msg": sprintf("%s (%s) was built from %q, which names no ref (expected one of %v)", [step_desc(p), p.origin, uri, patterns]),
		"attestation": p.origin,
		"step": p.step,
		"expected": patterns,
		"actual": null,
	}
}

source_ref(uri) := ref if {
	parts := split(uri, "@")
	count(parts) > 1
	ref := parts[count(parts) - 1]
	ref != ""
}

ref_allowed(ref, patterns) if {
	some pattern in patterns
	glob.match(pattern, ["/"], ref)
}

# Every step finished recently enough, when a maximum age is configured (steps that record no
# finishedOn are not checked).
deny contains v if {
	max_hours := setting("max_age_hours")
	some p in provenances
	finished := p.provenance.finishedOn
	is_string(finished)
	age_ns := time.parse_rfc3339_ns(input.context.time) - time.parse_rfc3339_ns(finished)
	age_ns > max_hours * 3600000000000
	v := {
		"code": "provenance.too-old",
		"msg": sprintf("%s (%s) finished at %s, more than %v hours before %s", [step_desc(p), p.origin, finished, max_hours, input.context.time]),
		"attestation": p.origin,
		"step": p.step,
		"expected": max_hours,
		"actual": finished,
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
		"msg": sprintf("%s (%s) was built on a self-asserted local builder", [step_desc(p), p.origin]),
		"attestation": p.origin,
		"step": p.step,
	}
}
