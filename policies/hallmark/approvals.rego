# Human approvals of the artifact. Setting: approvals {"required": N, "approvers": [...],
# "max_age_hours": H}.
# An approval is a verified approval attestation (predicateType https://hallmark.dev/approval/v1)
# of the artifact. Its time is the earliest of its attestation's verifiedTimes (signing times a
# transparency log or timestamp authority proved) when it has one, else its predicate's
# approvedAt (only what the approver claimed). It is set aside (does not count) when:
#   - input.context.facts.environment is a string and the approval's predicate names another
#     environment (an approval without an environment counts for every environment);
#   - approvals.max_age_hours is set and its time is more than that before context.time, or more
#     than 300 s after it (in the future: a future date would pass any age limit), or it has no
#     time (no verified time, and approvedAt missing or not an RFC 3339 time).
# The approvers of the approvals that count are their signers listed in approvers (when approvers
# is absent, any signer counts) who signed no step of the build: builders may not approve their
# own build. Fewer than N distinct approvers denies.
package hallmark

import rego.v1

approval_type := "https://hallmark.dev/approval/v1"

approval_predicate(a) := p if {
	p := a.statement.predicate
	is_object(p)
} else := {}

# Approvals set aside, as [index in input.attestations, reason].
approvals_set_aside contains [i, reason] if {
	some i, a in input.attestations
	a.predicateType == approval_type
	env := object.get(input, ["context", "facts", "environment"], null)
	is_string(env)
	approved_for := object.get(approval_predicate(a), "environment", null)
	approved_for != null
	approved_for != env
	reason := sprintf("approved for environment %s, not %q", [quote(approved_for), env])
}

# The time of an approval: the earliest verified time, else the claimed approvedAt; undefined
# when it has neither (or approvedAt does not parse).
approval_time(a) := {"basis": "verified", "time": vt.time, "ns": vt.ns} if {
	vt := earliest_verified_time(a)
} else := {"basis": "claimed", "time": t, "ns": ns} if {
	t := object.get(approval_predicate(a), "approvedAt", null)
	ns := parse_time(t)
}

approval_time_desc(t) := sprintf("signed at %s (verified time)", [t.time]) if t.basis == "verified"
else := sprintf("approved at %s (claimed approvedAt, not verified)", [t.time])

approvals_set_aside contains [i, reason] if {
	max_hours := settings.approvals.max_age_hours
	max_hours != null
	some i, a in input.attestations
	a.predicateType == approval_type
	not approval_time(a)
	approved_at := object.get(approval_predicate(a), "approvedAt", null)
	reason := sprintf("%s, so its age cannot be checked against approvals.max_age_hours %v", [approved_at_problem(approved_at), max_hours])
}

approved_at_problem(t) := "it has no verified time and records no approvedAt" if t == null
else := sprintf("it has no verified time and its approvedAt %s is not an RFC 3339 time", [quote(t)])

approvals_set_aside contains [i, reason] if {
	max_hours := settings.approvals.max_age_hours
	max_hours != null
	some i, a in input.attestations
	a.predicateType == approval_type
	t := approval_time(a)
	now_ns - t.ns > max_hours * 3600000000000
	reason := sprintf("%s, more than %v hours before %s", [approval_time_desc(t), max_hours, input.context.time])
}

# In the future: beyond the clock skew baseline.rego allows a step (future_skew_seconds).
approvals_set_aside contains [i, reason] if {
	max_hours := settings.approvals.max_age_hours
	max_hours != null
	some i, a in input.attestations
	a.predicateType == approval_type
	t := approval_time(a)
	t.ns - now_ns > future_skew_seconds * 1000000000
	reason := sprintf("%s, in the future: more than %d seconds after the verification time %s", [approval_time_desc(t), future_skew_seconds, input.context.time])
}

set_aside(i) if {
	some entry in approvals_set_aside
	entry[0] == i
}

approval_signers contains s if {
	some i, a in input.attestations
	a.predicateType == approval_type
	not set_aside(i)
	some s in a.signers
	approver_listed(s)
}

approver_listed(s) if s in settings.approvals.approvers

approver_listed(_) if not settings.approvals.approvers

valid_approvers := {s | some s in approval_signers; not s in build_signers}

excluded_approvers := {s | some s in approval_signers; s in build_signers}

# The approvals set aside, for the finding.
set_aside_approvals := sort([{"attestation": a.origin, "signers": a.signers, "reason": reason} |
	some [i, reason] in approvals_set_aside
	a := input.attestations[i]
])

set_aside_desc := "" if count(set_aside_approvals) == 0
else := sprintf("; set aside: %s", [concat("; ", [sprintf("%s signed by %v (%s)", [x.attestation, x.signers, x.reason]) | some x in set_aside_approvals])])

deny contains v if {
	required := settings.approvals.required
	count(valid_approvers) < required
	v := {
		"code": "approval.insufficient",
		"msg": sprintf("%s needs %v approvals, has %d valid (%v); excluded for having signed a step of the build: %v%s", [artifact_label, required, count(valid_approvers), sort(valid_approvers), sort(excluded_approvers), set_aside_desc]),
		"expected": required,
		"actual": count(valid_approvers),
		"approvers": sort(valid_approvers),
		"excluded": sort(excluded_approvers),
		"set_aside": set_aside_approvals,
	}
}
