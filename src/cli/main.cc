// Entry point of the `lakeflow` command; everything else lives in lakeflow_cli_lib.
#include "cli.h"  // beside this file: lakeflow_cli_lib keeps src/ private

int main(int argc, char** argv) { return lakeflow::cli::run(argc, argv); }
