#include "hl7v2_connector.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <fnmatch.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "er7.h"
#include "hl7v2_model.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"

namespace lakeflow::hl7v2 {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMessagesTable = "messages";
constexpr std::string_view kMalformedTable = "malformed_messages";
// Bytes read at a time (table option read_buffer_bytes); a message longer than this grows the
// buffer.
constexpr std::int64_t kDefaultReadBufferBytes = std::int64_t{4} << 20;
constexpr std::int64_t kReadBufferBytesLimit = std::int64_t{1} << 30;

bool has_glob_chars(std::string_view path) {
  return path.find_first_of("*?[") != std::string_view::npos;
}

bool is_segment_id(std::string_view id) {
  return id.size() == 3 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// An open file, read with pread.
class InputFile {
 public:
  explicit InputFile(const fs::path& path) : path_(path.string()) {
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0 && errno == ENOENT) return;  // moved away since it was listed: empty
    if (fd_ < 0) fail("cannot open");
    struct stat st {};
    if (::fstat(fd_, &st) != 0) fail("cannot stat");
    size_ = static_cast<std::uint64_t>(st.st_size);
  }
  ~InputFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  InputFile(const InputFile&) = delete;
  InputFile& operator=(const InputFile&) = delete;

  std::uint64_t size() const { return size_; }

  // Reads [at, at + n) into `out` (resized to n).
  void read(std::uint64_t at, std::size_t n, std::string& out) const {
    out.resize(n);
    std::size_t done = 0;
    while (done < n) {
      const ssize_t got = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(at + done));
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) fail("cannot read");
      if (got == 0) {
        throw SourceError(fmt::format(
            "hl7v2: {} ended at byte {} while being read (was it truncated or rewritten?); files "
            "are read as they grow by whole messages; rerun with --full-refresh after a rewrite",
            path_, at + done));
      }
      done += static_cast<std::size_t>(got);
    }
  }

 private:
  [[noreturn]] void fail(std::string_view what) const {
    throw SourceError(fmt::format("hl7v2: {} {}: {}; check that the file exists and is readable",
                                  what, path_, std::strerror(errno)));
  }

  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// Where a read starts or ends: a file (by index into the listing), a byte offset in it, and the
// first segment index of the message there that is still to be read.
struct Position {
  std::size_t file = 0;
  std::uint64_t byte = 0;
  std::size_t segment = 0;
};

// What a table reads from each message.
struct TableKind {
  enum class Kind : std::uint8_t { kMessages, kMalformed, kSegment } kind;
  std::string segment_id;  // for kSegment
};

// One read call of one table: walks the files from a position and collects that table's records.
class TableRead {
 public:
  static constexpr std::size_t kAfterUnit = std::numeric_limits<std::size_t>::max();

  TableRead(const TableKind& table, std::int64_t max_records, std::size_t buffer_bytes,
            RecordBatch& batch)
      : table_(table), max_records_(max_records), buffer_bytes_(buffer_bytes), batch_(batch) {}

