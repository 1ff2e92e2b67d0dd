// The conformance suite, run against the in-process Example source (with write-back).
#include <memory>

#include "example_write_back.h"
#include "lakeflow/testing/conformance.h"

LAKEFLOW_CONFORMANCE_SUITE(lakeflow::testing::SuiteOptions{
    .connector = "example",
    .source_dir = LAKEFLOW_SOURCE_DIR,
    .allowed_integer_or_map_fields =
        {{"products:attributes",
          "seller-defined attributes whose keys differ from product to product (color, dpi, "
          "panel, ...); a struct would need a field per key any seller ever invents"}},
    .write_back =
        [](const lakeflow::Options& options) -> std::unique_ptr<lakeflow::testing::WriteBackUtils> {
      return std::make_unique<lakeflow::example::ExampleWriteBack>(options);
    }});
