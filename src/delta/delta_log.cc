// The Delta log of a local table: put-if-absent commits, checkpoints and log replay.
#include "delta/delta_log.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <set>

#include "delta/delta_checkpoint.h"
#include "delta/table_features.h"

namespace lakeflow::delta {

namespace {

constexpr std::string_view kLogDir = "_delta_log";
constexpr std::string_view kLastCheckpoint = "_last_checkpoint";
constexpr std::string_view kCommitSuffix = ".json";
constexpr std::string_view kCheckpointSuffix = ".checkpoint.parquet";
constexpr std::size_t kVersionDigits = 20;
// Hidden temporary files of lakeflow's commits: `.<20 digits>.json.<uuid>.tmp`.
constexpr std::string_view kTempSuffix = ".tmp";
// Checkpoint and `_last_checkpoint` temporaries older than this are leftovers of a crash.
constexpr std::int64_t kStaleTempSeconds = 3600;
// The member of lakeflow's commitInfo that holds the number of lines (actions) of its commit. Its
// presence also says that the commitInfo is the commit's last line.
constexpr std::string_view kCommitLinesKey = "lakeflowCommitLines";
constexpr std::string_view kDamagedLogAdvice =
    "the log is damaged, and reading or writing the table now would lose data. Restore the file "
    "from a backup of the table, or move the table directory away and rerun the pipeline to land "
    "the table again from its source";

std::string errno_text(int error) { return std::strerror(error); }

std::string version_name(std::int64_t version) {
  return fmt::format("{:0{}d}", version, kVersionDigits);
}

// The version of a file named `<20 digits><suffix>`, or -1.
std::int64_t parse_version_name(std::string_view name, std::string_view suffix) {
  if (name.size() != kVersionDigits + suffix.size() || !name.ends_with(suffix)) return -1;
  std::int64_t version = 0;
  for (std::size_t i = 0; i < kVersionDigits; ++i) {
    const char c = name[i];
    if (c < '0' || c > '9') return -1;
    if (version > (INT64_MAX - (c - '0')) / 10) return -1;
    version = version * 10 + (c - '0');
  }
  return version;
}

// The version of a commit temporary `.<20 digits>.json.<anything>.tmp`, or -1.
std::int64_t parse_temp_commit_name(std::string_view name) {
  if (!name.starts_with('.') || !name.ends_with(kTempSuffix)) return -1;
  const std::size_t end = 1 + kVersionDigits + kCommitSuffix.size();
  if (name.size() <= end) return -1;
  return parse_version_name(name.substr(1, end - 1), kCommitSuffix);
}

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Closes now and reports the error close(2) returns (which can be a deferred write error).
  int close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// Writes `data` to a new file at `path` (which must not exist) and syncs it. Returns 0 or errno.
int write_new_file(const std::string& path, std::string_view data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (fd.get() < 0) return errno;
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd.get()) != 0) return errno;
  return fd.close();
}

// Syncs a directory, making the names created or removed in it durable. Returns 0 or errno.
int sync_directory(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  if (::fsync(fd.get()) != 0 && errno != EINVAL) return errno;
  return fd.close();
}

// Reads a whole file. Returns 0 or errno.
int read_whole_file(const std::string& path, std::string& out) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return errno;
  out.clear();
  char buffer[65536];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string parent_of(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// mkdir -p that syncs the parent of every directory it creates.
void make_directories(const std::string& path, std::string_view table) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) return;
    throw DeltaLogError(fmt::format(
        "Delta table {}: {} exists and is not a directory; move it away or choose another "
        "destination",
        table, path));
  }
  const std::string parent = parent_of(path);
  if (parent != path) make_directories(parent, table);
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    const int error = errno;
    throw DeltaLogError(fmt::format("Delta table {}: cannot create directory {}: {}; check that "
                                    "the destination is writable",
                                    table, path, errno_text(error)),
                        error);
  }
  sync_directory(parent);
}

std::int64_t read_only_int(const JsonValue& object, std::string_view key) {
  const JsonValue* v = object.find(key);
  return v != nullptr && v->is_int() ? v->as_int() : -1;
}

