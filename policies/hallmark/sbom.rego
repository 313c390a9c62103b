# SBOMs (docs/sbom.md). Settings:
#   sbom_required: true     an SBOM must attest the artifact (sbom.missing);
#   sbom_deny: [{purl, versions?, ranges?, reason?}]
#                           components denied by package and version range
#                           (sbom.component-denied, sbom.component-version-unknown,
#                           sbom.inventory-truncated);
#   sbom_unknown_version: "deny" (default) | "warn"
#                           what a rule with a range does with a version it cannot compare.
# An SBOM is a verified attestation of an SBOM predicate type (https://spdx.dev/Document, any
# version, e.g. .../Document/v2.3, or https://cyclonedx.org/bom, any version) whose document
# Hallmark read: its compact inventory is `sbom` in the policy input.
package hallmark

import rego.v1

deny contains v if {
	settings.sbom_required == true
	not has_sbom
	v := {
		"code": "sbom.missing",
		"msg": sprintf("no verified SBOM (SPDX or CycloneDX) attests %s", [artifact_label]),
	}
}

has_sbom if count(sboms) > 0

# The verified SBOM attestations of the artifact, with their inventory.
sboms contains a if {
	some a in input.attestations
	is_sbom(predicate_type(a))
	is_object(a.sbom)
}

predicate_type(a) := a.predicateType if is_string(a.predicateType)
else := a.statement.predicateType

is_sbom(t) if t == "https://spdx.dev/Document"

is_sbom(t) if startswith(t, "https://spdx.dev/Document/")

is_sbom(t) if t == "https://cyclonedx.org/bom"

is_sbom(t) if startswith(t, "https://cyclonedx.org/bom/")

# --- denied components ---

sbom_deny_rules := rules if {
	rules := settings.sbom_deny
	is_array(rules)
} else := []

# Each component of each SBOM whose package (normalized purl, without version) a rule names.
sbom_matches contains m if {
	some rule in sbom_deny_rules
	some a in sboms
	some c in a.sbom.components
	c.package == rule.purl
	m := {"rule": rule, "origin": a.origin, "component": c}
}

# A rule without a range denies every version.
sbom_component_denied(rule, _) if not rule.ranges

sbom_component_denied(rule, c) if {
	is_string(c.semver)
	sbom_in_range(c.semver, rule.ranges)
}

# A rule with a range cannot compare a version without a semantic-version reading.
sbom_component_undecided(rule, c) if {
	rule.ranges
	not is_string(c.semver)
}

# vers containment, compiled: not an excluded version, and inside one interval whose every
# comparator holds ({} holds for all).
sbom_in_range(v, r) if {
	not sbom_excluded(v, r)
	some interval in r.intervals
	every op, bound in interval {
		sbom_holds(op, semver.compare(v, bound))
	}
}

sbom_excluded(v, r) if {
	some e in object.get(r, "except", [])
	semver.compare(v, e) == 0
}

sbom_holds("eq", c) if c == 0

sbom_holds("gt", c) if c > 0

sbom_holds("gte", c) if c >= 0

sbom_holds("lt", c) if c < 0

sbom_holds("lte", c) if c <= 0

sbom_rule_text(rule) := sprintf("%s %s", [rule.purl, rule.versions]) if is_string(rule.versions)
else := sprintf("%s (any version)", [rule.purl])

sbom_component_text(c) := sprintf("%s %s (%s)", [c.name, c.version, c.purl]) if is_string(c.version)
else := sprintf("%s (%s, no version)", [c.name, c.purl])

sbom_reason(rule) := sprintf(": %s", [rule.reason]) if is_string(rule.reason)
else := ""

sbom_finding(code, m, msg) := {
	"code": code,
	"msg": msg,
	"purl": m.component.purl,
	"version": m.component.version,
	"component": m.component.name,
	"rule": {"purl": m.rule.purl, "versions": object.get(m.rule, "versions", "*")},
	"attestation": m.origin,
}

deny contains v if {
	some m in sbom_matches
	sbom_component_denied(m.rule, m.component)
	v := sbom_finding("sbom.component-denied", m, sprintf(
		"component %s in the SBOM of %s is denied by %s%s",
		[sbom_component_text(m.component), artifact_label, sbom_rule_text(m.rule), sbom_reason(m.rule)],
	))
}

sbom_unknown_version_denies if not settings.sbom_unknown_version == "warn"

sbom_undecided contains v if {
	some m in sbom_matches
	sbom_component_undecided(m.rule, m.component)
	v := sbom_finding("sbom.component-version-unknown", m, sprintf(
		"component %s in the SBOM of %s is named by %s, but its version cannot be compared (no semantic-version reading)",
		[sbom_component_text(m.component), artifact_label, sbom_rule_text(m.rule)],
	))
}

deny contains v if {
	sbom_unknown_version_denies
	some v in sbom_undecided
}

warn contains v if {
	not sbom_unknown_version_denies
	some v in sbom_undecided
}

# A cut inventory may hide a denied component: with deny rules, it denies.
deny contains v if {
	count(sbom_deny_rules) > 0
	some a in sboms
	a.sbom.truncated == true
	v := {
		"code": "sbom.inventory-truncated",
		"msg": sprintf(
			"the SBOM %s lists %d components, more than Hallmark reads into the policy input; its deny rules cannot check them all",
			[a.origin, a.sbom.componentCount],
		),
		"attestation": a.origin,
	}
}
