# Integrity of the chain behind the artifact. Always on.
#
# - chain.unattested-input: a step consumed a material that no verified step of the chain
#   produced, that is not a declared external input (setting external_inputs: ["sha256:..."]),
#   and the step is not a source step. Source steps: the names in setting source_steps when it
#   is set; otherwise every step that records a source (provenance sourceUri or sourceCommit)
#   and none of whose materials has a producer (it reads its inputs from the source checkout).
# - chain.input-from-wrong-step: with setting step_inputs ({"package": ["build", "test"]}), a
#   material a step consumed was produced only by steps not named for it (as in-toto's
#   MATCH ... FROM). "source" in the list makes the step a source step.
# - chain.source-step-assumed (warning): source_steps is not set, so steps were taken as source
#   steps by the heuristic above; name them (source_steps, or "source" in step_inputs) so a chain
#   cut short and re-recorded from a tampered file cannot pass as starting at the source.
# - chain.step-failed: a step recorded a non-zero exit code.
# - chain.truncated: a size limit stopped the walk, so the chain was not fully checked.
# - chain.unpinned-input: a step (source steps included) consumed a material recorded without a
#   digest (a resolvedDependency with no digest): nothing can tie it to an attested product or a
#   declared external input. One finding per material; chain.unattested-input skips it.
# - chain.artifact-from-wrong-step: with setting artifact_steps (["package"]), a step that
#   produced the artifact (input.chain.roots) has a name not in the list, or none did.
package hallmark

import rego.v1

deny contains v if {
	some st in steps
	not source_step(st)
	some m in st.materials
	pinned(m)
	count(producers(m)) == 0
	not external_input(m.digest)
	v := {
		"code": "chain.unattested-input",
		"msg": sprintf("%s consumed %s that no attested step produced and that is not a declared external input", [step_desc(st), material_desc(m)]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": m.digest,
		"attestation": st.origin,
	}
}

# Every material of every step, source steps included, records a digest.
deny contains v if {
	some st in steps
	some m in st.materials
	not pinned(m)
	v := {
		"code": "chain.unpinned-input",
		"msg": sprintf("%s consumed %s with no digest: an unpinned input cannot be checked", [step_desc(st), quote(object.get(m, "name", null))]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": null,
		"attestation": st.origin,
	}
}

# The artifact comes from one of the named steps, when the list is configured.
deny contains v if {
	allowed := setting("artifact_steps")
	some st in root_steps
	name := object.get(st, "step", null)
	not name in allowed
	v := {
		"code": "chain.artifact-from-wrong-step",
		"msg": sprintf("%s was produced by %s, not by one of %v", [artifact_label, step_ref(st), allowed]),
		"step": name,
		"attestation": st.origin,
		"expected": allowed,
		"actual": name,
	}
}

deny contains v if {
	allowed := setting("artifact_steps")
	count(root_steps) == 0
	v := {
		"code": "chain.artifact-from-wrong-step",
		"msg": sprintf("no verified step of the chain produced %s (expected one of %v)", [artifact_label, allowed]),
		"step": null,
		"expected": allowed,
		"actual": null,
	}
}

external_input(digest) if digest in setting("external_inputs")

# Source steps are named when source_steps is set, or when step_inputs lists "source" for them.
source_steps_named if setting("source_steps")

source_steps_named if {
	some _, inputs in setting("step_inputs")
	"source" in inputs
}

source_step(st) if st.step in setting("source_steps")

source_step(st) if "source" in object.get(setting("step_inputs"), st.step, [])

source_step(st) if assumed_source_step(st)

assumed_source_step(st) if {
	not source_steps_named
	records_source(st)
	not consumes_produced_material(st)
}

warn contains v if {
	some st in steps
	assumed_source_step(st)
	some m in st.materials
	count(producers(m)) == 0
	v := {
		"code": "chain.source-step-assumed",
		"msg": sprintf("%s was taken as reading from the source checkout because it consumed nothing an attested step produced; name the source steps in the policy (sourceSteps, or inputs: [source])", [step_desc(st)]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
	}
}

# Each material a step consumed must come from one of the steps named for it.
deny contains v if {
	some st in steps
	allowed := object.get(setting("step_inputs"), st.step, null)
	is_array(allowed)
	some m in st.materials
	ids := producers(m)
	count(ids) > 0
	names := {n | some id in ids; some p in steps; p.id == id; n := object.get(p, "step", null)}
	count({n | some n in names; n in allowed}) == 0
	v := {
		"code": "chain.input-from-wrong-step",
		"msg": sprintf("%s consumed %s, produced by %v, not by one of the steps it may take inputs from (%v)", [step_desc(st), material_desc(m), names, allowed]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": material_digest(m),
		"attestation": st.origin,
		"expected": allowed,
		"actual": names,
	}
}

records_source(st) if is_string(st.provenance.sourceUri)

records_source(st) if is_string(st.provenance.sourceCommit)

consumes_produced_material(st) if {
	some m in st.materials
	count(producers(m)) > 0
}

deny contains v if {
	some st in steps
	code := object.get(st, "exitCode", null)
	is_number(code)
	code != 0
	v := {
		"code": "chain.step-failed",
		"msg": sprintf("%s exited with code %v", [step_ref(st), code]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
		"expected": 0,
		"actual": code,
	}
}

deny contains v if {
	object.get(input, ["chain", "truncated"], false) == true
	v := {
		"code": "chain.truncated",
		"msg": sprintf("the chain of %s was cut short by a size limit (%d steps walked), so it could not be fully checked", [artifact_label, count(steps)]),
	}
}