  // Reads `name` (the file at `path`) from `at`; returns where the call ends in this file and
  // whether the batch is full there. `last_file`: an unfinished MLLP frame at its end may still
  // be being written, so the read stops before it instead of calling it malformed.
  struct FileEnd {
    std::uint64_t byte = 0;
    std::size_t segment = 0;
    bool full = false;
  };
  FileEnd read_file(std::string_view name, const fs::path& path, std::uint64_t at,
                    std::size_t first_segment, bool last_file) {
    const InputFile file(path);
    // A position past the end (a file rewritten shorter, or gone) reads nothing and stays put.
    if (at > file.size()) return {at, first_segment, false};
    std::string buffer;
    std::size_t chunk = buffer_bytes_;
    while (at < file.size()) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, file.size() - at));
      file.read(at, n, buffer);
      const bool at_eof = at + n == file.size();
      MessageSplitter splitter(buffer, at_eof);
      FileUnit unit;
      bool progressed = false;
      for (;;) {
        const MessageSplitter::Status status = splitter.next(unit);
        if (status == MessageSplitter::Status::kDone) {
          at += splitter.position();
          progressed = true;
          break;
        }
        if (status == MessageSplitter::Status::kNeedMore) {
          at += splitter.position();
          progressed = splitter.position() > 0;
          break;
        }
        const std::uint64_t unit_at = at + unit.begin;
        if (unit.unclosed_frame && last_file) {
          return {unit_at, 0, false};  // may still be being written: wait for its end
        }
        const std::optional<std::size_t> stop = take(name, unit, unit_at, first_segment);
        first_segment = 0;
        if (stop) {
          if (*stop == kAfterUnit) return {at + unit.end, 0, true};
          return {unit_at, *stop, true};
        }
      }
      // A unit longer than the buffer: read more of it at once.
      chunk = progressed ? buffer_bytes_ : chunk * 2;
    }
    return {file.size(), 0, false};
  }

 private:
  bool full() const { return static_cast<std::int64_t>(batch_.size()) >= max_records_; }

  // Adds the table's records of `unit`. Returns nullopt when the batch has room for more, else
  // where the next read resumes in this unit: kAfterUnit for after it, k for its segment k on.
  std::optional<std::size_t> take(std::string_view name, const FileUnit& unit,
                                  std::uint64_t unit_at, std::size_t first_segment) {
    if (unit.kind == FileUnit::Kind::kEnvelope) return std::nullopt;
    std::optional<std::string> problem;
    if (unit.kind == FileUnit::Kind::kStray) {
      problem = unit.problem;
    } else {
      problem = parse_message(unit.text, message_);
    }
    if (problem) {
      if (table_.kind != TableKind::Kind::kMalformed) return std::nullopt;
      record_.clear();
      append_malformed_record(name, unit_at, *problem, unit.text, record_);
      batch_.append(record_);
      return full() ? std::optional<std::size_t>(kAfterUnit) : std::nullopt;
    }
    if (table_.kind == TableKind::Kind::kMalformed) return std::nullopt;
    const MessageInfo info = message_info(message_, name, unit_at);
    if (table_.kind == TableKind::Kind::kMessages) {
      record_.clear();
      append_message_record(message_, info, unit.text, record_);
      batch_.append(record_);
      return full() ? std::optional<std::size_t>(kAfterUnit) : std::nullopt;
    }
    const std::vector<Segment>& segments = message_.segments;
    for (std::size_t i = first_segment; i < segments.size(); ++i) {
      if (segments[i].id != table_.segment_id) continue;
      if (full()) return i;  // a matching segment is left: resume at it
      record_.clear();
      append_segment_record(message_, i, info, record_);
      batch_.append(record_);
    }
    return full() ? std::optional<std::size_t>(kAfterUnit) : std::nullopt;
  }

  const TableKind& table_;
  std::int64_t max_records_;
  std::size_t buffer_bytes_;
  RecordBatch& batch_;
  Message message_;
  std::string record_;
};

bool parse_bool_option(const Options& options, std::string_view key) {
  const std::string value = lower(options.get_string(key, "false"));
  if (value == "true") return true;
  if (value == "false") return false;
  throw ConfigError(fmt::format("hl7v2: option '{}' is '{}'; give true or false", key, value));
}

}  // namespace

Hl7v2Connector::Hl7v2Connector(const Options& options)
    : LakeflowConnect(embedded_connector_spec(), options) {
  const Options& opts = this->options();
  const std::string source_type = lower(opts.get_string("source_type", "volume"));
  if (source_type == "gcp") {
    throw ConfigError(
        "hl7v2: option 'source_type' is 'gcp': reading a Google Cloud Healthcare API HL7v2 store "
        "is not supported yet; land the messages as files and give their directory as 'path'");
  }
  if (source_type != "volume" && source_type != "files") {
    throw ConfigError(fmt::format(
        "hl7v2: option 'source_type' is '{}'; give 'files' (or upstream's 'volume')", source_type));
  }
  const std::optional<std::string_view> path_option = opts.find("path");
  const std::optional<std::string_view> volume_option = opts.find("volume_path");
  if (path_option && volume_option) {
    throw ConfigError(
        "hl7v2: options 'path' and 'volume_path' are both set; give one (volume_path is "
        "upstream's name for a directory)");
  }
  if (!path_option && !volume_option) {
    throw ConfigError(
        "hl7v2: option 'path' is missing; give a file, a directory or a glob pattern of HL7 v2 "
        "message files");
  }
  const std::string path(path_option ? *path_option : *volume_option);
  files_ =
      list_files(path, opts.get_string("file_glob", "*"), parse_bool_option(opts, "recursive"));

  tables_ = {std::string(kMessagesTable), std::string(kMalformedTable)};
  for (const std::string& id : defined_segments()) tables_.push_back(lower(id));
  const std::vector<std::string> segments =
      opts.find("segments") ? opts.get_list("segments") : std::vector<std::string>{};
  for (const std::string& id : segments) {
    const std::string segment = upper(id);
    if (!is_segment_id(segment)) {
      throw ConfigError(fmt::format(
          "hl7v2: option 'segments': '{}' is not a segment ID; give three letters or digits "
          "(ZPD), comma-separated",
          id));
    }
    if (std::find(tables_.begin(), tables_.end(), lower(segment)) == tables_.end()) {
      tables_.push_back(lower(segment));
    }
  }
}

