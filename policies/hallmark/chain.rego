# Integrity of the chain behind the artifact. Always on.
#
# - chain.unattested-input: a step consumed a material that no verified step of the chain
#   produced, that is not a declared external input (setting external_inputs: ["sha256:..."]),
#   and that the step may not read from the source. Source steps: the names in setting
#   source_steps, and the steps whose step_inputs name "source"; when neither names any, every
#   step that records a source (provenance sourceUri or sourceCommit) and none of whose materials
#   has a producer (it reads its inputs from the source checkout). A source step may read any
#   unproduced material, except with the object form of step_inputs: then only the materials whose
#   name matches one of its "source" patterns.
# - chain.input-from-wrong-step: with setting step_inputs, a material a step consumed that some
#   verified step produced does not come as the policy says (as in-toto's MATCH ... FROM). Two
#   forms per step:
#     list:   {"package": ["build", "test"]}: some producer of the material is named. "source"
#             makes the step a source step; for such a step, a material whose producers' products
#             with its digest all have other names is a content collision with a product, not a
#             hand-over: it counts as read from the source.
#     object: {"package": {"build": ["out/**"], "test": ["reports/**"]}}: some producer of the
#             material is a key and one of that key's glob patterns (glob.match, "/" separator)
#             matches the material's name. The key "source" makes the step a source step whose
#             unproduced materials must match its patterns. No collision exception.
# - chain.source-step-assumed (warning): no source step is named, so steps were taken as source
#   steps by the heuristic above; name them (source_steps, or "source" in step_inputs) so a chain
#   cut short and re-recorded from a tampered file cannot pass as starting at the source.
# - chain.step-failed: a step recorded a non-zero exit code, unless setting allow_failed_steps
#   names it (a step whose failure is expected and recorded, e.g. ["scan"]).
# - chain.truncated: a size limit stopped the walk, so the chain was not fully checked.
# - chain.unpinned-input: a step (source steps included) consumed a material recorded without a
#   digest (a resolvedDependency with no digest): nothing can tie it to an attested product or a
#   declared external input. One finding per material; chain.unattested-input skips it.
# - chain.artifact-from-wrong-step: with setting artifact_steps (["package"]), a step that
#   produced the artifact (input.chain.roots) has a name not in the list, or none did.
package hallmark

import rego.v1

# The bookkeeping comes with the input (docs/policy-input.md, "Derived facts"), computed once in
# Rust: per step the indices of its materials split into `produced` (some verified step of the
# chain produced it; whole-job provenance is no producer), `unproduced` (pinned, no producer) and
# `unpinned` (no digest), and the unproduced ones recorded `uncommitted`; `failed`,
# `superseded`, `startsFromSource`; per produced material `producers` and `producerNames`. Rules
# test step-level conditions before they look at materials.

# Settings read per step, once.
step_inputs := s if {
	s := settings.step_inputs
	is_object(s)
} else := {}

configured_source_steps := {n | some n in settings.source_steps}

# The declared external inputs, as a set (read per material).
external_digests := {d | some d in settings.external_inputs}

# A step that is no source step may read nothing unproduced (except declared external inputs).
deny contains v if {
	some st in steps
	not st.id in source_step_ids
	some i in st.unproduced
	m := st.materials[i]
	not m.digest in external_digests
	v := unattested_input(st, m)
}

# A source step without source patterns may read any committed unproduced material.
deny contains v if {
	some st in steps
	st.id in source_step_ids
	not st.id in patterned_step_ids
	some i in st.uncommitted
	m := st.materials[i]
	not m.digest in external_digests
	v := unattested_input(st, m)
}

# A source step with source patterns (object form) may read the committed unproduced materials
# whose names match one of them.
deny contains v if {
	some st in steps
	st.id in patterned_step_ids
	patterns := step_inputs[st.step].source
	some i in st.unproduced
	m := st.materials[i]
	not m.digest in external_digests
	not from_source(m, patterns)
	v := unattested_input(st, m)
}

from_source(m, patterns) if {
	not m.uncommitted == true
	name_matches(m, patterns)
}

unattested_input(st, m) := {
	"code": "chain.unattested-input",
	"msg": sprintf("%s consumed %s that no attested step produced and that is not a declared external input%s%s", [step_desc(st), material_desc(m), source_patterns_desc(st), untracked_desc(m)]),
	"step": object.get(st, "step", null),
	"file": object.get(m, "name", null),
	"digest": m.digest,
	"attestation": st.origin,
}

# Source steps: named (setting source_steps, or "source" in their step_inputs), else assumed
# (startsFromSource). Sets built once, not a function per step: a Rego function call costs more
# than a set lookup, and is not memoised.
source_step_ids := {st.id | some st in steps; st.step in source_step_names} | {st.id |
	not source_steps_named
	some st in steps
	st.startsFromSource == true
}

# Steps whose step_inputs are the object form with a key "source".
patterned_step_ids := {st.id |
	some st in steps
	inputs := step_inputs[st.step]
	is_object(inputs)
	"source" in object.keys(inputs)
}

untracked_desc(m) := "; it is not committed to the source (untracked, ignored or hidden from git status)" if m.uncommitted == true
else := ""

source_patterns_desc(st) := sprintf(", nor a source file it may read (%v)", [step_inputs[st.step].source]) if st.id in patterned_step_ids
else := ""

