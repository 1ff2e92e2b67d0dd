// Errors raised by the SDK, connectors and the framework.
//
// Every error a user can cause is a `lakeflow::Error` carrying an `ErrorCode` and a message that
// names what is wrong (option, table, field path, value) and what to do about it. Errors are thrown
// at API edges and never swallowed. The CLI maps codes to exit statuses (see `exit_status`).
#pragma once

#include <cstdint>
#include <exception>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow {

enum class ErrorCode : std::uint8_t {
  kUsage,           // bad command line
  kConfig,          // bad connector/table option, bad spec, bad offset given by the user
  kUnknownTable,    // a table name the connector does not serve
  kSchema,          // bad schema JSON, metadata that does not resolve in the schema
  kSource,          // the source failed or answered something unusable
  kData,            // a record does not convert to the table's schema
  kNotImplemented,  // an optional interface method the connector does not provide
  kInternal,        // a broken invariant inside lakeflow itself
  kAccess,          // credentials rejected, or a permission denied (by the source or the disk)
  kConflict,        // another writer committed to a destination table this one was writing
};

std::string_view to_string(ErrorCode code);

// Process exit status for an error code. The rule (README.md, "Exit status"): 2 when lakeflow
// cannot run as configured and fails the same way until something is changed (usage, config,
// unknown table, schema, access: credentials and permissions are configuration); 3 when the
// source failed and a later rerun may succeed; 4 a record does not convert; 5 another writer
// conflicts; 1 anything else.
int exit_status(ErrorCode code);

// The code of a failed file-system call: kAccess when `error_number` (an errno value) says access
// was denied (EACCES, EPERM, EROFS), `otherwise` else.
ErrorCode file_error_code(int error_number, ErrorCode otherwise);

// The code of any exception: a lakeflow::Error's own; for a std::filesystem::filesystem_error,
// file_error_code(its errno, kInternal); kInternal for anything else.
ErrorCode code_of(const std::exception& e);

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message)
      : std::runtime_error(std::move(message)), code_(code) {}
  ErrorCode code() const { return code_; }

 private:
  ErrorCode code_;
};

class ConfigError : public Error {
 public:
  explicit ConfigError(std::string message) : Error(ErrorCode::kConfig, std::move(message)) {}
};

// A connection option the connector's connector_spec.yaml marks `required: true` is absent (or
// empty, which counts as absent). Thrown where options meet the spec, so every way of making a
// connector (a pipeline run, `lakeflow read`, `lakeflow connection test`, Python) refuses it before
// the connector reads anything.
class MissingOptionError : public ConfigError {
 public:
  MissingOptionError(std::string connector, std::string option, std::string message)
      : ConfigError(std::move(message)),
        connector_(std::move(connector)),
        option_(std::move(option)) {}
  const std::string& connector() const { return connector_; }
  const std::string& option() const { return option_; }

 private:
  std::string connector_;
  std::string option_;
};

class SchemaError : public Error {
 public:
  explicit SchemaError(std::string message) : Error(ErrorCode::kSchema, std::move(message)) {}
};

class SourceError : public Error {
 public:
  explicit SourceError(std::string message) : Error(ErrorCode::kSource, std::move(message)) {}

 protected:
  // For failures of the source that have a code of their own (kAccess: it refused the
  // credentials).
  SourceError(ErrorCode code, std::string message) : Error(code, std::move(message)) {}
};

class NotImplementedError : public Error {
 public:
  explicit NotImplementedError(std::string message)
      : Error(ErrorCode::kNotImplemented, std::move(message)) {}
};

// Raised by every connector method given a table name it does not serve.
class UnknownTableError : public Error {
 public:
  // Points to `lakeflow tables -c <connector>` for the list of tables.
  UnknownTableError(std::string_view table, std::string_view connector);
  // Names the tables the connector does serve (what LakeflowConnect's public methods throw).
  UnknownTableError(std::string_view table, const std::vector<std::string>& served_tables);
  const std::string& table() const { return table_; }

 private:
  std::string table_;
};

// A record that does not convert to its table's schema.
class ConversionError : public Error {
 public:
  ConversionError(std::string table, std::size_t record_index, std::string field_path,
                  std::string expected_type, std::string excerpt, std::string reason);

  const std::string& table() const { return table_; }
  std::size_t record_index() const { return record_index_; }
  // Path of the offending value inside the record, e.g. `name[2].given[0]`; empty for the record.
  const std::string& field_path() const { return field_path_; }
  // The Spark SQL type the value should have converted to, e.g. `bigint` or `struct<...>`.
  const std::string& expected_type() const { return expected_type_; }
  // At most ~60 characters of the offending JSON text.
  const std::string& excerpt() const { return excerpt_; }
  // Why the value does not convert, e.g. `value 300 overflows tinyint`.
  const std::string& reason() const { return reason_; }

 private:
  std::string table_;
  std::size_t record_index_;
  std::string field_path_;
  std::string expected_type_;
  std::string excerpt_;
  std::string reason_;
};

}  // namespace lakeflow
