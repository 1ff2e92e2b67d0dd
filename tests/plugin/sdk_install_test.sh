#!/usr/bin/env bash
# The installed SDK end to end, in a temporary prefix:
#   install -> `lakeflow new --out-of-tree` -> build against the prefix alone -> load the plugin
#   with LAKEFLOW_PLUGIN_PATH -> `lakeflow connectors` -> the plugin's conformance test ->
#   `lakeflow check --project` over the project and its build -> land a table with `lakeflow run`
#   -> read it back with `lakeflow show`.
# The scaffold's methods throw NotImplementedError, so before building, this test replaces the
# scaffolded connector source with a tiny working connector (one fixed in-memory table). Everything
# else (CMakeLists.txt, the conformance test, the header) is used as `lakeflow new` wrote it. The
# connector calls into the HTTP toolkit once, which proves the scaffold links it.
#
# Usage: sdk_install_test.sh BUILD_DIR CXX [COMPILER_LAUNCHER]
set -euo pipefail

build_dir=$(cd "$1" && pwd)
cxx=$2
launcher=${3:-}
repo=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/lakeflow_sdk_install.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
project=$work/e2e_items

step() { printf '== %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

step "install into $prefix"
cmake --install "$build_dir" --prefix "$prefix" >/dev/null
for file in bin/lakeflow include/lakeflow/connector.h include/lakeflow/plugin.h \
            include/lakeflow/version.h include/lakeflow/http/client.h \
            include/lakeflow/testing/conformance.h lib/cmake/Lakeflow/LakeflowConfig.cmake \
            lib/cmake/Lakeflow/LakeflowConfigVersion.cmake \
            lib/cmake/Lakeflow/LakeflowAddConnector.cmake \
            lib/cmake/Lakeflow/LakeflowConnectorSpec.cmake lib/pkgconfig/lakeflow.pc \
            share/lakeflow/templates/out-of-tree/CMakeLists.txt; do
  [[ -e $prefix/$file ]] || fail "not installed: $file"
done
ls "$prefix"/lib/liblakeflow.so.* >/dev/null || fail "liblakeflow.so not installed"
[[ ! -e $prefix/include/lakeflow/record_converter.h ]] || fail "an engine header was installed"
baseline=$(sed -n 's/^#define LAKEFLOW_SDK_CPU_BASELINE "\(.*\)"$/\1/p' \
  "$prefix/include/lakeflow/version.h")
PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --cflags lakeflow | grep -q -- "-march=$baseline" ||
  fail "lakeflow.pc does not carry -march=$baseline"

step "scaffold out of tree (from outside the repository)"
cd "$work"
"$prefix/bin/lakeflow" new e2e_items --tables items --out-of-tree "$project"
# The tiny working connector (see above): one snapshot table of three fixed records.
cat >"$project/e2e_items_connector.cc" <<'CC'
#include "e2e_items_connector.h"

#include <string>
#include <vector>

#include "lakeflow/http/url.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"

namespace lakeflow::e2e_items {

// A call into the HTTP toolkit: the plugin links (with --no-undefined) only because
// lakeflow_add_connector() links Lakeflow::http without being asked.
[[maybe_unused]] const std::string kToolkitLinked =
    http::with_query_param("http://x.invalid/", "a", "b");

E2eItemsConnector::E2eItemsConnector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options) {}

std::vector<std::string> E2eItemsConnector::do_list_tables() { return {"items"}; }

StructType E2eItemsConnector::do_get_table_schema(const TableContext&) {
  return StructType{{"id", DataType::Long(), false}, {"name", DataType::String()}};
}

TableMetadata E2eItemsConnector::do_read_table_metadata(const TableContext&) {
  return {{"id"}, std::nullopt, IngestionType::kSnapshot};
}

ReadResult E2eItemsConnector::do_read_table(const ReadContext&) {
  return {RecordStream::of(std::vector<std::string>{R"({"id":1,"name":"one"})",
                                                    R"({"id":2,"name":"two"})",
                                                    R"({"id":3,"name":"three"})"}),
          Offset::null()};
}

ReadResult E2eItemsConnector::do_read_table_deletes(const ReadContext& context) {
  return LakeflowConnect::do_read_table_deletes(context);
}

LAKEFLOW_REGISTER_CONNECTOR("e2e_items", E2eItemsConnector, "Three fixed items (SDK test)");

}  // namespace lakeflow::e2e_items
CC

