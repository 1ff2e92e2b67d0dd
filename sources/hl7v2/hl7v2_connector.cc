#include "hl7v2_connector.h"

#include <fmt/format.h>
#include <fnmatch.h>
#include <glob.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "er7.h"
#include "hl7v2_gcp_store.h"
#include "hl7v2_model.h"
#include "hl7v2_table_read.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/registry.h"
#include "lakeflow_connector_spec.h"

namespace lakeflow::hl7v2 {
namespace {

namespace fs = std::filesystem;

// The options of each source type (connector_spec.yaml); `segments` and `source_type` serve both.
constexpr std::string_view kFileOptions[] = {"path", "volume_path", "file_glob", "recursive"};
constexpr std::string_view kGcpOptions[] = {
    "project_id", "location", "dataset_id",        "hl7v2_store_id",      "access_token",
    "base_url",   "filter",   "max_arrival_delay", "service_account_json"};

bool has_glob_chars(std::string_view path) {
  return path.find_first_of("*?[") != std::string_view::npos;
}

// Where a read starts or ends: a file (by index into the listing), a byte offset in it, and the
// first segment index of the message there that is still to be read.
struct Position {
  std::size_t file = 0;
  std::uint64_t byte = 0;
  std::size_t segment = 0;
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
  if (source_type != "volume" && source_type != "files" && source_type != "gcp") {
    throw ConfigError(fmt::format(
        "hl7v2: option 'source_type' is '{}'; give 'files' (or upstream's 'volume') for message "
        "files, or 'gcp' for a Google Cloud Healthcare API HL7v2 store",
        source_type));
  }
  const bool gcp = source_type == "gcp";
  // An option of the other source type is a mistake worth naming (a path given to a store).
  const std::span<const std::string_view> other_options =
      gcp ? std::span<const std::string_view>(kFileOptions)
          : std::span<const std::string_view>(kGcpOptions);
  for (const std::string_view key : other_options) {
    if (opts.contains(key)) {
      throw ConfigError(fmt::format(
          "hl7v2: option '{}' does not apply to source_type '{}'; it belongs to source_type {}",
          key, source_type, gcp ? "files" : "gcp"));
    }
  }
  if (gcp) {
    gcp_ = std::make_unique<GcpStore>(opts);
  } else {
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
          "message files (or source_type gcp and a Cloud Healthcare API store)");
    }
    const std::string path(path_option ? *path_option : *volume_option);
    files_ =
        list_files(path, opts.get_string("file_glob", "*"), parse_bool_option(opts, "recursive"));
  }

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
  if (gcp_) return gcp_->read(table, context);
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
  TableRead read(table, context.max_records(), buffer_bytes_option(context), batch);
  Position end = from;
  for (std::size_t f = from.file; f < files_.size(); ++f) {
    const bool first = f == from.file;
    const UnitsEnd file_end = read.read_file(files_[f].name, files_[f].path, first ? from.byte : 0,
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
