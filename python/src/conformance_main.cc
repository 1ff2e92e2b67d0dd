// The conformance suite (include/lakeflow/testing/conformance.h), the same test classes every C++
// connector passes, for a Python connector run through lakeflow's Python bridge: the connector
// is named by LAKEFLOW_TEST_CONNECTOR (`python:package.module:ClassName`), its options come from
// the suite's usual places (LAKEFLOW_TEST_CONFIG_JSON, LAKEFLOW_TEST_CONFIG_PATH, or
// $LAKEFLOW_SOURCE_DIR/configs/dev_config.json). `python3 -m lakeflow.testing` runs it; ctest runs
// it against python/tests/lakeflow_test_connectors/shop.py as python_shop.<TestClass>.
#include <cstdlib>
#include <string>

#include "lakeflow/registry.h"
#include "lakeflow/testing/conformance.h"
#include "python_bridge/python_connector.h"

namespace {

std::string connector_from_environment() {
  lakeflow::python_bridge::register_python_connectors(lakeflow::ConnectorRegistry::instance());
  const char* name = std::getenv("LAKEFLOW_TEST_CONNECTOR");
  return name != nullptr ? name : "";
}

}  // namespace

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = connector_from_environment()});
