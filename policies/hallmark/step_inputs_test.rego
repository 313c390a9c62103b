package hallmark_test.step_inputs

# The two forms of step_inputs: a list of steps (and "source"), and an object of steps (and
# "source") to glob patterns on material names.

import rego.v1

import data.hallmark_test.fixtures as f

app_a := "sha256:b1"

app_b := "sha256:b2"

junit := f.product("reports/junit.xml", "sha256:e1")

build := f.step(f.id_build, "build", [f.material("src/main.c", "sha256:c0", [])], [f.product("out/app", app_a)], {})

package_of(materials) := f.step(f.id_package, "package", materials, [f.product("dist/app.tar", "sha256:aa")], {})

# The test step rewrites out/app in place (material digest A, product digest B), and the package
# step takes the rewritten out/app from it.
rewritten := f.with_steps([
	build,
	f.step(f.id_test, "test", [f.material("out/app", app_a, [f.id_build])], [f.product("out/app", app_b), junit], {}),
	package_of([f.material("out/app", app_b, [f.id_test]), f.material("reports/junit.xml", "sha256:e1", [f.id_test])]),
])

# The same build where the test step leaves out/app alone.
honest := f.with_steps([
	build,
	f.step(f.id_test, "test", [f.material("out/app", app_a, [f.id_build])], [junit], {}),
	package_of([f.material("out/app", app_a, [f.id_build]), f.material("reports/junit.xml", "sha256:e1", [f.id_test])]),
])

list_inputs := {"build": ["source"], "test": ["build"], "package": ["build", "test"]}

object_inputs := object.union(list_inputs, {"package": {"build": ["out/**"], "test": ["reports/**"]}})

test_list_form_lets_a_rewritten_file_through if {
	# The gap the object form closes: package may take inputs from test, so test's out/app passes.
	not "chain.input-from-wrong-step" in f.codes(rewritten, {"step_inputs": list_inputs})
}

test_object_form_denies_a_file_rewritten_in_place if {
	vs := f.denied(rewritten, {"step_inputs": object_inputs}, "chain.input-from-wrong-step")
	count(vs) == 1
	some v in vs
	v.step == "package"
	v.file == "out/app"
	v.digest == app_b
	v.attestation == "store sha256:03"
	v.actual == {"test"}
	v.expected == {"test": ["reports/**"]}
	v.msg == `step "package" consumed "out/app" (sha256:b2), produced by {"test"}, but it may take from those steps only files matching {"test": ["reports/**"]}`
}

test_object_form_passes_files_from_the_steps_and_patterns_named if {
	count(f.denials(honest, {"step_inputs": object_inputs})) == 0
	# A pattern that covers everything restores the list form's behaviour.
	not "chain.input-from-wrong-step" in f.codes(rewritten, {"step_inputs": object.union(list_inputs, {"package": {"build": ["**"], "test": ["**"]}})})
}

test_object_form_denies_a_step_that_is_not_a_key if {
	vs := f.denied(honest, {"step_inputs": object.union(list_inputs, {"package": {"build": ["out/**"]}})}, "chain.input-from-wrong-step")
	count(vs) == 1
	some v in vs
	v.file == "reports/junit.xml"
	v.expected == {"test": []}
	v.msg == `step "package" consumed "reports/junit.xml" (sha256:e1), produced by {"test"}, but it may take from those steps only files matching {"test": []}`
}

test_object_form_patterns_are_globs_on_the_name if {
	# "*" stays within one segment, "**" crosses them.
	one := object.union(list_inputs, {"package": {"build": ["out/*"], "test": ["reports/*"]}})
	not "chain.input-from-wrong-step" in f.codes(honest, {"step_inputs": one})
	deep := f.with_steps([
		f.step(f.id_build, "build", [f.material("src/main.c", "sha256:c0", [])], [f.product("out/bin/app", app_a)], {}),
		package_of([f.material("out/bin/app", app_a, [f.id_build])]),
	])
	"chain.input-from-wrong-step" in f.codes(deep, {"step_inputs": {"build": ["source"], "package": {"build": ["out/*"]}}})
	not "chain.input-from-wrong-step" in f.codes(deep, {"step_inputs": {"build": ["source"], "package": {"build": ["out/**"]}}})
}

test_object_form_with_two_producers_needs_every_one_allowed if {
	# Build and lint both produced the same content under out/app (lint copied an old or
	# sibling build output over it): a hand-over by lint, which package may not take from.
	lint := f.step("sha256:04", "lint", [], [f.product("out/app", app_a)], {})
	doc := f.with_steps([build, lint, package_of([f.material("out/app", app_a, [f.id_build, "sha256:04"])])])
	some v in f.denied(doc, {"step_inputs": {"build": ["source"], "package": {"build": ["out/**"]}}}, "chain.input-from-wrong-step")
	v.actual == {"build", "lint"}
	v.expected == {"build": ["out/**"], "lint": []}
	not "chain.input-from-wrong-step" in f.codes(doc, {"step_inputs": {"build": ["source"], "package": {"build": ["out/**"], "lint": ["out/**"]}}})
}

test_list_form_with_two_producers_needs_every_one_allowed if {
	lint := f.step("sha256:04", "lint", [], [f.product("out/app", app_a)], {})
	doc := f.with_steps([build, lint, package_of([f.material("out/app", app_a, [f.id_build, "sha256:04"])])])
	some v in f.denied(doc, {"step_inputs": {"build": ["source"], "package": ["build"]}}, "chain.input-from-wrong-step")
	v.actual == {"build", "lint"}
	not "chain.input-from-wrong-step" in f.codes(doc, {"step_inputs": {"build": ["source"], "package": ["build", "lint"]}})
}

