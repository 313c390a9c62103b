package hallmark_test.common

import rego.v1

import data.hallmark_test.fixtures as f

unknown_keys(cfg) := {v.key | some v in data.hallmark.warn with input as f.good with data.hallmark_config as cfg; v.code == "config.unknown-key"}

test_unknown_key_warns if {
	cfg := object.union(f.full_config, {"max_age_hour": 24})
	vs := {v | some v in data.hallmark.warn with input as f.good with data.hallmark_config as cfg; v.code == "config.unknown-key"}
	count(vs) == 1
	some v in vs
	v.key == "max_age_hour"
	v.actual == "max_age_hour"
	startswith(v.msg, `unknown setting "max_age_hour" has no effect (known settings: ["allow_dirty_source", "allow_failed_steps", "allow_mixed_sources", "allow_self_hosted_runners", "approvals", "artifact_steps", "builder_issuers", "builder_keys", `)
	# A warning, not a denial.
	count(f.denials(f.good, cfg)) == 0
}

test_unknown_approvals_key_warns if {
	unknown_keys({"approvals": {"required": 1, "max_age": 24}}) == {"approvals.max_age"}
}

test_known_keys_do_not_warn if {
	unknown_keys(f.full_config) == set()
	unknown_keys({}) == set()
	unknown_keys({"declared_steps": null, "artifact_steps": null, "builder_keys": null}) == set()
}

test_every_known_key_is_in_the_full_config if {
	# The fixtures' full configuration exercises every setting the library knows.
	{k | some k, _ in f.full_config} == data.hallmark.known_settings
}
