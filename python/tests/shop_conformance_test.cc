// The conformance suite (include/lakeflow/testing/conformance.h), the same test classes every C++
// connector passes, run against a Python connector through lakeflow's Python bridge:
// python/tests/lakeflow_test_connectors/shop.py, named python:lakeflow_test_connectors.shop:
// ShopConnector. ctest runs it as python_shop.<TestClass> with python/tests on PYTHONPATH.
#include "lakeflow/registry.h"
#include "lakeflow/testing/conformance.h"
#include "python_bridge/python_connector.h"

static const bool python_connectors_registered = [] {
  lakeflow::python_bridge::register_python_connectors(lakeflow::ConnectorRegistry::instance());
  return true;
}();

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "python:lakeflow_test_connectors.shop:ShopConnector", .connector_options = [] {
      return lakeflow::Options{{"records", "25"}};
    }});
