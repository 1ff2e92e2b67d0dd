// `lakeflow ui`: starts the dashboard server (src/ui/server.h) and serves until stopped.
#include <fmt/format.h>

#include <ostream>
#include <string>

#include "cli/commands.h"
#include "ui/server.h"

namespace lakeflow::cli {

void serve_ui(const std::string& root, const ui::ServerOptions& options, std::ostream& out,
              std::ostream& err) {
  ui::UiServer server(root, options);
  server.bind();
  if (!server.loopback_only()) {
    err << fmt::format(
        "warning: listening on {}: anyone who can reach this address can read every table under "
        "{} (there is no authentication); use the default --host 127.0.0.1 to keep it local\n",
        options.host, root);
  }
  write_out(out, fmt::format("serving at {} (Ctrl-C stops)\n", server.url()));
  server.run();
}

}  // namespace lakeflow::cli
