// The conformance suite's test modes (see lakeflow/testing/conformance.h): which transport each
// test class runs with, and what it leaves behind. Internal to the suite.
#pragma once

#include <cstdint>
#include <string>

#include "lakeflow/http/test_mode.h"
#include "lakeflow/options.h"

namespace lakeflow::testing::modes {

// Installs the per-class listener (once; called by register_suite).
void install();
// The mode of this process; ConfigError for a bad LAKEFLOW_TEST_MODE.
http::TestMode mode();
// Changes whenever a class starts with a fresh transport: reads cached before are of another
// recording or simulation.
std::uint64_t generation();
// Why the running class cannot run in its mode (a missing cassette or simulator); empty when it
// can.
std::string problem();
// Record mode: the live connector options, so the recording names the stand-in origin instead.
void note_live_options(const Options& options);

}  // namespace lakeflow::testing::modes
