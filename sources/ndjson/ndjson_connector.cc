#include "ndjson_connector.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow/text.h"
#include "lakeflow_connector_spec.h"

namespace lakeflow::ndjson {
namespace {

namespace fs = std::filesystem;

constexpr std::int64_t kDefaultMaxBytesPerBatch = std::int64_t{128} << 20;
constexpr std::int64_t kMaxBytesPerBatchLimit = std::int64_t{1} << 40;
// 2 MiB: a buffer stays in cache from the read to its conversion (the pipeline converts about
// 2 MiB of records at a time). Measured on the 210 MB ingest bench: 8 MiB 0.42 s, 2 MiB 0.38 s
// (median of six runs), 6 MB less peak memory.
constexpr std::int64_t kDefaultReadBufferBytes = std::int64_t{2} << 20;
constexpr std::int64_t kReadBufferBytesLimit = std::int64_t{1} << 30;
constexpr std::int64_t kDefaultPartitionBytes = std::int64_t{64} << 20;
// Bytes read at a time while looking for line ends (offsets of a read call).
constexpr std::size_t kScanBytes = std::size_t{1} << 20;

using text::is_space;
using text::trim;

bool has_glob_chars(std::string_view path) {
  return path.find_first_of("*?[") != std::string_view::npos;
}

bool is_data_file(const fs::path& path) {
  const std::string ext = path.extension().string();
  return ext == ".ndjson" || ext == ".jsonl" || ext == ".json";
}

// An open file, read with pread; shared by a read call's stream.
class InputFile {
 public:
  explicit InputFile(const fs::path& path) : path_(path.string()) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) fail("cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat");
    size_ = static_cast<std::uint64_t>(st.st_size);
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
  }
  ~InputFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint64_t size() const { return size_; }

  // Reads exactly [at, at + n) into `out`.
  void read(std::uint64_t at, char* out, std::size_t n) const {
    while (n > 0) {
      const ssize_t got = ::pread(fd_, out, n, static_cast<off_t>(at));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail("cannot read");
      if (got == 0) {
        throw SourceError(fmt::format(
            "ndjson: {} ended at byte {} while being read (was it truncated or rewritten?); "
            "files are read as they grow by whole lines; rerun with --full-refresh after a "
            "rewrite",
            path_, at));
      }
      out += got;
      n -= static_cast<std::size_t>(got);
      at += static_cast<std::uint64_t>(got);
    }
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw SourceError(fmt::format("ndjson: {} {}: {}; check that the file exists and is readable",
                                  what, path_, std::strerror(errno)));
  }

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// The end of the first line at or after `from` (one past its '\n', or the file's size).
std::uint64_t next_line_end(const InputFile& file, std::uint64_t from) {
  std::string block(kScanBytes, '\0');
  while (from < file.size()) {
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(kScanBytes, file.size() - from));
    file.read(from, block.data(), n);
    if (const void* nl = std::memchr(block.data(), '\n', n)) {
      return from + static_cast<std::uint64_t>(static_cast<const char*>(nl) - block.data()) + 1;
    }
    from += n;
  }
  return file.size();
}

// Where a read call from `pos` ends when only its bytes are limited: after the last line that
// ends within `max_bytes`, or after the first line when that one is longer.
std::uint64_t end_by_bytes(const InputFile& file, std::uint64_t pos, std::uint64_t max_bytes) {
  if (max_bytes >= file.size() - pos) return file.size();
  const std::uint64_t limit = pos + max_bytes;
  std::string block(std::min<std::uint64_t>(kScanBytes, max_bytes), '\0');
  for (std::uint64_t hi = limit; hi > pos;) {
    const std::uint64_t lo = hi - std::min<std::uint64_t>(block.size(), hi - pos);
    const auto n = static_cast<std::size_t>(hi - lo);
    file.read(lo, block.data(), n);
    if (const void* nl = ::memrchr(block.data(), '\n', n)) {
      return lo + static_cast<std::uint64_t>(static_cast<const char*>(nl) - block.data()) + 1;
    }
    hi = lo;
  }
  return next_line_end(file, limit);
}

