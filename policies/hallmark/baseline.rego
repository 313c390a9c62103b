# Hallmark's baseline policy library. Configure it with data (see policies/README.md):
#   {"hallmark_config": {"required_steps": [...], "trusted_builders": [...],
#                        "source_repositories": [...], "max_age_hours": N}}
package hallmark

import rego.v1

config := object.get(data, "hallmark_config", {})

# Something verified must attest the artifact at all.
deny contains v if {
	count(input.attestations) == 0
	v := {"code": "attestation.none", "msg": sprintf("no verified attestation for %s", [input.artifact.digest])}
}

# Every required step has a verified attestation for the artifact.
deny contains v if {
	some step in object.get(config, "required_steps", [])
	not step_attested(step)
	v := {
		"code": "step.missing",
		"msg": sprintf("required step %q has no verified attestation for %s", [step, input.artifact.digest]),
		"step": step,
	}
}

step_attested(step) if {
	some a in input.attestations
	a.step == step
}

# Provenance must come from a trusted builder, when the list is configured.
deny contains v if {
	allowed := config.trusted_builders
	some a in input.attestations
	builder := a.provenance.builderId
	not builder in allowed
	v := {
		"code": "builder.untrusted",
		"msg": sprintf("%s was built by %q, which is not a trusted builder (expected one of %v)", [a.origin, builder, allowed]),
		"attestation": a.origin,
		"expected": allowed,
		"actual": builder,
	}
}

# The source must be an allowed repository, when the list is configured.
deny contains v if {
	allowed := config.source_repositories
	some a in input.attestations
	uri := a.provenance.sourceUri
	not source_allowed(uri, allowed)
	v := {
		"code": "source.untrusted",
		"msg": sprintf("%s was built from %q, not from an allowed repository (expected one of %v)", [a.origin, uri, allowed]),
		"attestation": a.origin,
		"expected": allowed,
		"actual": uri,
	}
}

source_allowed(uri, allowed) if {
	some repo in allowed
	startswith(uri, sprintf("git+%s@", [repo]))
}

source_allowed(uri, allowed) if uri in allowed

# Provenance must be recent enough, when a maximum age is configured.
deny contains v if {
	max_hours := config.max_age_hours
	some a in input.attestations
	finished := a.provenance.finishedOn
	age_ns := time.parse_rfc3339_ns(input.context.time) - time.parse_rfc3339_ns(finished)
	age_ns > max_hours * 3600000000000
	v := {
		"code": "provenance.too-old",
		"msg": sprintf("%s finished at %s, more than %v hours before %s", [a.origin, finished, max_hours, input.context.time]),
		"attestation": a.origin,
	}
}

# Self-asserted local builds are worth a warning.
warn contains v if {
	some a in input.attestations
	endswith(a.provenance.builderId, "/self-asserted")
	v := {"code": "builder.self-asserted", "msg": sprintf("%s was built on a self-asserted local builder", [a.origin])}
}
