// Fuzzes the configuration files a user hands `lakeflow run`: the input is read both as a pipeline
// spec and as a connections file (YAML, or JSON read as YAML). A ConfigError is the expected
// outcome of a bad file; anything else breaks the contract in fuzz_support.h.
//
// Invariants checked per input:
//   * Every table of a parsed spec lands under its destination_root, three single path components
//     below it (`..`, `/` or an empty name would write somewhere else).
//   * Connection values never appear in an error: the values that `${env:NAME}` and `${file:PATH}`
//     references resolve to are secrets, and no message (a parse error, a connection's problem)
//     may hold them.
//
// References are resolved for real: `${env:...}` through a lookup that knows every name except
// those starting with UNSET, `${file:...}` relative to a directory holding `secret.txt`. Inputs
// that could reach devices or escapes (`/dev`, `/proc`, `/sys`, `/run`, a backslash together with
// `file:`) are skipped, so that no input reads a file that never ends.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "lakeflow/error.h"
#include "pipeline/connections.h"
#include "pipeline/pipeline_spec.h"

namespace {

namespace fs = std::filesystem;
using lakeflow::fuzz::fail;
using lakeflow::fuzz::typed_errors_only;

constexpr std::string_view kEnvSecret = "env-Secret-7f3a91";
constexpr std::string_view kFileSecret = "file-Secret-c04e2d";

// A directory with `secret.txt`, made once per process and removed at exit. Never destroyed, so
// that the exit handler can still use it.
const fs::path& fixture_dir() {
  static const fs::path* const dir = [] {
    std::string pattern = (fs::temp_directory_path() / "lakeflow-fuzz-spec-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) fail("cannot make a temporary directory", pattern);
    std::ofstream(fs::path(pattern) / "secret.txt") << kFileSecret << "\n";
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(fixture_dir(), ignored);
    });
    return new fs::path(pattern);
  }();
  return *dir;
}

bool reaches_outside(std::string_view input) {
  if (input.find("file:") == std::string_view::npos) return false;
  for (std::string_view risky : {"/dev", "/proc", "/sys", "/run", "\\"}) {
    if (input.find(risky) != std::string_view::npos) return true;
  }
  return false;
}

void check_no_secret(std::string_view input, std::string_view message) {
  for (std::string_view secret : {kEnvSecret, kFileSecret}) {
    // A secret the input itself spells out may be quoted back as the file's own text.
    if (input.find(secret) != std::string_view::npos) continue;
    if (message.find(secret) != std::string_view::npos) fail("a secret in a message", message);
  }
}

void check_spec(const lakeflow::pipeline::PipelineSpec& spec) {
  if (spec.connection_name.empty()) fail("a spec without connection_name", spec.file_name);
  if (spec.tables.empty()) fail("a spec without tables", spec.file_name);
  const fs::path root = spec.destination_root.lexically_normal();
  for (const lakeflow::pipeline::TableSpec& table : spec.tables) {
    const fs::path path = spec.table_path(table);
    const fs::path relative = path.lexically_relative(root);
    int components = 0;
    for (const fs::path& part : relative) {
      ++components;
      if (part.empty() || part == "." || part == "..") {
        fail("a destination outside destination_root", path.string());
      }
    }
    if (components != 3) {
      fail("a destination that is not <root>/<catalog>/<schema>/<table>", path.string());
    }
    (void)spec.find_source_table(table.source_table);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  if (reaches_outside(input)) return 0;
  const fs::path& dir = fixture_dir();

  try {
    const auto spec =
        lakeflow::pipeline::parse_pipeline_spec(input, (dir / "pipeline.yaml").string());
    check_spec(spec);
  } catch (const lakeflow::ConfigError& e) {
    check_no_secret(input, e.what());
  } catch (const std::exception& e) {
    fail("parse_pipeline_spec threw something other than ConfigError", e.what());
  }

  const lakeflow::pipeline::EnvLookup env =
      [](std::string_view name) -> std::optional<std::string> {
    if (name.starts_with("UNSET")) return std::nullopt;
    return std::string(kEnvSecret);
  };
  std::optional<lakeflow::pipeline::Connections> connections;
  try {
    connections =
        lakeflow::pipeline::parse_connections(input, (dir / "connections.yaml").string(), env);
  } catch (const lakeflow::ConfigError& e) {
    check_no_secret(input, e.what());
    return 0;
  } catch (const std::exception& e) {
    fail("parse_connections threw something other than ConfigError", e.what());
  }
  for (const auto& entry : connections->all()) {
    check_no_secret(input, entry.second.problem);
    typed_errors_only([&] {
      try {
        (void)connections->get(entry.first);
      } catch (const lakeflow::ConfigError& e) {
        check_no_secret(input, e.what());
        throw;
      }
    });
  }
  (void)connections->secret_values();
  typed_errors_only([&] { (void)connections->get("fuzz-missing-connection"); });
  return 0;
}
