// Fuzzes Delta log replay on damaged and hostile logs: the input is the content of a table's
// `_delta_log` directory, which DeltaLog lists and replays the way `lakeflow run` and `lakeflow
// show` do (snapshot, time travel, offsets, the writability check). A lakeflow::Error is the
// expected outcome of a bad log; anything else breaks the contract in fuzz_support.h.
//
// Input format: files, each introduced by a line `#NAME` and holding the bytes up to the newline
// before the next such line (a blank line there gives the file a final newline):
//
//   #0                       -> 00000000000000000000.json (a number: that version's commit)
//   {"protocol":{...}}
//   {"metaData":{...}}
//   #1
//   {"add":{...}}
//   #10.checkpoint.parquet   -> 00000000000000000010.checkpoint.parquet
//   PAR1...
//   #_last_checkpoint        -> any other name is used as it is (no `/`, not `.` or `..`)
//   {"version":10,"size":4}
//
// Invariants checked per input:
//   * snapshot() is the snapshot of latest_version(), and snapshot_at(v) is at version v (the one
//     before the latest).
//   * Every active file and tombstone has a path, and the two sets are disjoint.
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "delta/delta_log.h"
#include "fuzz_support.h"
#include "lakeflow/error.h"

namespace {

namespace fs = std::filesystem;
using lakeflow::delta::DeltaLog;
using lakeflow::delta::Snapshot;
using lakeflow::fuzz::fail;
using lakeflow::fuzz::typed_errors_only;

constexpr std::size_t kMaxFiles = 32;

// The table directory, made once per process (on tmpfs when there is one) and removed at exit.
// Never destroyed, so that the exit handler can still use it.
const std::string& table_dir() {
  static const std::string* const dir = [] {
    const fs::path base =
        fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    std::string pattern = (base / "lakeflow-fuzz-delta-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) fail("cannot make a temporary directory", pattern);
    fs::create_directory(fs::path(pattern) / "_delta_log");
    std::atexit([] {
      std::error_code ignored;
      fs::remove_all(table_dir(), ignored);
    });
    return new std::string(pattern);
  }();
  return *dir;
}

// The file name `#NAME` stands for, or "" when it is not a usable name.
std::string file_name(std::string_view name) {
  if (name.empty() || name.size() > 64 || name == "." || name == ".." ||
      name.find('/') != std::string_view::npos || name.find('\0') != std::string_view::npos) {
    return "";
  }
  const std::size_t digits = std::min(name.find_first_not_of("0123456789"), name.size());
  if (digits == 0 || digits > 20) return std::string(name);
  std::string padded(20 - digits, '0');
  padded += name.substr(0, digits);
  padded += digits == name.size() ? std::string_view(".json") : name.substr(digits);
  return padded;
}

void write_file(const std::string& path, std::string_view content) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;  // e.g. a name the file system refuses
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
}

// Empties `dir` and writes the files of `input` into it.
void lay_out(const std::string& dir, std::string_view input) {
  for (const auto& entry : fs::directory_iterator(dir)) fs::remove_all(entry.path());
  std::size_t files = 0;
  std::size_t at = input.starts_with('#') ? 0 : input.find("\n#");
  while (at != std::string_view::npos && files < kMaxFiles) {
    if (input[at] == '\n') ++at;
    const std::size_t name_end = std::min(input.find('\n', at), input.size());
    const std::string name = file_name(input.substr(at + 1, name_end - at - 1));
    const std::size_t next = name_end < input.size() ? input.find("\n#", name_end) : name_end;
    const std::size_t content_begin = std::min(name_end + 1, input.size());
    const std::size_t content_end = std::max(content_begin, std::min(next, input.size()));
    if (!name.empty()) {
      write_file(dir + "/" + name, input.substr(content_begin, content_end - content_begin));
      ++files;
    }
    at = next == std::string_view::npos || next >= input.size() ? std::string_view::npos : next;
  }
}

void check_snapshot(const Snapshot& snapshot, std::int64_t version) {
  if (snapshot.version != version) {
    fail("a snapshot at another version than asked for", std::to_string(snapshot.version));
  }
  for (const auto& [path, add] : snapshot.files) {
    if (path.empty() || add.path != path) fail("an active file without its path", path);
    if (snapshot.tombstones.contains(path)) fail("a file both active and removed", path);
  }
  for (const auto& [path, remove] : snapshot.tombstones) {
    if (path.empty() || remove.path != path) fail("a tombstone without its path", path);
  }
  // What the pipeline asks of a snapshot before it writes: each may refuse with a typed error.
  typed_errors_only([&] { (void)snapshot.metadata.schema(); });
  typed_errors_only([&] { (void)snapshot.offset(); });
  typed_errors_only([&] { (void)snapshot.deletes_offset(); });
  typed_errors_only([&] { snapshot.require_writable(); });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::string& table = table_dir();
  lay_out(table + "/_delta_log", input);

  const DeltaLog log(table);
  std::optional<std::int64_t> latest;
  if (!typed_errors_only([&] { latest = log.latest_version(); }) || !latest) return 0;
  typed_errors_only([&] { check_snapshot(log.snapshot(), *latest); });
  // Time travel to the version before (a replay that ends before the damage, or before the
  // checkpoint it starts from).
  if (*latest > 0)
    typed_errors_only([&] { check_snapshot(log.snapshot_at(*latest - 1), *latest - 1); });
  return 0;
}
