// The conformance suite instantiated for "broken_fixture" (see broken_fixture.h). This binary is
// not a ctest test of its own: conformance_suite_test.cc runs it and checks what it reports.
#include "broken_fixture.h"
#include "lakeflow/testing/conformance.h"

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "broken_fixture",
    .allowed_integer_or_map_fields = {{"customers:score",
                                       "fixture: an allowed field with a reason is not reported"}},
    .max_read_calls = 20,
    .write_back = lakeflow::conformance_fixture::make_write_back,
});
