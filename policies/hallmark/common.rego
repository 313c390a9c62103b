# Shared helpers of Hallmark's policy library, and the warning for unknown settings
# (config.unknown-key, at the end). They read the settings only through `config` (config.rego),
# never data.hallmark_config.
package hallmark

import rego.v1

# The value of a config key; undefined when the key is absent or null (a rule reading it then
# does nothing).
setting(key) := settings[key]

# The settings without null values, built once: the library reads `settings.<key>` (a function
# call per read would cost more than the lookup).
settings := {k: v |
	is_object(config)
	some k, v in config
	v != null
}

# The artifact as people name it: its name, else its digest.
artifact_label := name if {
	name := input.artifact.name
	is_string(name)
	name != ""
} else := input.artifact.digest

# Every verified SLSA-provenance step reachable backwards from the artifact, whole-job ones
# included.
# A list whatever a hand-written input holds there (Rego iterates an object's values too).
chain_steps := [st | some st in object.get(input, ["chain", "steps"], [])]

# The steps proper. Whole-job provenance (GitHub's workflow buildType, the GitLab runner's,
# Hallmark's local job; the input marks it `job`) names no step: it records the job that ran the
# steps, not a step of the chain, so the step rules do not judge it (it stays in `provenances`
# for the builder, source and time rules). Leaving it out never allows what the steps alone
# would deny: the chain's own steps must still be there.
steps := [st |
	some st in chain_steps
	not st.job == true
]

# Ids of the steps that produced the artifact itself.
root_ids := object.get(input, ["chain", "roots"], [])

# The chain steps that produced the artifact (input.chain.roots, looked up by id).
root_steps := [st | some st in steps; st.id in root_ids]

# Every verified provenance: the chain's steps (whole-job ones included), plus any provenance
# attestation of the artifact itself that is not one of them (the same records as the roots,
# marked inChain; kept so the rules hold if the chain is absent). The steps are taken as they
# are: every step carries the record's fields (origin, step, signers, verifiedTimes, time,
# provenance; docs/policy-input.md), and rebuilding ten objects per decision was a tenth of the
# evaluation.
provenances := array.concat(chain_steps, [p |
	some a in input.attestations
	is_object(a.provenance)
	not a.inChain == true
	p := {
		"origin": object.get(a, "origin", null),
		"step": object.get(a, "step", null),
		"signers": object.get(a, "signers", []),
		"verifiedTimes": object.get(a, "verifiedTimes", []),
		"time": object.get(a, "time", null),
		"provenance": a.provenance,
	}
])

# The distinct builder ids of the provenances (null for a provenance without one), so a rule
# judges each once rather than once per step: from the input's summary (docs/policy-input.md),
# else gathered here (a document without derived facts).
builder_ids := input.summary.builderIds if is_array(input.summary.builderIds)
else := {object.get(p.provenance, "builderId", null) | some p in provenances}

# The signing times a transparency log or timestamp authority proved ([] when none).
verified_times(x) := ts if {
	ts := x.verifiedTimes
	is_array(ts)
} else := []

# The earliest of x's verifiedTimes that parses, as {"time": <as written>, "ns": <ns>};
# undefined when none does.
earliest_verified_time(x) := {"time": t, "ns": ns} if {
	nss := {ns | some t in verified_times(x); ns := parse_time(t)}
	count(nss) > 0
	ns := min(nss)
	earliest := [t | some t in verified_times(x); parse_time(t) == ns]
	t := earliest[0]
}

# The certificate and key details of a step's signatures ([] when none).
signer_details(x) := ds if {
	ds := x.signerDetails
	is_array(ds)
} else := []

# Everyone who signed a step of the build.
build_signers := {s | some p in provenances; some s in p.signers}

# "step \"build\"" for a named step, "the step of <origin>" otherwise (p is a chain step or a
# provenance record). Use it where the message does not name the origin otherwise.
step_desc(p) := sprintf("step %q", [p.step]) if is_string(p.step)
else := sprintf("the step of %s", [p.origin])