test_object_form_survives_odd_names if {
	# A material without a name matches no pattern; a producing step without a name is no key.
	nameless := f.with_steps([build, package_of([{"name": null, "digest": app_a, "producedBy": [f.id_build]}])])
	some v in f.denied(nameless, {"step_inputs": {"build": ["source"], "package": {"build": ["**"]}}}, "chain.input-from-wrong-step")
	v.file == null
	anonymous := f.with_steps([
		f.step(f.id_build, null, [f.material("src/main.c", "sha256:c0", [])], [f.product("out/app", app_a)], {}),
		package_of([f.material("out/app", app_a, [f.id_build])]),
	])
	some w in f.denied(anonymous, {"step_inputs": {"package": {"build": ["**"]}}}, "chain.input-from-wrong-step")
	w.actual == {null}
	w.expected == {}
}

# --- "source" in the object form ---

source_cfg := {"step_inputs": {"build": {"source": ["src/**"]}, "test": {"build": ["out/**"]}, "package": {"build": ["out/**"], "test": ["reports/**"]}}}

test_object_form_source_step_reads_matching_files if {
	count(f.denials(honest, source_cfg)) == 0
	# "source" as a key names the source steps: no guessing.
	not "chain.source-step-assumed" in f.warnings(honest, source_cfg)
}

test_object_form_source_step_denies_other_unproduced_files if {
	blob := f.material("vendor/blob.bin", "sha256:0b", [])
	doc := f.with_steps([
		f.step(f.id_build, "build", [f.material("src/main.c", "sha256:c0", []), blob], [f.product("out/app", app_a)], {}),
		f.step(f.id_test, "test", [f.material("out/app", app_a, [f.id_build])], [junit], {}),
		package_of([f.material("out/app", app_a, [f.id_build]), f.material("reports/junit.xml", "sha256:e1", [f.id_test])]),
	])
	vs := f.denied(doc, source_cfg, "chain.unattested-input")
	count(vs) == 1
	some v in vs
	v.step == "build"
	v.file == "vendor/blob.bin"
	v.msg == `step "build" consumed "vendor/blob.bin" (sha256:0b) that no attested step produced and that is not a declared external input, nor a source file it may read (["src/**"])`
	# A declared external input is allowed anywhere.
	not "chain.unattested-input" in f.codes(doc, object.union(source_cfg, {"external_inputs": ["sha256:0b"]}))
	# The list form's "source" allows any unproduced file.
	not "chain.unattested-input" in f.codes(doc, {"step_inputs": {"build": ["source"]}})
}

test_object_form_without_source_is_not_a_source_step if {
	# Test takes only from build: src/extra.c, which nobody produced, is unattested.
	doc := f.with_steps([
		build,
		f.step(f.id_test, "test", [f.material("out/app", app_a, [f.id_build]), f.material("src/extra.c", "sha256:c1", [])], [junit], {}),
		package_of([f.material("out/app", app_a, [f.id_build])]),
	])
	some v in f.denied(doc, source_cfg, "chain.unattested-input")
	v.step == "test"
	v.file == "src/extra.c"
}

test_source_steps_setting_without_source_key_reads_any_file if {
	# source_steps names build and its object form has no "source" key: it reads the checkout
	# unrestricted, as a source step named by source_steps always has.
	cfg := {"source_steps": ["build"], "step_inputs": {"package": {"build": ["out/**"], "test": ["reports/**"]}}}
	count(f.denials(honest, cfg)) == 0
}

# --- a source step reading a file whose content another step also produced ---

# The build step reads assets/empty.txt from the checkout; the test step happens to produce
# an empty file too, so Hallmark lists test as the material's producer (by digest).
empty := "sha256:e3"

collision(test_product_name) := f.with_steps([
	f.step(f.id_build, "build", [f.material("src/main.c", "sha256:c0", []), f.material("assets/empty.txt", empty, [f.id_test])], [f.product("out/app", app_a)], {}),
	f.step(f.id_test, "test", [f.material("out/app", app_a, [f.id_build])], [junit, f.product(test_product_name, empty)], {}),
	package_of([f.material("out/app", app_a, [f.id_build]), f.material("reports/junit.xml", "sha256:e1", [f.id_test])]),
])

test_source_step_reading_a_lookalike_is_not_from_the_wrong_step if {
	# A content collision under another name: read from the source, not handed over by test.
	cfg := {"step_inputs": {"build": ["source"], "test": ["build"], "package": ["build", "test"]}}
	count(f.denials(collision("reports/empty.log"), cfg)) == 0
}

test_source_step_reading_a_product_of_the_same_name_is_from_the_wrong_step if {
	# Test produced assets/empty.txt itself: that is a hand-over, even with that content.
	cfg := {"step_inputs": {"build": ["source"], "test": ["build"], "package": ["build", "test"]}}
	some v in f.denied(collision("assets/empty.txt"), cfg, "chain.input-from-wrong-step")
	v.step == "build"
	v.file == "assets/empty.txt"
	v.actual == {"test"}
}

test_lookalike_exception_needs_source_in_the_list if {
	cfg := {"source_steps": ["build"], "step_inputs": {"build": ["lint"], "test": ["build"], "package": ["build", "test"]}}
	some v in f.denied(collision("reports/empty.log"), cfg, "chain.input-from-wrong-step")
	v.file == "assets/empty.txt"
}

test_object_form_has_no_lookalike_exception if {
	some v in f.denied(collision("reports/empty.log"), source_cfg, "chain.input-from-wrong-step")
	v.step == "build"
	v.file == "assets/empty.txt"
	v.expected == {"test": []}
	# Unless the policy names it.
	cfg := object.union(source_cfg, {"step_inputs": {"build": {"source": ["src/**"], "test": ["assets/empty.txt"]}}})
	count(f.denials(collision("reports/empty.log"), cfg)) == 0
}