// Where a read call from `pos` ends with both limits: lines are taken while they end within
// `max_bytes` and fewer than `max_records` records (non-blank lines) were taken; the first record
// is always taken.
std::uint64_t end_by_records(const InputFile& file, std::uint64_t pos, std::uint64_t max_bytes,
                             std::uint64_t max_records) {
  const std::uint64_t limit = max_bytes >= file.size() - pos ? file.size() : pos + max_bytes;
  std::string block(kScanBytes, '\0');
  std::uint64_t records = 0;
  std::uint64_t taken = pos;  // end of the lines taken so far
  bool content = false;       // the current line has a non-blank character
  // Takes the line ending at `end` (exclusive); false when it does not fit.
  auto take = [&](std::uint64_t end) {
    if (records > 0 && end > limit) return false;
    if (content) ++records;
    taken = end;
    content = false;
    return true;
  };
  for (std::uint64_t at = pos; at < file.size();) {
    const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(kScanBytes, file.size() - at));
    file.read(at, block.data(), n);
    for (std::size_t i = 0; i < n; ++i) {
      const char c = block[i];
      if (c == '\n') {
        if (!take(at + i + 1)) return taken;
        if (records == max_records) return taken;
      } else if (!content && !is_space(c)) {
        content = true;
      }
    }
    at += n;
  }
  if (taken < file.size()) take(file.size());  // a last line without '\n'
  return taken;
}

// Adds every non-blank line of `text` (whole lines) to `batch` as a view.
void add_lines(std::string_view text, RecordBatch& batch) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    const std::string_view line = trim(text.substr(0, nl));
    if (!line.empty()) batch.append_view(line);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

// The records of [pos, end) of `file`, one batch per buffer of about `buffer_bytes`, cut at line
// ends.
RecordStream stream_lines(std::shared_ptr<const InputFile> file, std::uint64_t pos,
                          std::uint64_t end, std::size_t buffer_bytes) {
  return RecordStream([file = std::move(file), pos, end, buffer_bytes](RecordBatch& batch) mutable {
    while (pos < end) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_bytes, end - pos));
      // The previous chunk's memory (the batch dropped it before this pull): no allocation and
      // no zero-filling per chunk. It may be longer than `n`; the bytes past the cut below are
      // adopted with it but hold no record.
      std::string buffer = RecordBatch::reusable_buffer(n);
      file->read(pos, buffer.data(), n);
      std::size_t cut = n;
      if (pos + n < end) {
        // Cut after the chunk's last line end; a line longer than the chunk grows it.
        std::size_t searched = 0;
        for (;;) {
          const void* nl = ::memrchr(buffer.data() + searched, '\n', n - searched);
          if (nl != nullptr) {
            cut = static_cast<std::size_t>(static_cast<const char*>(nl) - buffer.data()) + 1;
            break;
          }
          if (pos + n == end) {
            cut = n;
            break;
          }
          searched = n;
          const std::size_t grown =
              static_cast<std::size_t>(std::min<std::uint64_t>(2 * n, end - pos));
          if (buffer.size() < grown) {
            buffer.reserve(grown + RecordBatch::kPadding);
            buffer.resize(grown);
          }
          file->read(pos + n, buffer.data() + n, grown - n);
          n = grown;
        }
      }
      pos += cut;
      add_lines(batch.adopt(std::move(buffer)).substr(0, cut), batch);
      if (!batch.empty()) return true;
      batch.clear();
    }
    return false;
  });
}

std::string read_schema_file(const fs::path& path) {
  std::string reason;
  std::optional<std::string> text = files::try_read_file(path, reason);
  if (!text) {
    throw ConfigError(fmt::format(
        "ndjson: option 'schema': cannot read schema file {} ({}); give PySpark's StructType "
        "JSON inline or the path of a file holding it",
        path.string(), reason));
  }
  return std::move(*text);
}

// The table options of one table, checked.
struct TableSettings {
  std::int64_t max_bytes = kDefaultMaxBytesPerBatch;
  std::size_t buffer_bytes = kDefaultReadBufferBytes;
  std::int64_t partition_bytes = kDefaultPartitionBytes;
};

// Reads the table options (their names are checked by the framework); throws ConfigError naming
// the table for a bad value. Every hook that takes table options calls it, so a pipeline finds a
// bad one before it reads.
TableSettings table_settings(const TableContext& context) {
  const std::string_view table = context.table;
  const Options& table_options = context.table_options;
  try {
    TableSettings settings;
    settings.max_bytes = table_options.get_int("max_bytes_per_batch", kDefaultMaxBytesPerBatch, 1,
                                               kMaxBytesPerBatchLimit);
    settings.buffer_bytes = static_cast<std::size_t>(table_options.get_int(
        "read_buffer_bytes", kDefaultReadBufferBytes, 1, kReadBufferBytesLimit));
    settings.partition_bytes =
        table_options.get_int("partition_bytes", kDefaultPartitionBytes, 1, kMaxBytesPerBatchLimit);
    return settings;
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("ndjson: table '{}': {}", table, e.what()));
  }
}

}  // namespace

