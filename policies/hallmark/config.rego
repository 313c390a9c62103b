# The settings of Hallmark's policy library (policies/README.md lists the keys).
#
# This module defines `config` and nothing else, and it is the ONLY module that reads
# data.hallmark_config: for a declarative policy Hallmark replaces it with a generated module
# `config := {...}`. Every other module reads `config` (through `setting` in common.rego).
package hallmark

import rego.v1

config := object.get(data, "hallmark_config", {})