# The step with its origin, the origin named once: "step \"build\" (store X)" for a named step,
# "the step of store X" otherwise.
step_ref(p) := sprintf("step %q (%s)", [p.step, p.origin]) if is_string(p.step)
else := sprintf("the step of %s", [p.origin])

# A value for a message: strings quoted, anything else (null, numbers, lists) as is. sprintf's
# %q fails on anything but a string, which would stop the whole evaluation.
quote(x) := sprintf("%q", [x]) if is_string(x)
else := sprintf("%v", [x])

# A material's digest ("sha256:…", "sha512:…"); null when it was recorded without one.
material_digest(m) := object.get(m, "digest", null)

# A material is pinned when it records a digest.
pinned(m) if {
	d := material_digest(m)
	is_string(d)
	d != ""
}

# "\"bin/app\" (sha256:…)", or just the quoted name when the material has no digest.
material_desc(m) := sprintf("%s (%s)", [quote(object.get(m, "name", null)), material_digest(m)]) if pinned(m)
else := quote(object.get(m, "name", null))

# RFC 3339 times: a string of that shape parses (time.parse_rfc3339_ns fails, and with it the
# whole evaluation, on anything else); undefined for anything else.
rfc3339_pattern := `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2})$`

parse_time(t) := ns if {
	is_string(t)
	regex.match(rfc3339_pattern, t)
	ns := time.parse_rfc3339_ns(t)
}

# The verification time (input.context.time) in nanoseconds.
now_ns := time.parse_rfc3339_ns(input.context.time)

# --- the settings the library knows (policies/README.md lists them) ---
#
# A key it does not know, e.g. a typo such as "max_age_hour", would silently do nothing, so it is
# a warning (config.unknown-key), as is an unknown key inside `approvals`. (This lives here, not
# in a module of its own, because the binary embeds a fixed list of the library's modules.)

known_settings := {
	"required_steps",
	"declared_steps",
	"artifact_steps",
	"trusted_builders",
	"builder_keys",
	"builder_issuers",
	"source_repositories",
	"source_refs",
	"max_age_hours",
	"step_signers",
	"step_inputs",
	"source_steps",
	"external_inputs",
	"sbom_required",
	"sbom_deny",
	"sbom_unknown_version",
	"allow_self_hosted_runners",
	"approvals",
	"deployments",
	"min_slsa_build_level",
	"slsa_l3_builders",
	"allow_dirty_source",
	"allow_mixed_sources",
	"allow_failed_steps",
}

known_approval_settings := {"required", "approvers", "max_age_hours"}

known_deployment_settings := {"require_approval"}

warn contains v if {
	is_object(config)
	some key, _ in config
	not key in known_settings
	v := {
		"code": "config.unknown-key",
		"msg": sprintf("unknown setting %s has no effect (known settings: %v)", [quote(key), sort(known_settings)]),
		"key": key,
		"expected": sort(known_settings),
		"actual": key,
	}
}

warn contains v if {
	approvals := settings.approvals
	is_object(approvals)
	some key, _ in approvals
	not key in known_approval_settings
	v := {
		"code": "config.unknown-key",
		"msg": sprintf("unknown setting %s of approvals has no effect (known: %v)", [quote(key), sort(known_approval_settings)]),
		"key": sprintf("approvals.%s", [key]),
		"expected": sort(known_approval_settings),
		"actual": key,
	}
}

warn contains v if {
	deployments := settings.deployments
	is_object(deployments)
	some key, _ in deployments
	not key in known_deployment_settings
	v := {
		"code": "config.unknown-key",
		"msg": sprintf("unknown setting %s of deployments has no effect (known: %v)", [quote(key), sort(known_deployment_settings)]),
		"key": sprintf("deployments.%s", [key]),
		"expected": sort(known_deployment_settings),
		"actual": key,
	}
}