step "build against $prefix only"
cmake -S "$project" -B "$project/build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_CXX_COMPILER="$cxx" ${launcher:+-DCMAKE_CXX_COMPILER_LAUNCHER="$launcher"} \
  -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
grep -q -- "-march=$baseline" "$project/build/compile_commands.json" ||
  fail "Lakeflow::sdk did not carry the CPU baseline -march=$baseline to the plugin's sources"
if grep -rqF -- "$repo" "$project/build/compile_commands.json" "$project/build/CMakeCache.txt"; then
  fail "the out-of-tree build refers to the repository ($repo)"
fi
cmake --build "$project/build" -j 2 >/dev/null
plugin=$project/build/lakeflow_e2e_items.so
[[ -f $plugin ]] || fail "no plugin at $plugin"

step "load with LAKEFLOW_PLUGIN_PATH and list it"
export LAKEFLOW_PLUGIN_PATH=$project/build
listing=$("$prefix/bin/lakeflow" connectors)
printf '%s\n' "$listing"
grep -qE "^e2e_items +$plugin +Three fixed items" <<<"$listing" ||
  fail "lakeflow connectors does not show e2e_items from $plugin"
"$prefix/bin/lakeflow" connectors --json | grep -qF "\"name\":\"e2e_items\",\"origin\":\"$plugin\"" ||
  fail "lakeflow connectors --json does not show the plugin's file"

step "the plugin checks its options against its compiled connector_spec.yaml"
if refusal=$("$prefix/bin/lakeflow" tables -c e2e_items --option colour=red 2>&1); then
  fail "an unknown connection option was accepted"
fi
grep -qF "e2e_items: unknown connection option 'colour'" <<<"$refusal" ||
  fail "unexpected refusal of an unknown option: $refusal"

step "run the plugin's conformance test, named after the connector in ctest"
"$project/build/lakeflow_e2e_items_tests" --gtest_brief=1
listed=$(ctest --test-dir "$project/build" -N -R '^e2e_items\.TestReadTable$')
grep -qF 'e2e_items.TestReadTable' <<<"$listed" ||
  fail "ctest has no test e2e_items.TestReadTable (one per conformance class): $listed"
ctest --test-dir "$project/build" -R '^e2e_items\.' --output-on-failure >/dev/null ||
  fail "ctest -R '^e2e_items\.' failed"

step "lakeflow check --project: the project's files, its plugin and its test binary"
report=$("$prefix/bin/lakeflow" check --project "$project" --run-tests) ||
  fail "lakeflow check --project reported errors: $report"
printf '%s\n' "$report" | grep -E "Phase 3|Run tests|UnknownTable|source file" || true
for text in "1 header(s), 1 source file(s)" \
            "CMakeLists.txt declares lakeflow_add_connector(... TESTS ...)" \
            "ran: each of the 4 table methods throws UnknownTableError" \
            "ran against the configured source: " "e2e_items: no errors"; do
  grep -qF -- "$text" <<<"$report" || fail "lakeflow check --project does not say: $text"
done

step "land a table with lakeflow run"
cat >"$work/connections.yaml" <<'YAML'
e2e:
  connector: e2e_items
  options: {}
YAML
cat >"$work/pipeline.yaml" <<'YAML'
connection_name: e2e
connections_file: connections.yaml
destination_root: ./lakehouse
objects:
  - table:
      source_table: items
      destination_schema: demo
YAML
"$prefix/bin/lakeflow" run "$work/pipeline.yaml"
rows=$("$prefix/bin/lakeflow" show "$work/lakehouse/main/demo/items")
printf '%s\n' "$rows"
[[ $(wc -l <<<"$rows") -eq 3 ]] || fail "expected 3 rows in the landed table"
grep -qF '"name":"three"' <<<"$rows" || fail "the landed table lacks its records"
step "ok"