std::vector<Hl7v2Connector::SourceFile> Hl7v2Connector::list_files(const std::string& path,
                                                                   const std::string& file_glob,
                                                                   bool recursive) {
  // Files found, with the directory their names are relative to.
  fs::path base;
  std::vector<fs::path> found;
  const auto keep = [&](const fs::path& file) {
    const std::string name = file.filename().string();
    return !name.starts_with('.') && ::fnmatch(file_glob.c_str(), name.c_str(), 0) == 0;
  };
  std::error_code ec;
  if (has_glob_chars(path)) {
    const std::size_t glob_at = path.find_first_of("*?[");
    const std::size_t slash = path.rfind('/', glob_at);
    base = slash == std::string::npos ? fs::path(".") : fs::path(path.substr(0, slash + 1));
    glob_t matches{};
    if (::glob(path.c_str(), 0, nullptr, &matches) == 0) {
      for (std::size_t i = 0; i < matches.gl_pathc; ++i) {
        const fs::path file(matches.gl_pathv[i]);
        if (fs::is_regular_file(file, ec) && keep(file)) found.push_back(file);
      }
    }
    ::globfree(&matches);
  } else {
    const fs::file_status status = fs::status(path, ec);
    if (fs::is_directory(status)) {
      base = path;
      const auto visit = [&](const fs::directory_entry& entry) {
        if (entry.is_regular_file() && keep(entry.path())) found.push_back(entry.path());
      };
      if (recursive) {
        for (const auto& entry : fs::recursive_directory_iterator(path, ec)) visit(entry);
      } else {
        for (const auto& entry : fs::directory_iterator(path, ec)) visit(entry);
      }
      if (ec) {
        throw ConfigError(
            fmt::format("hl7v2: option 'path': cannot list {}: {}", path, ec.message()));
      }
    } else if (fs::is_regular_file(status)) {
      base = fs::path(path).parent_path();
      found.emplace_back(path);
    } else {
      throw ConfigError(fmt::format(
          "hl7v2: option 'path': {} is not a file or a directory; give a file, a directory or a "
          "glob pattern of HL7 v2 message files",
          path));
    }
  }
  std::vector<SourceFile> files;
  for (const fs::path& file : found) {
    files.push_back({file.lexically_relative(base).generic_string(), file});
  }
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.name < b.name; });
  return files;
}

std::vector<std::string> Hl7v2Connector::do_list_tables() { return tables_; }

namespace {

// The table option read_buffer_bytes, checked; throws ConfigError naming the table.
std::size_t read_buffer_bytes(const TableContext& context) {
  try {
    return static_cast<std::size_t>(context.table_options.get_int(
        "read_buffer_bytes", kDefaultReadBufferBytes, 1, kReadBufferBytesLimit));
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("hl7v2: table '{}': {}", context.table, e.what()));
  }
}

TableKind table_kind(const TableContext& context) {
  read_buffer_bytes(context);  // every hook taking table options checks them
  if (context.table == kMessagesTable) return {TableKind::Kind::kMessages, {}};
  if (context.table == kMalformedTable) return {TableKind::Kind::kMalformed, {}};
  std::string id = upper(context.table);
  if (const std::optional<std::string_view> option = context.table_options.find("segment_type")) {
    id = upper(*option);
    if (!is_segment_id(id)) {
      throw ConfigError(fmt::format(
          "hl7v2: table '{}': option 'segment_type' is '{}'; give a segment ID (three letters or "
          "digits, e.g. ZPD)",
          context.table, *option));
    }
  }
  return {TableKind::Kind::kSegment, std::move(id)};
}

}  // namespace

