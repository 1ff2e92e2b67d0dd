#include "delta/data_file.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <numeric>
#include <set>
#include <span>
#include <string>
#include <system_error>

namespace lakeflow::delta {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kPrefix = "part-";
constexpr std::string_view kSuffix = "-c000.zstd.parquet";
// ParquetWriter's temporary of `<name>`: `.<name>.tmp-<pid>-<counter>`.
constexpr std::string_view kTempMarker = ".tmp-";
// A temporary this old has no writer left (no batch takes an hour to write one file).
constexpr auto kStaleTemporary = std::chrono::hours(1);

bool all_digits(std::string_view text) {
  return !text.empty() && text.find_first_not_of("0123456789") == std::string_view::npos;
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    if (dash ? c != '-' : !hex) return false;
  }
  return true;
}

// The version of `part-<digits>-<uuid>-v<digits>-c000.zstd.parquet`, or nullopt.
std::optional<std::int64_t> final_name_version(std::string_view name) {
  if (!name.starts_with(kPrefix) || !name.ends_with(kSuffix)) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  name.remove_suffix(kSuffix.size());
  const std::size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash < 5 || !all_digits(name.substr(0, dash))) {
    return std::nullopt;
  }
  name.remove_prefix(dash + 1);
  if (name.size() < 36 + 3 || !is_uuid(name.substr(0, 36)) || name.substr(36, 2) != "-v") {
    return std::nullopt;
  }
  const std::string_view version = name.substr(38);
  if (!all_digits(version) || version.size() > 18) return std::nullopt;
  return std::stoll(std::string(version));
}