// Throws DeltaLogError when a commit's actions break a rule of the protocol.
void validate_actions(const std::vector<Action>& actions, std::int64_t version,
                      std::string_view table) {
  auto fail = [&](const std::string& problem) {
    throw DeltaLogError(
        fmt::format("Delta table {}: cannot commit version {}: {} (this is a bug "
                    "in the caller of DeltaLog::commit)",
                    table, version, problem));
  };
  int metadata = 0;
  int protocol = 0;
  int commit_info = 0;
  std::set<std::string_view> txn_ids;
  std::set<std::string_view> domains;
  std::set<std::string_view> added;
  std::set<std::string_view> removed;
  for (const Action& action : actions) {
    if (const auto* m = std::get_if<MetadataAction>(&action)) {
      ++metadata;
      if (m->id.empty()) fail("the metaData action has no id");
      if (m->format_provider != "parquet") fail("the metaData format is not parquet");
      if (!m->partition_columns.empty()) fail("lakeflow does not write partitioned tables");
      (void)m->schema();  // throws SchemaError for a schema that does not parse
    } else if (const auto* p = std::get_if<ProtocolAction>(&action)) {
      ++protocol;
      if (auto problem = unwritable_protocol(*p))
        fail("the protocol action cannot be written: " + *problem);
    } else if (const auto* d = std::get_if<DomainMetadataAction>(&action)) {
      if (d->domain.empty()) fail("a domainMetadata action has an empty domain");
      if (!domains.insert(d->domain).second) fail("two domainMetadata actions of " + d->domain);
    } else if (const auto* t = std::get_if<TxnAction>(&action)) {
      if (t->app_id.empty()) fail("a txn action has an empty appId");
      if (!txn_ids.insert(t->app_id).second) fail("two txn actions of appId " + t->app_id);
    } else if (const auto* a = std::get_if<AddFile>(&action)) {
      if (a->path.empty()) fail("an add action has an empty path");
      if (!added.insert(a->path).second) fail("path " + a->path + " is added twice");
    } else if (const auto* r = std::get_if<RemoveFile>(&action)) {
      if (r->path.empty()) fail("a remove action has an empty path");
      if (!removed.insert(r->path).second) fail("path " + r->path + " is removed twice");
    } else if (std::holds_alternative<CommitInfo>(action)) {
      ++commit_info;
    }
  }
  if (metadata > 1) fail("more than one metaData action");
  if (protocol > 1) fail("more than one protocol action");
  if (commit_info > 1) fail("more than one commitInfo action");
  for (std::string_view path : added) {
    if (removed.contains(path)) fail(fmt::format("path {} is both added and removed", path));
  }
  if (version == 0 && (metadata == 0 || protocol == 0)) {
    fail("version 0 creates the table and must hold a protocol and a metaData action");
  }
}

}  // namespace

// ---- Snapshot -----------------------------------------------------------------------------------

std::optional<std::int64_t> Snapshot::txn_version(std::string_view app_id) const {
  auto it = transactions.find(app_id);
  if (it == transactions.end()) return std::nullopt;
  return it->second.version;
}

std::string offsets_domain_configuration(const CommittedOffsets& offsets) {
  JsonValue config = JsonValue::Object{};
  if (offsets.offset) config["offset"] = offsets.offset->value();
  if (offsets.deletes_offset) config["deletesOffset"] = offsets.deletes_offset->value();
  return config.dump();
}

CommittedOffsets parse_offsets_domain(std::string_view configuration, std::string_view table_path) {
  CommittedOffsets out;
  try {
    const JsonValue config = JsonValue::parse(configuration, kOffsetsDomain);
    if (!config.is_object()) throw ConfigError("not a JSON object");
    if (const JsonValue* offset = config.find("offset")) out.offset = Offset::parse(offset->dump());
    if (const JsonValue* deletes = config.find("deletesOffset")) {
      out.deletes_offset = Offset::parse(deletes->dump());
    }
  } catch (const Error& e) {
    throw DeltaLogError(fmt::format(
        "Delta table {}: the {} domain's configuration is not lakeflow's offsets ({}); rerun "
        "with --full-refresh to rebuild the table",
        table_path, kOffsetsDomain, e.what()));
  }
  return out;
}

