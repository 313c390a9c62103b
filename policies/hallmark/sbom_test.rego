package hallmark_test.sbom

import rego.v1

import data.hallmark_test.fixtures as f

cfg := {"sbom_required": true}

without_sbom := f.doc_with([f.build_step({}), f.test_step({}), f.package_step({})], [])

inventory(format, components) := {
	"format": format, "specVersion": "1.6", "describes": "app@1.0", "componentCount": count(components),
	"truncated": false, "components": components,
}

sbom_of(predicate_type, components) := object.union(
	f.attestation("store sha256:5b", predicate_type, ["ci-key"]),
	{"sbom": inventory("CycloneDX", components)},
)

with_sbom(predicate_type) := f.doc_with([f.build_step({}), f.test_step({}), f.package_step({})], [sbom_of(predicate_type, [])])

with_components(components) := f.doc_with(
	[f.build_step({}), f.test_step({}), f.package_step({})],
	[sbom_of("https://cyclonedx.org/bom", components)],
)

component(name, version, purl, pkg, semver) := {
	"name": name, "version": version, "purl": purl, "package": pkg, "semver": semver, "licenses": ["MIT"],
}

lodash(version) := component("lodash", version, sprintf("pkg:npm/lodash@%s", [version]), "pkg:npm/lodash", version)

# What the declarative policy compiles `{purl: pkg:npm/lodash, versions: "<4.17.21"}` to.
deny_old_lodash := {"sbom_deny": [{
	"purl": "pkg:npm/lodash", "versions": "<4.17.21",
	"ranges": {"intervals": [{"lt": "4.17.21"}], "except": []},
	"reason": "CVE-2021-23337",
}]}

test_missing_sbom_is_denied if {
	some v in f.denied(without_sbom, cfg, "sbom.missing")
	v.msg == "no verified SBOM (SPDX or CycloneDX) attests dist/app.tar"
}

test_spdx_sbom_passes if {
	not "sbom.missing" in f.codes(with_sbom("https://spdx.dev/Document"), cfg)
	not "sbom.missing" in f.codes(with_sbom("https://spdx.dev/Document/v2.3"), cfg)
}

test_cyclonedx_sbom_passes if {
	not "sbom.missing" in f.codes(with_sbom("https://cyclonedx.org/bom"), cfg)
	not "sbom.missing" in f.codes(with_sbom("https://cyclonedx.org/bom/v1.5"), cfg)
}

test_other_predicate_is_not_an_sbom if {
	"sbom.missing" in f.codes(with_sbom("https://spdx.dev/DocumentX"), cfg)
	"sbom.missing" in f.codes(with_sbom("https://cyclonedx.org/bomb"), cfg)
	"sbom.missing" in f.codes(with_sbom("https://in-toto.io/attestation/test-result/v0.1"), cfg)
}

# The type alone is not enough: Hallmark must have read the document (its inventory).
test_sbom_type_without_inventory_is_not_an_sbom if {
	unread := f.doc_with(
		[f.build_step({}), f.test_step({}), f.package_step({})],
		[f.attestation("store sha256:5b", "https://cyclonedx.org/bom", ["ci-key"])],
	)
	"sbom.missing" in f.codes(unread, cfg)
}

test_sbom_not_required_by_default if {
	not "sbom.missing" in f.codes(without_sbom, {})
	not "sbom.missing" in f.codes(without_sbom, {"sbom_required": false})
}

test_denied_component_is_named if {
	doc := with_components([lodash("4.17.20")])
	some v in f.denied(doc, deny_old_lodash, "sbom.component-denied")
	v.purl == "pkg:npm/lodash@4.17.20"
	v.version == "4.17.20"
	v.rule == {"purl": "pkg:npm/lodash", "versions": "<4.17.21"}
	v.attestation == "store sha256:5b"
	v.msg == "component lodash 4.17.20 (pkg:npm/lodash@4.17.20) in the SBOM of dist/app.tar is denied by pkg:npm/lodash <4.17.21: CVE-2021-23337"
}

