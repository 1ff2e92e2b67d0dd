// The conformance suite, run against the real Github source. The connection options come from
// configs/dev_config.json (git-ignored) or $LAKEFLOW_TEST_CONFIG_JSON.
#include "lakeflow/testing/conformance.h"

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "github",
    .source_dir = LAKEFLOW_SOURCE_DIR,
});