namespace {

// The offsets a table not migrated to the offsets domain keeps in its configuration.
std::optional<Offset> configured_offset(const Snapshot& snapshot, std::string_view key) {
  const std::string* text = snapshot.metadata.config(key);
  if (text == nullptr) return std::nullopt;
  try {
    return Offset::parse(*text);
  } catch (const Error& e) {
    throw DeltaLogError(fmt::format(
        "Delta table {}: metaData.configuration[\"{}\"] is not an offset ({}); rerun with "
        "--full-refresh to rebuild the table",
        snapshot.table_path, key, e.what()));
  }
}

CommittedOffsets committed_offsets(const Snapshot& snapshot) {
  if (auto it = snapshot.domains.find(kOffsetsDomain); it != snapshot.domains.end()) {
    return parse_offsets_domain(it->second.configuration, snapshot.table_path);
  }
  return {configured_offset(snapshot, kOffsetKey), configured_offset(snapshot, kDeletesOffsetKey)};
}

// Whether lakeflow records its offsets in this table (so every commit ends with its commitInfo).
bool holds_lakeflow_offsets(const Snapshot& snapshot) {
  return snapshot.domains.contains(kOffsetsDomain) ||
         snapshot.metadata.config(kOffsetKey) != nullptr;
}

}  // namespace

std::optional<Offset> Snapshot::offset() const { return committed_offsets(*this).offset; }

std::optional<Offset> Snapshot::deletes_offset() const {
  return committed_offsets(*this).deletes_offset;
}

namespace {

void apply_action(Snapshot& snapshot, const Action& action) {
  if (const auto* add = std::get_if<AddFile>(&action)) {
    snapshot.tombstones.erase(add->path);
    snapshot.files.insert_or_assign(add->path, *add);
  } else if (const auto* remove = std::get_if<RemoveFile>(&action)) {
    snapshot.files.erase(remove->path);
    snapshot.tombstones.insert_or_assign(remove->path, *remove);
  } else if (const auto* txn = std::get_if<TxnAction>(&action)) {
    snapshot.transactions.insert_or_assign(txn->app_id, *txn);
  } else if (const auto* metadata = std::get_if<MetadataAction>(&action)) {
    snapshot.metadata = *metadata;
  } else if (const auto* protocol = std::get_if<ProtocolAction>(&action)) {
    snapshot.protocol = *protocol;
  } else if (const auto* domain = std::get_if<DomainMetadataAction>(&action)) {
    if (domain->removed) {
      snapshot.domains.erase(domain->domain);
    } else {
      snapshot.domains.insert_or_assign(domain->domain, *domain);
    }
  }
}

}  // namespace

void Snapshot::apply(std::int64_t new_version, const std::vector<Action>& actions) {
  if (new_version != version + 1) {
    throw Error(ErrorCode::kInternal,
                fmt::format("Snapshot::apply: version {} does not follow snapshot version {} "
                            "(this is a bug in lakeflow)",
                            new_version, version));
  }
  for (const Action& action : actions) apply_action(*this, action);
  version = new_version;
}

bool Snapshot::enable_type_widening() {
  const ProtocolAction upgraded = protocol_with_features(protocol, {kTypeWideningFeature});
  const bool changed = !(upgraded == protocol);
  protocol = upgraded;
  metadata.configuration.insert_or_assign("delta.enableTypeWidening", "true");
  return changed;
}

void Snapshot::require_writable() const {
  if (auto problem = unwritable_protocol(protocol)) {
    throw DeltaLogError(fmt::format(
        "Delta table {} cannot be written by lakeflow: {}. Write to a new destination table",
        table_path, *problem));
  }
  if (metadata.format_provider != "parquet") {
    throw DeltaLogError(fmt::format(
        "Delta table {} stores its data as `{}`; lakeflow writes Parquet tables only. Write to a "
        "new destination table",
        table_path, metadata.format_provider));
  }
  if (!metadata.partition_columns.empty()) {
    throw DeltaLogError(fmt::format(
        "Delta table {} is partitioned; lakeflow writes unpartitioned tables only. Write to a new "
        "destination table, or rerun with --full-refresh to recreate this one",
        table_path));
  }
}