StructType Hl7v2Connector::do_get_table_schema(const TableContext& context) {
  const TableKind table = table_kind(context);
  switch (table.kind) {
    case TableKind::Kind::kMessages:
      return messages_schema();
    case TableKind::Kind::kMalformed:
      return malformed_schema();
    case TableKind::Kind::kSegment:
      break;
  }
  return segment_schema(table.segment_id);
}

TableMetadata Hl7v2Connector::do_read_table_metadata(const TableContext& context) {
  const TableKind table = table_kind(context);
  switch (table.kind) {
    case TableKind::Kind::kMessages:
      return {{"message_control_id", "source_file", "message_position"},
              std::nullopt,
              IngestionType::kAppend};
    case TableKind::Kind::kMalformed:
      return {{"source_file", "message_position"}, std::nullopt, IngestionType::kAppend};
    case TableKind::Kind::kSegment:
      break;
  }
  return {{"message_control_id", "segment_index"}, std::nullopt, IngestionType::kAppend};
}

ReadResult Hl7v2Connector::do_read_table(const ReadContext& context) {
  const TableKind table = table_kind(context);
  const Offset& start = context.start;

  Position from;
  if (!start.empty()) {
    const JsonValue* file = start.find("file");
    const JsonValue* position = start.find("position");
    const JsonValue* segment = start.find("segment");
    const std::size_t expected = segment == nullptr ? 2 : 3;
    if (file == nullptr || !file->is_string() || position == nullptr || !position->is_int() ||
        position->as_int() < 0 ||
        (segment != nullptr && (!segment->is_int() || segment->as_int() < 1)) ||
        start.value().as_object().size() != expected) {
      throw ConfigError(fmt::format(
          "hl7v2: table '{}': offset {} is not an offset of this connector; expected {{\"file\": "
          "<name>, \"position\": <byte offset>[, \"segment\": <index>]}}, or {{}} to read from "
          "the start",
          context.table, start.to_json()));
    }
    const std::string& name = file->as_string();
    const auto it =
        std::lower_bound(files_.begin(), files_.end(), name,
                         [](const SourceFile& f, const std::string& n) { return f.name < n; });
    from.file = static_cast<std::size_t>(it - files_.begin());
    if (it != files_.end() && it->name == name) {
      from.byte = static_cast<std::uint64_t>(position->as_int());
      from.segment = segment == nullptr ? 0 : static_cast<std::size_t>(segment->as_int());
    } else if (it == files_.end()) {
      return {RecordStream(), start};  // the offset's file and every file before it are gone
    }
    // else: the offset's file is gone (moved away once read); the files after it are new.
  }
  if (files_.empty()) return {RecordStream(), start};

  RecordBatch batch;
  TableRead read(table, context.max_records(), read_buffer_bytes(context), batch);
  Position end = from;
  for (std::size_t f = from.file; f < files_.size(); ++f) {
    const bool first = f == from.file;
    const TableRead::FileEnd file_end =
        read.read_file(files_[f].name, files_[f].path, first ? from.byte : 0,
                       first ? from.segment : 0, f + 1 == files_.size());
    end = {f, file_end.byte, file_end.segment};
    if (file_end.full) break;
  }
  JsonValue::Object fields{{"file", JsonValue(files_[end.file].name)},
                           {"position", JsonValue(static_cast<std::int64_t>(end.byte))}};
  if (end.segment > 0) fields.emplace("segment", JsonValue(static_cast<std::int64_t>(end.segment)));
  Offset end_offset(std::move(fields));
  if (end_offset == start) return {RecordStream(), start};
  return {RecordStream::of(std::move(batch)), std::move(end_offset)};
}

LAKEFLOW_REGISTER_CONNECTOR("hl7v2", Hl7v2Connector,
                            "HL7 v2 message files (ER7, batches, MLLP): a table per segment type");

}  // namespace lakeflow::hl7v2
