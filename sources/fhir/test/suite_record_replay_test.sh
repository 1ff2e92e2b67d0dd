#!/bin/sh
# The conformance suite in record mode against the local FHIR server, then in replay mode from the
# cassettes it wrote (replay takes the stand-in options and starts no server): both must pass,
# and no cassette may name the server's address (recordings name the stand-in origin).
# Usage: suite_record_replay_test.sh <fhir test binary>
set -eu
binary=$1
cassettes=$(mktemp -d "${TMPDIR:-/tmp}/fhir_cassettes_XXXXXX")
trap 'rm -rf "$cassettes"' EXIT
classes='TestReadTable.*:TestIncrementalRead.*'
LAKEFLOW_TEST_MODE=record LAKEFLOW_CASSETTE_DIR=$cassettes "$binary" --gtest_filter="$classes" \
  > "$cassettes/record.log" 2>&1 || { cat "$cassettes/record.log"; echo "record mode failed"; exit 1; }
for class in TestReadTable TestIncrementalRead; do
  [ -s "$cassettes/$class.json" ] || { echo "record mode wrote no $class.json"; exit 1; }
done
if grep -q 'http://127\.0\.0\.1:' "$cassettes"/*.json; then
  echo "a cassette names the live server's address"; exit 1
fi
LAKEFLOW_TEST_MODE=replay LAKEFLOW_CASSETTE_DIR=$cassettes "$binary" --gtest_filter="$classes" \
  > "$cassettes/replay.log" 2>&1 || { cat "$cassettes/replay.log"; echo "replay mode failed"; exit 1; }
echo "record and replay passed: $(ls "$cassettes"/*.json | wc -l) cassettes"