std::vector<Action> progress_actions(const Snapshot& base, const BatchProgress& progress,
                                     const MetadataAction* committed) {
  if (progress.app_id.empty()) {
    throw Error(ErrorCode::kInternal, "progress_actions: empty app_id (this is a bug in lakeflow)");
  }
  CommittedOffsets offsets{progress.offset, progress.deletes_offset};
  if (!offsets.deletes_offset && base.version >= 0) {
    offsets.deletes_offset = committed_offsets(base).deletes_offset;
  }
  std::vector<Action> actions;
  const ProtocolAction protocol = protocol_with_features(base.protocol, {kDomainMetadataFeature});
  if (base.version < 0 || !(protocol == base.protocol)) actions.emplace_back(protocol);
  MetadataAction metadata = base.metadata;
  const bool migrated = metadata.configuration.erase(std::string(kOffsetKey)) +
                            metadata.configuration.erase(std::string(kDeletesOffsetKey)) >
                        0;
  if (base.version < 0 || migrated || (committed != nullptr && !(*committed == metadata))) {
    actions.emplace_back(std::move(metadata));
  }
  actions.emplace_back(DomainMetadataAction{std::string(kOffsetsDomain),
                                            offsets_domain_configuration(offsets), false});
  actions.emplace_back(TxnAction{progress.app_id, progress.batch_version, now_millis()});
  return actions;
}

Snapshot new_table_snapshot(const StructType& schema, StringMap configuration) {
  Snapshot snapshot;
  snapshot.metadata.id = random_uuid();
  snapshot.metadata.schema_string = schema.json();
  snapshot.metadata.configuration = std::move(configuration);
  snapshot.metadata.created_time = now_millis();
  return snapshot;
}

std::vector<Action> create_table_actions(const StructType& schema, StringMap configuration) {
  Snapshot snapshot = new_table_snapshot(schema, std::move(configuration));
  return {snapshot.protocol, std::move(snapshot.metadata)};
}

// ---- DeltaLog -----------------------------------------------------------------------------------

struct DeltaLog::Listing {
  std::vector<std::int64_t> commits;      // ascending
  std::vector<std::int64_t> checkpoints;  // ascending
  std::optional<JsonValue> last_checkpoint;
  std::vector<std::string> stale_temps;  // names of temporaries that can never be used
  std::int64_t latest() const {
    std::int64_t latest = commits.empty() ? -1 : commits.back();
    if (!checkpoints.empty()) latest = std::max(latest, checkpoints.back());
    return latest;
  }
};

DeltaLog::DeltaLog(std::string table_path, DeltaLogOptions options)
    : table_path_(std::move(table_path)), options_(options) {
  while (table_path_.size() > 1 && table_path_.back() == '/') table_path_.pop_back();
  if (table_path_.empty()) {
    throw ConfigError("Delta table path is empty; give the table's directory");
  }
}

std::string DeltaLog::log_path() const { return fmt::format("{}/{}", table_path_, kLogDir); }

std::string DeltaLog::commit_path(std::int64_t version) const {
  return fmt::format("{}/{}{}", log_path(), version_name(version), kCommitSuffix);
}

std::string DeltaLog::checkpoint_path(std::int64_t version) const {
  return fmt::format("{}/{}{}", log_path(), version_name(version), kCheckpointSuffix);
}

