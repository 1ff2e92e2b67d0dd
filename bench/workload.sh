# The benchmarks' workload, sourced by bench/run-convert and bench/run-ingest.
#
# bench/data/observations.ndjson (git-ignored): >= 200 MiB of HL7's official FHIR R4 Observation
# examples varied per copy, made by bench/gen_fhir_observations.py from the npm package
# hl7.fhir.r4.examples (installed by `scripts/install-deps --bench`). Generated once, reused after.
# Its schema is bench/observation_schema.json (regenerate with `node bench/infer-schema.js`).

# Sets `workload` to the workload's path, generating it first when it is missing or too small.
# Needs `bench_dir` (this directory) and a name for messages in `bench_name`.
ensure_workload() {
  local examples=$bench_dir/node_modules/hl7.fhir.r4.examples
  # npm unpacks the package's files at the top level; older tooling kept its `package/` folder.
  [ -d "$examples/package" ] && examples=$examples/package
  workload=$bench_dir/data/observations.ndjson
  local min_mib=200
  local size
  size=$(stat -c %s "$workload" 2>/dev/null || echo 0)
  if [ "$size" -ge $((min_mib * 1024 * 1024)) ]; then
    return 0
  fi
  if ! compgen -G "$examples/Observation-*.json" >/dev/null; then
    echo "$bench_name: no Observation examples in $examples; run scripts/install-deps --bench" >&2
    exit 1
  fi
  mkdir -p "$bench_dir/data"
  echo "$bench_name: generating $workload ($min_mib MiB)"
  python3 "$bench_dir/gen_fhir_observations.py" "$examples" "$workload.tmp" "$min_mib"
  mv "$workload.tmp" "$workload"
}
