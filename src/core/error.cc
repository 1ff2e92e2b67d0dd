// Error codes, exit statuses and the messages of errors that carry structured context.
#include "lakeflow/error.h"

#include <fmt/format.h>

#include <cerrno>
#include <filesystem>

namespace lakeflow {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
      return "usage";
    case ErrorCode::kConfig:
      return "config";
    case ErrorCode::kUnknownTable:
      return "unknown_table";
    case ErrorCode::kSchema:
      return "schema";
    case ErrorCode::kSource:
      return "source";
    case ErrorCode::kData:
      return "data";
    case ErrorCode::kNotImplemented:
      return "not_implemented";
    case ErrorCode::kInternal:
      return "internal";
    case ErrorCode::kAccess:
      return "access";
    case ErrorCode::kConflict:
      return "conflict";
  }
  return "internal";
}

int exit_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::kUsage:
    case ErrorCode::kConfig:
    case ErrorCode::kUnknownTable:
    case ErrorCode::kSchema:
    case ErrorCode::kAccess:
      return 2;
    case ErrorCode::kSource:
      return 3;
    case ErrorCode::kData:
      return 4;
    case ErrorCode::kConflict:
      return 5;
    case ErrorCode::kNotImplemented:
    case ErrorCode::kInternal:
      return 1;
  }
  return 1;
}

ErrorCode file_error_code(int error_number, ErrorCode otherwise) {
  return error_number == EACCES || error_number == EPERM || error_number == EROFS
             ? ErrorCode::kAccess
             : otherwise;
}

ErrorCode code_of(const std::exception& e) {
  if (const auto* error = dynamic_cast<const Error*>(&e)) return error->code();
  if (const auto* file = dynamic_cast<const std::filesystem::filesystem_error*>(&e)) {
    return file_error_code(file->code().value(), ErrorCode::kInternal);
  }
  return ErrorCode::kInternal;
}

UnknownTableError::UnknownTableError(std::string_view table, std::string_view connector)
    : Error(
          ErrorCode::kUnknownTable,
          fmt::format("unknown table '{}' for connector '{}': run `lakeflow tables -c {}` to list "
                      "its tables",
                      table, connector, connector)),
      table_(table) {}

UnknownTableError::UnknownTableError(std::string_view table,
                                     const std::vector<std::string>& served_tables)
    : Error(ErrorCode::kUnknownTable,
            [&] {
              if (served_tables.empty()) {
                return fmt::format("unknown table '{}'; this connector serves no tables", table);
              }
              constexpr std::size_t kMaxListed = 30;
              std::string list;
              for (std::size_t i = 0; i < served_tables.size() && i < kMaxListed; ++i) {
                if (i > 0) list += ", ";
                list += served_tables[i];
              }
              if (served_tables.size() > kMaxListed) {
                list += fmt::format(", ... ({} more)", served_tables.size() - kMaxListed);
              }
              return fmt::format(
                  "unknown table '{}'; this connector serves: {} (names are case-sensitive)", table,
                  list);
            }()),
      table_(table) {}

namespace {

std::string conversion_message(const std::string& table, std::size_t record_index,
                               const std::string& field_path, const std::string& expected_type,
                               const std::string& excerpt, const std::string& reason) {
  std::string message = fmt::format("table '{}', record {}", table, record_index);
  if (!field_path.empty()) message += fmt::format(", field '{}'", field_path);
  // No expected type: the record is not JSON, and the reason says why.
  if (!expected_type.empty())
    message += fmt::format(": expected {}, got {}", expected_type, excerpt);
  if (!reason.empty()) message += fmt::format(": {}", reason);
  return message;
}

}  // namespace

ConversionError::ConversionError(std::string table, std::size_t record_index,
                                 std::string field_path, std::string expected_type,
                                 std::string excerpt, std::string reason)
    : Error(ErrorCode::kData,
            conversion_message(table, record_index, field_path, expected_type, excerpt, reason)),
      table_(std::move(table)),
      record_index_(record_index),
      field_path_(std::move(field_path)),
      expected_type_(std::move(expected_type)),
      excerpt_(std::move(excerpt)),
      reason_(std::move(reason)) {}

}  // namespace lakeflow