DeltaLog::Listing DeltaLog::list() const {
  Listing listing;
  const std::string dir_path = log_path();
  DIR* dir = ::opendir(dir_path.c_str());
  if (dir == nullptr) {
    const int error = errno;
    if (error == ENOENT) return listing;
    throw DeltaLogError(fmt::format("Delta table {}: cannot list {}: {}; check its permissions",
                                    table_path_, dir_path, errno_text(error)),
                        error);
  }
  const std::int64_t stale_before = static_cast<std::int64_t>(::time(nullptr)) - kStaleTempSeconds;
  std::vector<std::pair<std::int64_t, std::string>> temps;
  while (const dirent* entry = ::readdir(dir)) {
    const std::string_view name = entry->d_name;
    if (std::int64_t v = parse_version_name(name, kCommitSuffix); v >= 0) {
      listing.commits.push_back(v);
    } else if (v = parse_version_name(name, kCheckpointSuffix); v >= 0) {
      listing.checkpoints.push_back(v);
    } else if (v = parse_temp_commit_name(name); v >= 0) {
      temps.emplace_back(v, std::string(name));
    } else if (name.starts_with("._last_checkpoint.") ||
               (name.starts_with('.') && name.find(".checkpoint.parquet.tmp") != name.npos)) {
      // Temporaries of _last_checkpoint and of checkpoint files (ParquetWriter's): stale once old.
      struct stat st;
      const std::string path = fmt::format("{}/{}", dir_path, name);
      if (::stat(path.c_str(), &st) == 0 && st.st_mtime < stale_before) {
        listing.stale_temps.emplace_back(name);
      }
    }
  }
  ::closedir(dir);
  std::sort(listing.commits.begin(), listing.commits.end());
  std::sort(listing.checkpoints.begin(), listing.checkpoints.end());
  // A temporary for a version that exists can never be linked: its writer lost or crashed.
  for (auto& [version, name] : temps) {
    if (std::binary_search(listing.commits.begin(), listing.commits.end(), version)) {
      listing.stale_temps.push_back(std::move(name));
    }
  }
  std::string text;
  if (read_whole_file(fmt::format("{}/{}", dir_path, kLastCheckpoint), text) == 0) {
    try {
      JsonValue json = JsonValue::parse(text, "_last_checkpoint");
      if (json.is_object()) listing.last_checkpoint = std::move(json);
    } catch (const Error&) {
      // Unreadable: it is only a hint; the listing finds the checkpoints.
    }
  }
  return listing;
}

std::optional<std::int64_t> DeltaLog::latest_version() const {
  const std::int64_t latest = list().latest();
  if (latest < 0) return std::nullopt;
  return latest;
}

std::vector<std::int64_t> DeltaLog::commit_versions() const { return list().commits; }

std::vector<Action> DeltaLog::read_commit(std::int64_t version) const {
  const std::string path = commit_path(version);
  std::string text;
  if (const int error = read_whole_file(path, text); error != 0) {
    throw DeltaLogError(fmt::format(
        "Delta table {}: cannot read commit {}: {}; the log is incomplete (restore the file from "
        "a backup, or recreate the table)",
        table_path_, path, errno_text(error)));
  }
  auto damaged = [&](const std::string& problem) {
    return DeltaLogError(fmt::format("Delta table {}: commit {} {}; {}", table_path_, path, problem,
                                     kDamagedLogAdvice));
  };
  std::vector<Action> actions;
  std::size_t line_number = 0;
  std::size_t lines = 0;  // non-blank
  std::size_t last_line = 0;
  // The line of lakeflow's commitInfo and the line count it records (see commit()).
  std::size_t commit_info_line = 0;
  std::optional<std::int64_t> recorded_lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line = std::string_view(text).substr(start, end - start);
    start = end + 1;
    ++line_number;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    ++lines;
    last_line = line_number;
    const std::string where =
        fmt::format("Delta table {}: {} line {}", table_path_, path, line_number);
    JsonValue json;
    try {
      json = JsonValue::parse(line, "Delta log entry");
    } catch (const Error& e) {
      throw DeltaLogError(fmt::format(
          "{}: not valid JSON ({}); the log is damaged (restore the file from a backup, or "
          "recreate the table)",
          where, e.what()));
    }
    std::optional<Action> action = action_from_json(json, where);
    if (!action) continue;
    if (std::holds_alternative<CommitInfo>(*action)) {
      const JsonValue* body = json.find("commitInfo");
      const JsonValue* count = body != nullptr ? body->find(kCommitLinesKey) : nullptr;
      if (count != nullptr && count->is_int()) {
        commit_info_line = line_number;
        recorded_lines = count->as_int();
      }
    }
    actions.push_back(std::move(*action));
  }
  if (lines == 0) throw damaged("holds no action: it is empty or blank");
  if (recorded_lines && commit_info_line != last_line) {
    throw damaged(fmt::format(
        "has lines after its commitInfo (line {} of {}), which lakeflow writes last: lines were "
        "added to the file",
        commit_info_line, last_line));
  }
  if (recorded_lines && *recorded_lines != static_cast<std::int64_t>(lines)) {
    throw damaged(
        fmt::format("holds {} actions where its commitInfo records {}: lines were lost or added",
                    lines, *recorded_lines));
  }
  return actions;
}