NdjsonConnector::NdjsonConnector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options) {
  const std::string path = options.get_string("path");
  std::vector<fs::path> found;
  if (has_glob_chars(path)) {
    glob_t matches{};
    const int status = ::glob(path.c_str(), 0, nullptr, &matches);
    if (status == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
        std::error_code ec;
        if (fs::is_regular_file(matches.gl_pathv[i], ec)) found.emplace_back(matches.gl_pathv[i]);
      }
    }
    ::globfree(&matches);
  } else {
    std::error_code ec;
    const fs::file_status status = fs::status(path, ec);
    if (fs::is_directory(status)) {
      for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
        if (entry.is_regular_file() && is_data_file(entry.path())) found.push_back(entry.path());
      }
    } else if (fs::is_regular_file(status)) {
      found.emplace_back(path);
    } else {
      throw ConfigError(fmt::format(
          "ndjson: option 'path': {} is not a file or a directory; give an NDJSON file, a "
          "directory of *.ndjson/*.jsonl/*.json files or a glob pattern",
          path));
    }
  }
  if (found.empty()) {
    throw ConfigError(fmt::format(
        "ndjson: option 'path': {} matches no file; give an NDJSON file, a directory of "
        "*.ndjson/*.jsonl/*.json files or a glob pattern",
        path));
  }
  std::sort(found.begin(), found.end());
  std::map<std::string, fs::path> by_table;
  for (const fs::path& file : found) {
    const std::string table = file.stem().string();
    const auto [it, inserted] = by_table.emplace(table, file);
    if (!inserted) {
      throw ConfigError(fmt::format(
          "ndjson: option 'path': {} and {} would both be table '{}' (a table is named after "
          "its file without the extension); narrow the pattern or rename one",
          it->second.string(), file.string(), table));
    }
    files_.push_back({table, file});
  }
}

std::vector<std::string> NdjsonConnector::do_list_tables() {
  std::vector<std::string> tables;
  for (const TableFile& file : files_) tables.push_back(file.table);
  return tables;
}

const NdjsonConnector::TableFile& NdjsonConnector::file_of(std::string_view table) const {
  return *std::find_if(files_.begin(), files_.end(),
                       [&](const TableFile& file) { return file.table == table; });
}

StructType NdjsonConnector::do_get_table_schema(const TableContext& context) {
  const std::string_view table = context.table;
  const Options& table_options = context.table_options;
  table_settings(context);
  std::optional<std::string_view> value = table_options.find("schema");
  if (!value) value = options().find("schema");
  if (!value || trim(*value).empty()) {
    throw ConfigError(fmt::format(
        "ndjson: table '{}' has no schema; set the connection option or table option 'schema' "
        "to PySpark's StructType JSON, inline or as the path of a file holding it",
        table));
  }
  const std::string_view text = trim(*value);
  if (text.front() == '{') return parse_struct_type(text);
  return parse_struct_type(read_schema_file(fs::path(text)));
}

TableMetadata NdjsonConnector::do_read_table_metadata(const TableContext& context) {
  table_settings(context);
  return {{}, std::nullopt, IngestionType::kAppend};
}

ReadResult NdjsonConnector::do_read_table(const ReadContext& context) {
  const std::string_view table = context.table;
  const Offset& start = context.start;
  const TableFile& table_file = file_of(table);
  const std::string file_name = table_file.path.filename().string();
  const TableSettings settings = table_settings(context);
  const std::int64_t max_bytes = settings.max_bytes;
  // No default record limit: max_bytes_per_batch bounds a read call.
  const std::optional<std::int64_t> max_records = context.max_records_per_batch;
  const std::size_t buffer_bytes = settings.buffer_bytes;

  const std::uint64_t pos = start_position(table, start);
  auto file = std::make_shared<const InputFile>(table_file.path);
  if (pos >= file->size()) return {RecordStream(), start};
  const std::uint64_t end = max_records
                                ? end_by_records(*file, pos, static_cast<std::uint64_t>(max_bytes),
                                                 static_cast<std::uint64_t>(*max_records))
                                : end_by_bytes(*file, pos, static_cast<std::uint64_t>(max_bytes));
  Offset end_offset(JsonValue::Object{{"file", JsonValue(file_name)},
                                      {"position", JsonValue(static_cast<std::int64_t>(end))}});
  return {stream_lines(std::move(file), pos, end, buffer_bytes), std::move(end_offset)};
}

