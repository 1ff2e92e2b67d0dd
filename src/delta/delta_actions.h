// The actions of the Delta Lake transaction log (PROTOCOL.md of the Delta Lake project, "Actions")
// and their JSON form: one action per line of a commit file, `{"<kind>":{...}}`.
//
// lakeflow writes tables at reader version 1, which every Delta reader (Spark, Databricks, delta-rs,
// DuckDB, Polars) reads, and writer version 7 with the writer-only table features it uses
// (table_features.h: domainMetadata for its offsets, clustering); a reader-writer feature only when
// the schema needs one (typeWidening, timestampNtz). No column mapping or deletion vectors.
// Parsing accepts what other writers add (unknown fields and unknown action kinds are ignored, as
// the protocol requires); whether a table's protocol is readable or writable is checked by the
// snapshot (delta_log.h), not here.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lakeflow/error.h"
#include "lakeflow/json.h"
#include "lakeflow/types.h"

namespace lakeflow::delta {

using StringMap = std::map<std::string, std::string, std::less<>>;

// The Delta protocol versions of the tables lakeflow creates (and the newest reader version it
// reads); table_features.h moves a table to writer 7 when it uses a table feature.
inline constexpr int kReaderVersion = 1;
inline constexpr int kWriterVersion = 2;

// `protocol`: the reader and writer versions a client must implement to use the table.
struct ProtocolAction {
  int min_reader_version = kReaderVersion;
  int min_writer_version = kWriterVersion;
  // Table features: reader_features only with reader 3, writer_features only with writer 7.
  std::vector<std::string> reader_features;
  std::vector<std::string> writer_features;

  friend bool operator==(const ProtocolAction&, const ProtocolAction&) = default;
};

// `metaData`: the table's identity, schema and configuration. A later metaData replaces the
// earlier one entirely.
struct MetadataAction {
  std::string id;  // a UUID, fixed when the table is created
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string format_provider = "parquet";
  StringMap format_options;
  std::string schema_string;  // StructType::json(): PySpark's schema JSON
  std::vector<std::string> partition_columns;
  StringMap configuration;
  std::optional<std::int64_t> created_time;  // ms since the epoch

  // The parsed schema. Throws SchemaError when schema_string is not a Spark struct type.
  StructType schema() const;
  // A configuration value, or nullptr.
  const std::string* config(std::string_view key) const;

  friend bool operator==(const MetadataAction&, const MetadataAction&) = default;
};

// `add`: a data file that is part of the table from this version on.
struct AddFile {
  std::string path;  // relative to the table root, URI-encoded (encode_path)
  StringMap partition_values;
  std::int64_t size = 0;               // bytes
  std::int64_t modification_time = 0;  // ms since the epoch
  bool data_change = true;
  // {"numRecords":N,"minValues":{..},"maxValues":{..},"nullCount":{..}} as JSON text.
  std::optional<std::string> stats;
  StringMap tags;

  friend bool operator==(const AddFile&, const AddFile&) = default;
};

// `remove`: a data file that is no longer part of the table (a tombstone until vacuumed).
struct RemoveFile {
  std::string path;
  std::optional<std::int64_t> deletion_timestamp;  // ms since the epoch
  bool data_change = true;
  // When true, partition_values and size describe the file (written when `size` is known).
  bool extended_file_metadata = false;
  StringMap partition_values;
  std::optional<std::int64_t> size;

  friend bool operator==(const RemoveFile&, const RemoveFile&) = default;
};

// `txn`: the progress of an application that writes the table idempotently; the latest version
// per app_id is part of the snapshot.
struct TxnAction {
  std::string app_id;
  std::int64_t version = 0;
  std::optional<std::int64_t> last_updated;  // ms since the epoch