# The material's name matches one of the glob patterns ("/" separates segments: "*" within
# one, "**" across). A non-list of patterns or a non-string name matches nothing.
name_matches(m, patterns) if {
	name := object.get(m, "name", null)
	is_string(name)
	is_array(patterns)
	some pattern in patterns
	is_string(pattern)
	glob.match(pattern, ["/"], name)
}

# Every material of every step, source steps included, records a digest.
deny contains v if {
	some st in steps
	some i in st.unpinned
	m := st.materials[i]
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
	allowed := settings.artifact_steps
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
	allowed := settings.artifact_steps
	count(root_steps) == 0
	v := {
		"code": "chain.artifact-from-wrong-step",
		"msg": sprintf("no verified step of the chain produced %s (expected one of %v)", [artifact_label, allowed]),
		"step": null,
		"expected": allowed,
		"actual": null,
	}
}

# Source steps are named when source_steps is set, or when step_inputs lists "source" for them.
source_steps_named if settings.source_steps

source_steps_named if count(inputs_name_source) > 0

# The steps whose step_inputs name "source": in a list of inputs, or as a key of an object of
# inputs.
inputs_name_source contains name if {
	some name, inputs in step_inputs
	is_array(inputs)
	"source" in inputs
}

inputs_name_source contains name if {
	some name, inputs in step_inputs
	is_object(inputs)
	"source" in object.keys(inputs)
}

# The names of the named source steps.
source_step_names := configured_source_steps | inputs_name_source

# Steps taken as source steps by the heuristic: no source step is named, and the step records a
# source and consumed nothing a verified step produced (startsFromSource).
warn contains v if {
	not source_steps_named
	some st in steps
	st.startsFromSource == true
	count(st.unproduced) > 0
	v := {
		"code": "chain.source-step-assumed",
		"msg": sprintf("%s was taken as reading from the source checkout because it consumed nothing an attested step produced; name the source steps in the policy (sourceSteps, or inputs: [source])", [step_desc(st)]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
	}
}

# Each material a step consumed must come only from steps named for it (list form).
deny contains v if {
	some st in steps
	allowed := step_inputs[st.step]
	is_array(allowed)
	some i in st.produced
	m := st.materials[i]
	# Every step that produced it must be allowed: an old or sibling output of an allowed step,
	# copied over the file by a step that is not, is still a hand-over by that step.
	some n in m.producerNames
	not n in allowed
	not source_lookalike(m, allowed)
	names := {x | some x in m.producerNames}
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

# A source step (list form) read a file whose content happens to equal a product of another
# step under another name (an empty file, a license text): a content collision, not a hand-over,
# so the material counts as read from the source. Every product with the material's digest of
# every step that produced it has a name other than the material's.
source_lookalike(m, allowed) if {
	"source" in allowed
	pinned(m)
	name := object.get(m, "name", null)
	same := [pr |
		some id in m.producers
		some p in steps
		p.id == id
		some pr in object.get(p, "products", [])
		object.get(pr, "digest", null) == m.digest
	]
	count(same) > 0
	every pr in same {
		object.get(pr, "name", null) != name
	}
}

# Each material a step consumed that a step produced comes from a step named for it, under a
# name one of that step's patterns matches (object form; strict: no collision exception).
deny contains v if {
	count(object_input_steps) > 0
	some st in steps
	allowed := step_inputs[st.step]
	is_object(allowed)
	some i in st.produced
	m := st.materials[i]
	not object_input_allowed(allowed, m)
	names := {x | some x in m.producerNames}
	patterns := {n: ps | some n in names; is_string(n); ps := object.get(allowed, n, [])}
	v := {
		"code": "chain.input-from-wrong-step",
		"msg": sprintf("%s consumed %s, produced by %v, but it may take from those steps only files matching %v", [step_desc(st), material_desc(m), names, patterns]),
		"step": object.get(st, "step", null),
		"file": object.get(m, "name", null),
		"digest": material_digest(m),
		"attestation": st.origin,
		"expected": patterns,
		"actual": names,
	}
}

# The steps whose step_inputs are the object form (read once: most policies use the list form).
object_input_steps := {name | some name, inputs in step_inputs; is_object(inputs)}

# Every step that produced the material is named for it, and its patterns match the file.
object_input_allowed(allowed, m) if {
	every n in m.producerNames {
		is_string(n)
		name_matches(m, allowed[n])
	}
}

# A step that failed is denied unless the policy allows that step to fail, or the step is
# superseded: the chain uses something of it and everything of it the chain uses also came, byte
# for byte, from a step that succeeded (a failed attempt and its successful re-run produce the
# same file). A failed step nothing uses (a failed test run) is not superseded.
deny contains v if {
	some st in steps
	st.failed == true
	not st.superseded == true
	not object.get(st, "step", null) in allowed_failed_steps
	code := st.exitCode
	v := {
		"code": "chain.step-failed",
		"msg": sprintf("%s exited with code %v", [step_ref(st), code]),
		"step": object.get(st, "step", null),
		"attestation": st.origin,
		"expected": 0,
		"actual": code,
	}
}

# The steps allowed to record a failure (setting allow_failed_steps; none by default).
allowed_failed_steps := s if {
	s := settings.allow_failed_steps
	is_array(s)
} else := []

deny contains v if {
	object.get(input, ["chain", "truncated"], false) == true
	v := {
		"code": "chain.truncated",
		"msg": sprintf("the chain of %s was cut short by a size limit (%d steps walked), so it could not be fully checked", [artifact_label, count(steps)]),
	}
}