std::optional<PartitionPlan> NdjsonConnector::do_plan_partitions(const ReadContext& context) {
  const TableFile& table_file = file_of(context.table);
  const std::string file_name = table_file.path.filename().string();
  const TableSettings settings = table_settings(context);
  const std::uint64_t pos = start_position(context.table, context.start);
  const InputFile file(table_file.path);
  const auto size = static_cast<std::uint64_t>(file.size());
  const auto step = static_cast<std::uint64_t>(settings.partition_bytes);
  if (pos >= size) return PartitionPlan{{}, context.start};
  if (size - pos <= step) return std::nullopt;
  PartitionPlan plan;
  const auto range = [&](std::uint64_t from, std::uint64_t to) {
    plan.partitions.emplace_back(
        JsonValue::Object{{"file", JsonValue(file_name)},
                          {"from", JsonValue(static_cast<std::int64_t>(from))},
                          {"to", JsonValue(static_cast<std::int64_t>(to))}});
  };
  // Each range ends at the first line start at or after its nominal end (a line longer than a
  // range makes it longer, and the next range starts after that line).
  std::uint64_t from = pos;
  while (size - from > step) {
    const std::uint64_t to = next_line_end(file, from + step - 1);
    if (to >= size) break;
    range(from, to);
    from = to;
  }
  range(from, size);
  plan.end = Offset(JsonValue::Object{{"file", JsonValue(file_name)},
                                      {"position", JsonValue(static_cast<std::int64_t>(size))}});
  return plan;
}

RecordStream NdjsonConnector::do_read_partition(const PartitionContext& context) {
  const TableFile& table_file = file_of(context.table);
  const std::string file_name = table_file.path.filename().string();
  const TableSettings settings = table_settings(context);
  const Offset& partition = context.partition;
  const JsonValue* file_field = partition.find("file");
  const JsonValue* from = partition.find("from");
  const JsonValue* to = partition.find("to");
  auto file = std::make_shared<const InputFile>(table_file.path);
  if (file_field == nullptr || !file_field->is_string() || file_field->as_string() != file_name ||
      from == nullptr || !from->is_int() || to == nullptr || !to->is_int() || from->as_int() < 0 ||
      to->as_int() < from->as_int() || static_cast<std::uint64_t>(to->as_int()) > file->size()) {
    throw ConfigError(fmt::format(
        "ndjson: table '{}': {} is not a partition of the file '{}' as it is now; plan the read "
        "again",
        context.table, partition.to_json(), file_name));
  }
  return stream_lines(std::move(file), static_cast<std::uint64_t>(from->as_int()),
                      static_cast<std::uint64_t>(to->as_int()), settings.buffer_bytes);
}

std::uint64_t NdjsonConnector::start_position(std::string_view table, const Offset& start) const {
  const std::string file_name = file_of(table).path.filename().string();
  std::uint64_t pos = 0;
  if (!start.empty()) {
    const JsonValue* file = start.find("file");
    const JsonValue* position = start.find("position");
    if (file == nullptr || !file->is_string() || position == nullptr || !position->is_int() ||
        position->as_int() < 0 || start.value().as_object().size() != 2) {
      throw ConfigError(fmt::format(
          "ndjson: table '{}': offset {} is not an offset of this connector; expected "
          "{{\"file\": \"{}\", \"position\": <byte offset>}}, or {{}} to read from the start",
          table, start.to_json(), file_name));
    }
    if (file->as_string() != file_name) {
      throw ConfigError(fmt::format(
          "ndjson: table '{}': the offset {} belongs to file '{}', but the table now reads '{}'; "
          "rerun with --full-refresh to read the new file from its start",
          table, start.to_json(), file->as_string(), file_name));
    }
    pos = static_cast<std::uint64_t>(position->as_int());
  }
  return pos;
}

LAKEFLOW_REGISTER_CONNECTOR("ndjson", NdjsonConnector,
                            "Local newline-delimited JSON files, one append table per file");

}  // namespace lakeflow::ndjson