Snapshot DeltaLog::replay(const Listing& listing, std::int64_t version) const {
  auto has_commit = [&](std::int64_t v) {
    return std::binary_search(listing.commits.begin(), listing.commits.end(), v);
  };
  auto commits_present = [&](std::int64_t from, std::int64_t to) {
    for (std::int64_t v = from; v <= to; ++v) {
      if (!has_commit(v)) return v;
    }
    return std::int64_t{-1};
  };

  // The action count _last_checkpoint promises for its checkpoint, to reject a damaged file.
  std::int64_t promised_version = -1;
  std::int64_t promised_size = -1;
  if (listing.last_checkpoint) {
    promised_version = read_only_int(*listing.last_checkpoint, "version");
    promised_size = read_only_int(*listing.last_checkpoint, "size");
  }

  Snapshot snapshot;
  snapshot.table_path = table_path_;
  bool from_checkpoint = false;
  for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
    const std::int64_t c = *it;
    if (c > version || commits_present(c + 1, version) >= 0) continue;
    std::vector<Action> actions;
    try {
      actions = read_checkpoint_file(checkpoint_path(c));
    } catch (const std::exception&) {
      continue;  // unreadable: an older checkpoint or the JSON commits still describe the table
    }
    if (c == promised_version && promised_size >= 0 &&
        static_cast<std::int64_t>(actions.size()) != promised_size) {
      continue;
    }
    for (const Action& action : actions) apply_action(snapshot, action);
    snapshot.version = c;
    snapshot.checkpoint_version = c;
    from_checkpoint = true;
    break;
  }
  if (!from_checkpoint) {
    if (const std::int64_t missing = commits_present(0, version); missing >= 0) {
      throw DeltaLogError(fmt::format(
          "Delta table {}: commit {} is missing and no readable checkpoint covers it; the log is "
          "incomplete (restore {} from a backup, or recreate the table)",
          table_path_, missing, commit_path(missing)));
    }
  }
  for (std::int64_t v = snapshot.version + 1; v <= version; ++v) {
    const std::vector<Action> actions = read_commit(v);
    snapshot.apply(v, actions);
    // lakeflow ends every commit with its commitInfo. In a table lakeflow writes (it holds
    // lakeflow's offsets), a commit without one lost its last lines.
    if (holds_lakeflow_offsets(snapshot) &&
        std::none_of(actions.begin(), actions.end(),
                     [](const Action& a) { return std::holds_alternative<CommitInfo>(a); })) {
      throw DeltaLogError(fmt::format(
          "Delta table {}: commit {} has no commitInfo action, which lakeflow writes as the last "
          "line of each of its commits: the file was cut short and its last actions are lost; {}",
          table_path_, commit_path(v), kDamagedLogAdvice));
    }
  }

  if (snapshot.metadata.id.empty() || snapshot.metadata.schema_string.empty()) {
    throw DeltaLogError(fmt::format(
        "Delta table {}: the log has no metaData action up to version {}; the log is damaged "
        "(recreate the table)",
        table_path_, version));
  }
  if (auto problem = unreadable_protocol(snapshot.protocol)) {
    throw DeltaLogError(fmt::format(
        "Delta table {} cannot be read by lakeflow: {}. Read it with Spark or delta-rs, or "
        "recreate it with lakeflow",
        table_path_, *problem));
  }
  return snapshot;
}

Snapshot DeltaLog::snapshot() const {
  const Listing listing = list();
  if (listing.latest() < 0) {
    throw DeltaLogError(fmt::format(
        "no Delta table at {}: {} holds no commit; run the pipeline to create the table, or "
        "check the path",
        table_path_, log_path()));
  }
  return replay(listing, listing.latest());
}