test_component_outside_the_range_passes if {
	not "sbom.component-denied" in f.codes(with_components([lodash("4.17.21")]), deny_old_lodash)
	not "sbom.component-denied" in f.codes(with_components([lodash("5.0.0")]), deny_old_lodash)
	# Another package with a name sharing the prefix.
	other := component("lodash.merge", "1.0.0", "pkg:npm/lodash.merge@1.0.0", "pkg:npm/lodash.merge", "1.0.0")
	not "sbom.component-denied" in f.codes(with_components([other]), deny_old_lodash)
}

test_prerelease_below_the_bound_is_denied if {
	"sbom.component-denied" in f.codes(with_components([lodash("4.17.21-rc.1")]), deny_old_lodash)
}

test_rule_without_range_denies_every_version if {
	all_versions := {"sbom_deny": [{"purl": "pkg:npm/lodash"}]}
	some v in f.denied(with_components([lodash("9.0.0")]), all_versions, "sbom.component-denied")
	v.rule.versions == "*"
	no_version := component("lodash", null, "pkg:npm/lodash", "pkg:npm/lodash", null)
	"sbom.component-denied" in f.codes(with_components([no_version]), all_versions)
}

test_intervals_and_exclusions if {
	# vers:npm/>=1.0.0|!=1.5.0|<2.0.0
	rules := {"sbom_deny": [{
		"purl": "pkg:npm/lodash", "versions": ">=1.0.0|!=1.5.0|<2.0.0",
		"ranges": {"intervals": [{"gte": "1.0.0", "lt": "2.0.0"}], "except": ["1.5.0"]},
	}]}
	"sbom.component-denied" in f.codes(with_components([lodash("1.0.0")]), rules)
	"sbom.component-denied" in f.codes(with_components([lodash("1.9.9")]), rules)
	not "sbom.component-denied" in f.codes(with_components([lodash("1.5.0")]), rules)
	not "sbom.component-denied" in f.codes(with_components([lodash("2.0.0")]), rules)
	not "sbom.component-denied" in f.codes(with_components([lodash("0.9.0")]), rules)
}

test_unknown_version_denies_by_default if {
	odd := component("lodash", "4.17.20.1", "pkg:npm/lodash@4.17.20.1", "pkg:npm/lodash", null)
	doc := with_components([odd])
	some v in f.denied(doc, deny_old_lodash, "sbom.component-version-unknown")
	v.version == "4.17.20.1"
	not "sbom.component-denied" in f.codes(doc, deny_old_lodash)
}

test_unknown_version_warns_when_asked if {
	odd := component("lodash", "4.17.20.1", "pkg:npm/lodash@4.17.20.1", "pkg:npm/lodash", null)
	doc := with_components([odd])
	warn_cfg := object.union(deny_old_lodash, {"sbom_unknown_version": "warn"})
	not "sbom.component-version-unknown" in f.codes(doc, warn_cfg)
	warnings := {w.code | some w in data.hallmark.warn with input as doc with data.hallmark_config as warn_cfg}
	"sbom.component-version-unknown" in warnings
}

test_truncated_inventory_denies_only_with_deny_rules if {
	cut := object.union(sbom_of("https://cyclonedx.org/bom", [lodash("4.17.21")]), {"sbom": {"truncated": true, "componentCount": 30000}})
	doc := f.doc_with([f.build_step({}), f.test_step({}), f.package_step({})], [cut])
	"sbom.inventory-truncated" in f.codes(doc, deny_old_lodash)
	not "sbom.inventory-truncated" in f.codes(doc, cfg)
}

test_no_rules_no_component_denials if {
	doc := with_components([lodash("4.17.20")])
	not "sbom.component-denied" in f.codes(doc, {})
	not "sbom.component-denied" in f.codes(doc, cfg)
}