  friend bool operator==(const TxnAction&, const TxnAction&) = default;
};

// `commitInfo`: provenance of one commit. Holds only what the caller puts in it: never options,
// connection settings or anything secret.
struct CommitInfo {
  std::int64_t timestamp = 0;       // ms since the epoch; commit() fills in 0 with the current time
  std::string operation = "WRITE";  // WRITE, MERGE, CREATE TABLE, DELETE, ...
  StringMap operation_parameters;   // Spark's form: string values, e.g. {"mode":"Append"}
  StringMap operation_metrics;      // e.g. {"numOutputRows":"10","numFiles":"1"}
  std::optional<std::int64_t> read_version;  // commit() fills it in
  std::optional<bool> is_blind_append;
  std::string engine_info;  // commit() fills in empty with engine_info()

  friend bool operator==(const CommitInfo&, const CommitInfo&) = default;
};

// `domainMetadata` (table feature domainMetadata): the configuration of one named metadata domain.
// The latest action per domain wins; one with `removed` deletes the domain. Domains named `delta.*`
// belong to Delta's table features (e.g. `delta.clustering`, clustering.h); writers keep every
// domain they do not understand.
struct DomainMetadataAction {
  std::string domain;
  std::string configuration;  // in the domain's own format, usually JSON text
  bool removed = false;

  friend bool operator==(const DomainMetadataAction&, const DomainMetadataAction&) = default;
};

using Action = std::variant<ProtocolAction, MetadataAction, AddFile, RemoveFile, TxnAction,
                            CommitInfo, DomainMetadataAction>;

// The action's JSON object, `{"add":{...}}`; optional fields that are absent are left out.
JsonValue action_to_json(const Action& action);
// One line of a commit file (compact JSON, no newline).
std::string action_to_line(const Action& action);

// Reads one action object. Returns nullopt for action kinds lakeflow does not use (cdc,
// checkpointMetadata, sidecar, ...), which the protocol says to ignore. Throws
// DeltaLogError naming `where` (a file and line) when a known action lacks a required field or
// has one of the wrong type.
std::optional<Action> action_from_json(const JsonValue& json, std::string_view where);

// `lakeflow-cpp/<version>`, the engineInfo of lakeflow's commits.
std::string engine_info();

// A random (version 4) UUID in its canonical text form, e.g. for metaData.id and file names.
std::string random_uuid();

// Milliseconds since the epoch, now.
std::int64_t now_millis();

// The remove action that takes `add`'s file out of the table now: a data change, with the file's
// size and partition values (extended file metadata).
RemoveFile removal_of(const AddFile& add);

// Data file paths in the log are URIs (RFC 2396): encode_path percent-encodes every byte of a
// relative path except unreserved characters and `/`; decode_path reverses it (and `+` stays
// `+`). decode_path throws DeltaLogError on a malformed escape.
std::string encode_path(std::string_view path);
std::string decode_path(std::string_view uri_path);

// The table's log cannot be read or written: an I/O error, a malformed commit, a missing version,
// a protocol lakeflow does not implement. The message names the table and what to do.
class DeltaLogError : public Error {
 public:
  explicit DeltaLogError(std::string message) : Error(ErrorCode::kConfig, std::move(message)) {}
  // A failed file-system call with errno `error_number`: kAccess when access was denied.
  DeltaLogError(std::string message, int error_number)
      : Error(file_error_code(error_number, ErrorCode::kConfig), std::move(message)) {}

 protected:
  DeltaLogError(ErrorCode code, std::string message) : Error(code, std::move(message)) {}
};

// Another writer committed the version this commit was about to write (code kConflict). Nothing
// was overwritten: re-read the table (a new snapshot) and retry on top of the new version, or make
// sure only one process writes the table.
class ConcurrentCommitError : public DeltaLogError {
 public:
  ConcurrentCommitError(std::string table_path, std::int64_t version);
  const std::string& table_path() const { return table_path_; }
  std::int64_t version() const { return version_; }

 private:
  std::string table_path_;
  std::int64_t version_;
};

}  // namespace lakeflow::delta
