// The `lakeflow` command: list connectors and tables, show schemas and metadata, and read tables
// through the offset protocol as NDJSON.
//
// Exit statuses (see lakeflow::exit_status and README.md, "Exit status"): 0 success; 2 usage,
// configuration, schema, unknown table and access errors (rejected credentials, denied
// permissions); 3 source errors; 4 data (conversion) errors; 5 a concurrent writer; 1 anything
// else. A failed command prints one line `error: <message>` to stderr, secrets redacted by the
// process's Redactor (lakeflow/http/redactor.h).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace lakeflow::cli {

// Runs the command line `argv` with the process's stdout and stderr. SIGPIPE is ignored: when the
// reader of stdout goes away (`lakeflow read ... | head -1`) the command stops quietly.
int run(int argc, char** argv);

// Runs `args` (without the program name), writing results to `out` and diagnostics to `err`.
// Returns the exit status.
int run(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

}  // namespace lakeflow::cli