Snapshot DeltaLog::snapshot_at(std::int64_t version) const {
  const Listing listing = list();
  if (version < 0 || version > listing.latest()) {
    throw DeltaLogError(fmt::format(
        "Delta table {} has no version {} (its latest version is {}); ask for a version in "
        "0..{}",
        table_path_, version, listing.latest(), listing.latest()));
  }
  return replay(listing, version);
}

std::int64_t DeltaLog::commit(std::int64_t read_version, std::vector<Action> actions) {
  if (read_version < -1) {
    throw Error(ErrorCode::kInternal,
                fmt::format("DeltaLog::commit: read version {} is below -1 (this is a bug in "
                            "lakeflow)",
                            read_version));
  }
  const std::int64_t version = read_version + 1;
  validate_actions(actions, version, table_path_);

  struct stat st;
  if (read_version >= 0 && ::stat(commit_path(read_version).c_str(), &st) != 0) {
    throw DeltaLogError(fmt::format(
        "Delta table {}: cannot commit on top of version {}, which does not exist ({}); read "
        "the table again and commit on top of its latest version",
        table_path_, read_version, commit_path(read_version)));
  }

  // commitInfo goes last, with the number of lines of the commit: a commit whose last line is not
  // that commitInfo was cut short, which replay reports (see read_commit). The protocol allows
  // commitInfo anywhere unless the inCommitTimestamp feature is on, which protocol (1, 2) lacks.
  CommitInfo info;
  std::vector<Action> ordered;
  ordered.reserve(actions.size() + 1);
  for (Action& action : actions) {
    if (auto* given = std::get_if<CommitInfo>(&action)) {
      info = std::move(*given);
    } else {
      ordered.push_back(std::move(action));
    }
  }
  if (info.timestamp == 0) info.timestamp = now_millis();
  if (!info.read_version && read_version >= 0) info.read_version = read_version;
  if (info.engine_info.empty()) info.engine_info = engine_info();
  std::string content;
  for (const Action& action : ordered) {
    content += action_to_line(action);
    content += '\n';
  }
  JsonValue info_line = action_to_json(info);
  info_line["commitInfo"][kCommitLinesKey] = static_cast<std::int64_t>(ordered.size() + 1);
  content += info_line.dump();
  content += '\n';

  const std::string dir = log_path();
  make_directories(dir, table_path_);
  // Data files are renamed into the table directory before their commit; make those names durable
  // before a commit refers to them.
  if (const int error = sync_directory(table_path_); error != 0) {
    throw DeltaLogError(fmt::format("Delta table {}: cannot sync the table directory: {}",
                                    table_path_, errno_text(error)));
  }
  for (const std::string& name : list().stale_temps) {
    ::unlink(fmt::format("{}/{}", dir, name).c_str());  // best effort: leftovers of crashes
  }

  const std::string final_path = commit_path(version);
  const std::string temp_path = fmt::format("{}/.{}{}.{}{}", dir, version_name(version),
                                            kCommitSuffix, random_uuid(), kTempSuffix);
  if (const int error = write_new_file(temp_path, content); error != 0) {
    ::unlink(temp_path.c_str());
    throw DeltaLogError(
        fmt::format("Delta table {}: cannot write commit {}: {}; check free space and permissions "
                    "of {}, then rerun",
                    table_path_, version, errno_text(error), dir),
        error);
  }
  // Put-if-absent: link(2) never replaces an existing name.
  int error = ::link(temp_path.c_str(), final_path.c_str()) == 0 ? 0 : errno;
  if (error == EPERM || error == EOPNOTSUPP || error == ENOSYS || error == EMLINK) {
    // No hard links on this file system: rename without replacing does the same.
    error = ::renameat2(AT_FDCWD, temp_path.c_str(), AT_FDCWD, final_path.c_str(),
                        RENAME_NOREPLACE) == 0
                ? 0
                : errno;
  }
  ::unlink(temp_path.c_str());
  if (error == EEXIST || (error == ENOENT && ::stat(final_path.c_str(), &st) == 0)) {
    throw ConcurrentCommitError(table_path_, version);
  }
  if (error != 0) {
    throw DeltaLogError(fmt::format(
        "Delta table {}: cannot create commit {}: {}; the file system must support hard links "
        "or rename without replace (a local disk does)",
        table_path_, final_path, errno_text(error)));
  }
  if (const int sync_error = sync_directory(dir); sync_error != 0) {
    // The commit exists and is visible; only its durability across a power loss is in doubt.
    throw DeltaLogError(fmt::format(
        "Delta table {}: commit {} was written but {} could not be synced: {}; check the disk",
        table_path_, version, dir, errno_text(sync_error)));
  }

  if (options_.checkpoint_interval > 0 && version > 0 &&
      version % options_.checkpoint_interval == 0) {
    try {
      checkpoint(version);
      last_checkpoint_error_.reset();
    } catch (const std::exception& e) {
      last_checkpoint_error_ = e.what();
    }
  }
  return version;
}

