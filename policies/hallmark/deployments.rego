# Deployment records of the artifact (docs/deployment-v1.md). Setting:
# deployments {"require_approval": true}.
# A deployment record is a verified attestation of the artifact with predicateType
# https://hallmark.dev/deployment/v1 (`hallmark record deployment`). With require_approval, each
# record judged needs N distinct approvers (N = approvals.required when set, else 1) of approvals
# that were in place when it was deployed:
#   - the approval's environment is the record's environment, or the approval names none (a
#     record without an environment needs an approval without one);
#   - its time (approval_time: the earliest verified time, else the claimed approvedAt) is at or
#     before the record's time: the earlier of its deployedAt and its earliest verified time (a
#     record signed before the deployment it claims cannot claim a later one);
#   - its signer is listed in approvals.approvers (when set) and signed no step of the build.
# The records judged are all of them, or, when the decision names an environment
# (input.context.facts.environment: `hallmark verify --environment`), those for that environment
# and those that name none: a deployment to staging says nothing about production.
# Records that did not verify never reach the input: an unsigned record is no evidence.
package hallmark

import rego.v1

deployment_type := "https://hallmark.dev/deployment/v1"

deployment_predicate(a) := p if {
	p := a.statement.predicate
	is_object(p)
} else := {}

deployment_environment(a) := object.get(deployment_predicate(a), "environment", null)

decision_environment := object.get(input, ["context", "facts", "environment"], null)

deployment_judged(_) if not is_string(decision_environment)

deployment_judged(a) if deployment_environment(a) == null

deployment_judged(a) if deployment_environment(a) == decision_environment

claimed_deployed_at(a) := {"basis": "claimed", "time": t, "ns": ns} if {
	t := object.get(deployment_predicate(a), "deployedAt", null)
	ns := parse_time(t)
}

verified_deployed_at(a) := {"basis": "verified", "time": v.time, "ns": v.ns} if {
	v := earliest_verified_time(a)
}

# The time of a record: the earlier of its claimed deployedAt and its earliest verified time;
# undefined when it has neither.
deployment_time(a) := t if {
	candidates := {x | x := claimed_deployed_at(a)} | {x | x := verified_deployed_at(a)}
	count(candidates) > 0
	first := sort([[c.ns, c.basis, c.time] | some c in candidates])[0]
	t := {"ns": first[0], "basis": first[1], "time": first[2]}
}

deployment_time_desc(a) := sprintf("at %s (verified time)", [t.time]) if {
	t := deployment_time(a)
	t.basis == "verified"
} else := sprintf("at %s (deployedAt)", [t.time]) if {
	t := deployment_time(a)
} else := "at a time it does not record (no verified time, and deployedAt missing or not an RFC 3339 time)"

approval_for_environment(ap, _) if object.get(approval_predicate(ap), "environment", null) == null

approval_for_environment(ap, env) if object.get(approval_predicate(ap), "environment", null) == env

# The approvers whose approvals count for record d.
deployment_approvers(d) := {s |
	dt := deployment_time(d)
	env := deployment_environment(d)
	some ap in input.attestations
	ap.predicateType == approval_type
	approval_for_environment(ap, env)
	approval_time(ap).ns <= dt.ns
	some s in ap.signers
	approver_listed(s)
	not s in build_signers
}

deployment_approvals_needed := n if {
	n := settings.approvals.required
	is_number(n)
} else := 1

deployment_env_desc(env) := "no particular environment" if env == null
else := sprintf("environment %s", [quote(env)])

deny contains v if {
	settings.deployments.require_approval == true
	some d in input.attestations
	d.predicateType == deployment_type
	deployment_judged(d)
	approvers := deployment_approvers(d)
	count(approvers) < deployment_approvals_needed
	env := deployment_environment(d)
	target := object.get(deployment_predicate(d), "target", null)
	v := {
		"code": "deployment.unapproved",
		"msg": sprintf("%s was deployed to %s for %s %s (%s) with %d of the %d approvals it needs signed by then (%v)", [artifact_label, quote(target), deployment_env_desc(env), deployment_time_desc(d), d.origin, count(approvers), deployment_approvals_needed, sort(approvers)]),
		"deployment": d.origin,
		"target": target,
		"environment": env,
		"expected": deployment_approvals_needed,
		"actual": count(approvers),
		"approvers": sort(approvers),
	}
}