// The paths commit `version` of `log` adds; nullopt when that cannot be known (the commit is
// missing or unreadable), in which case nothing may be removed.
std::optional<std::set<std::string>> added_by(const DeltaLog& log, std::int64_t version) {
  std::error_code ec;
  if (!fs::exists(log.commit_path(version), ec)) return std::nullopt;
  try {
    std::set<std::string> paths;
    for (const Action& action : log.read_commit(version)) {
      if (const auto* add = std::get_if<AddFile>(&action)) paths.insert(add->path);
    }
    return paths;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

DataFileWriter::DataFileWriter(const std::filesystem::path& table_dir,
                               std::shared_ptr<const parquet::ParquetWriterPlan> plan,
                               std::size_t sequence, std::int64_t version)
    : name_(fmt::format("{}{:05}-{}-v{}{}", kPrefix, sequence, random_uuid(), version, kSuffix)) {
  std::filesystem::create_directories(table_dir);
  writer_ = std::make_unique<parquet::ParquetWriter>((table_dir / name_).string(), std::move(plan));
}

void DataFileWriter::write(const ColumnBatch& batch) { writer_->write(batch); }

AddFile DataFileWriter::close() {
  const parquet::ParquetFileStats stats = writer_->close();
  AddFile add;
  add.path = encode_path(name_);
  add.size = static_cast<std::int64_t>(stats.size_bytes);
  add.modification_time = now_millis();
  add.data_change = true;
  add.stats = file_stats_json(stats);
  return add;
}

std::optional<DataFileName> parse_data_file_name(std::string_view name) {
  if (name.starts_with('.')) {
    const std::size_t marker = name.rfind(kTempMarker);
    if (marker == std::string_view::npos) return std::nullopt;
    const std::string_view tail = name.substr(marker + kTempMarker.size());
    const std::size_t dash = tail.find('-');
    if (dash == std::string_view::npos || !all_digits(tail.substr(0, dash)) ||
        !all_digits(tail.substr(dash + 1))) {
      return std::nullopt;
    }
    const std::optional<std::int64_t> version = final_name_version(name.substr(1, marker - 1));
    if (!version) return std::nullopt;
    return DataFileName{*version, true};
  }
  const std::optional<std::int64_t> version = final_name_version(name);
  if (!version) return std::nullopt;
  return DataFileName{*version, false};
}

std::size_t discard_uncommitted(const DeltaLog& log, std::int64_t version,
                                const std::vector<AddFile>& adds) {
  std::set<std::string> committed;
  std::error_code ec;
  if (fs::exists(log.commit_path(version), ec)) {
    std::optional<std::set<std::string>> paths = added_by(log, version);
    if (!paths) return 0;  // a commit that cannot be read may name them: keep them
    committed = std::move(*paths);
  }
  std::size_t removed = 0;
  for (const AddFile& add : adds) {
    if (committed.count(add.path) > 0) continue;
    try {
      const std::string name = decode_path(add.path);
      const std::optional<DataFileName> parsed = parse_data_file_name(name);
      if (!parsed || parsed->temporary || parsed->version != version) continue;  // not for it
      removed += fs::remove(fs::path(log.table_path()) / name, ec) ? 1 : 0;
    } catch (const std::exception&) {
      // A path that does not decode is not one of ours.
    }
  }
  return removed;
}

std::vector<std::string> remove_orphan_files(const DeltaLog& log, std::int64_t latest_version) {
  std::vector<std::string> removed;
  std::map<std::int64_t, std::optional<std::set<std::string>>> commits;
  std::error_code ec;
  const auto stale_before = fs::file_time_type::clock::now() - kStaleTemporary;
  for (fs::directory_iterator it(log.table_path(), ec), end; !ec && it != end; it.increment(ec)) {
    const fs::directory_entry& entry = *it;
    std::error_code ignored;
    if (!entry.is_regular_file(ignored)) continue;
    const std::string name = entry.path().filename().string();
    const std::optional<DataFileName> parsed = parse_data_file_name(name);
    if (!parsed || parsed->version > latest_version) continue;
    if (parsed->temporary) {
      const auto modified = entry.last_write_time(ignored);
      if (ignored || modified > stale_before) continue;
    }
    auto found = commits.find(parsed->version);
    if (found == commits.end()) {
      found = commits.emplace(parsed->version, added_by(log, parsed->version)).first;
    }
    if (!found->second) continue;
    if (!parsed->temporary && found->second->count(encode_path(name)) > 0) continue;
    if (fs::remove(entry.path(), ignored)) removed.push_back(name);
  }
  return removed;
}

FileSetWriter::FileSetWriter(std::filesystem::path table_dir,
                             std::shared_ptr<const parquet::ParquetWriterPlan> plan,
                             FileLayout layout, std::size_t first_sequence, std::int64_t version)
    : table_dir_(std::move(table_dir)),
      plan_(std::move(plan)),
      layout_(std::move(layout)),
      next_sequence_(first_sequence),
      version_(version) {}

FileSetWriter::FileSetWriter(std::filesystem::path table_dir, StructType schema, FileLayout layout,
                             std::size_t first_sequence, std::int64_t version)
    : FileSetWriter(std::move(table_dir),
                    std::make_shared<const parquet::ParquetWriterPlan>(std::move(schema)),
                    std::move(layout), first_sequence, version) {}

void FileSetWriter::write(const ColumnBatch& batch) {
  if (batch.num_rows() == 0) return;
  if (layout_.clustering.empty()) {
    if (!streaming_) streaming_.emplace(table_dir_, plan_, next_sequence_++, version_);
    streaming_->write(batch);
    return;
  }
  std::vector<std::uint32_t> all(batch.num_rows());
  std::iota(all.begin(), all.end(), std::uint32_t{0});
  if (!held_) held_.emplace(plan_->schema());
  append_rows(batch, all, *held_);
  if (held_->byte_size() >= layout_.sort_buffer_bytes) write_held();
}

void FileSetWriter::write_held() {
  if (!held_) return;
  ColumnBatch& held = *held_;
  const std::size_t rows = held.num_rows();
  if (rows == 0) return;
  const RowOrder order(held, layout_.clustering);
  const std::vector<std::uint32_t> sorted = order.sorted();
  const std::size_t target = std::max<std::size_t>(layout_.target_file_bytes, 1);
  const std::size_t files = std::max<std::size_t>((held.byte_size() + target - 1) / target, 1);
  const std::size_t rows_per_file = (rows + files - 1) / files;
  ColumnBatch part(plan_->schema());
  for (std::size_t begin = 0; begin < rows;) {
    std::size_t end = std::min(rows, begin + rows_per_file);
    while (end < rows && order.compare(sorted[end - 1], sorted[end]) == 0) ++end;
    part.clear();
    append_rows(held, std::span(sorted).subspan(begin, end - begin), part);
    DataFileWriter file(table_dir_, plan_, next_sequence_++, version_);
    file.write(part);
    adds_.push_back(file.close());
    begin = end;
  }
  held.clear();
}

std::vector<AddFile> FileSetWriter::close() {
  if (streaming_) {
    adds_.push_back(streaming_->close());
    streaming_.reset();
  }
  write_held();
  return std::move(adds_);
}

}  // namespace lakeflow::delta