void DeltaLog::checkpoint(std::int64_t version) {
  const Snapshot snapshot = snapshot_at(version);
  std::vector<Action> actions;
  actions.reserve(2 + snapshot.transactions.size() + snapshot.domains.size() +
                  snapshot.files.size() + snapshot.tombstones.size());
  actions.emplace_back(snapshot.protocol);
  actions.emplace_back(snapshot.metadata);
  for (const auto& [app_id, txn] : snapshot.transactions) actions.emplace_back(txn);
  for (const auto& [name, domain] : snapshot.domains) actions.emplace_back(domain);
  for (const auto& [path, add] : snapshot.files) actions.emplace_back(add);
  const std::int64_t expired_before = now_millis() - options_.tombstone_retention_millis;
  for (const auto& [path, remove] : snapshot.tombstones) {
    if (remove.deletion_timestamp && *remove.deletion_timestamp < expired_before) continue;
    actions.emplace_back(remove);
  }

  const std::string path = checkpoint_path(version);
  const CheckpointFileInfo info = write_checkpoint_file(path, actions);
  // Read it back before pointing readers at it: a checkpoint that does not replay is removed.
  std::string problem;
  try {
    const std::vector<Action> read_back = read_checkpoint_file(path);
    if (read_back.size() != actions.size()) {
      problem =
          fmt::format("it reads back {} actions instead of {}", read_back.size(), actions.size());
    }
  } catch (const std::exception& e) {
    problem = e.what();
  }
  if (!problem.empty()) {
    ::unlink(path.c_str());
    throw DeltaLogError(
        fmt::format("Delta table {}: checkpoint {} was removed: {}", table_path_, path, problem));
  }
  write_last_checkpoint(version, info.num_actions, info.size_bytes, info.num_add_files);
}

void DeltaLog::write_last_checkpoint(std::int64_t version, std::int64_t size,
                                     std::int64_t size_in_bytes, std::int64_t num_add_files) {
  const std::string dir = log_path();
  const std::string path = fmt::format("{}/{}", dir, kLastCheckpoint);
  std::string existing;
  if (read_whole_file(path, existing) == 0) {
    try {
      const JsonValue json = JsonValue::parse(existing, "_last_checkpoint");
      if (json.is_object() && read_only_int(json, "version") > version) return;  // newer already
    } catch (const Error&) {
      // Damaged: replace it.
    }
  }
  JsonValue json;
  json["version"] = version;
  json["size"] = size;
  json["sizeInBytes"] = size_in_bytes;
  json["numOfAddFiles"] = num_add_files;
  const std::string temp_path =
      fmt::format("{}/.{}.{}{}", dir, kLastCheckpoint, random_uuid(), kTempSuffix);
  int error = write_new_file(temp_path, json.dump() + "\n");
  if (error == 0 && ::rename(temp_path.c_str(), path.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(temp_path.c_str());
    throw DeltaLogError(
        fmt::format("Delta table {}: cannot write {}: {}", table_path_, path, errno_text(error)));
  }
  sync_directory(dir);
}

}  // namespace lakeflow::delta
