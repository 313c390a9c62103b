#!/bin/sh
# The tests: run the built program, keep a report.
set -eu
mkdir -p reports
out="$(sh out/app)"
if [ "$out" = "hello from the hallmark gitlab example" ]; then
  echo "ok 1 - greeting" > reports/tests.tap
else
  echo "not ok 1 - greeting: $out" > reports/tests.tap
  exit 1
fi
