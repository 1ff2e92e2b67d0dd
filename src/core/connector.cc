#include "lakeflow/connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

namespace lakeflow {
namespace {

constexpr std::string_view kIngestionTypeNames[] = {"snapshot", "cdc", "cdc_with_deletes",
                                                    "append"};

// Field and table lists in messages are capped: FHIR resources have dozens of top-level fields.
constexpr std::size_t kMaxListed = 30;

template <typename Items, typename Name>
std::string capped_list(const Items& items, Name name) {
  std::string out;
  std::size_t listed = 0;
  for (const auto& item : items) {
    if (listed == kMaxListed) break;
    if (listed++ > 0) out += ", ";
    out += name(item);
  }
  if (items.size() > kMaxListed) out += fmt::format(", ... ({} more)", items.size() - kMaxListed);
  return out;
}

std::string field_names(const std::vector<StructField>& fields) {
  return capped_list(fields, [](const StructField& f) { return std::string_view(f.name); });
}

// Why `path` does not resolve, as a parenthesised hint: the fields available at the deepest struct
// the path reaches, or the non-struct it runs into.
std::string unresolved_hint(const StructType& schema, std::string_view path) {
  std::size_t dot = path.rfind('.');
  while (dot != std::string_view::npos) {
    const std::string_view prefix = path.substr(0, dot);
    if (const StructField* field = schema.find_path(prefix)) {
      if (field->type.id() == TypeId::kStruct) {
        return fmt::format("fields of '{}': {}", prefix, field_names(field->type.fields()));
      }
      return fmt::format("'{}' is {}, not a struct", prefix, field->type.simple_string());
    }
    dot = dot == 0 ? std::string_view::npos : path.rfind('.', dot - 1);
  }
  return fmt::format("fields: {}", field_names(schema.fields()));
}

}  // namespace

std::string_view to_string(IngestionType type) {
  return kIngestionTypeNames[static_cast<std::size_t>(type)];
}

IngestionType parse_ingestion_type(std::string_view name) {
  for (std::size_t i = 0; i < std::size(kIngestionTypeNames); ++i) {
    if (name == kIngestionTypeNames[i]) return static_cast<IngestionType>(i);
  }
  throw SchemaError(fmt::format("unknown ingestion type '{}'; expected one of {}", name,
                                fmt::join(kIngestionTypeNames, ", ")));
}

void validate_table_metadata(std::string_view table, const TableMetadata& metadata,
                             const StructType& schema) {
  const IngestionType type = metadata.ingestion_type;
  const bool needs_keys = type != IngestionType::kAppend;
  const bool needs_cursor = type == IngestionType::kCdc || type == IngestionType::kCdcWithDeletes;
  const bool has_cursor = metadata.cursor_field.has_value() && !metadata.cursor_field->empty();

  std::vector<std::string> problems;
  if (needs_keys && metadata.primary_keys.empty()) {
    problems.push_back(fmt::format("ingestion type {} needs primary keys", to_string(type)));
  }
  if (needs_cursor && !has_cursor) {
    problems.push_back(fmt::format("ingestion type {} needs a cursor field", to_string(type)));
  }
  for (std::size_t i = 0; i < metadata.primary_keys.size(); ++i) {
    const std::string& key = metadata.primary_keys[i];
    const auto first = std::find(metadata.primary_keys.begin(), metadata.primary_keys.end(), key);
    if (first != metadata.primary_keys.begin() + static_cast<std::ptrdiff_t>(i)) {
      problems.push_back(fmt::format("primary key '{}' is listed more than once", key));
    } else if (schema.find_path(key) == nullptr) {
      problems.push_back(fmt::format("primary key '{}' is not a field of the schema ({})", key,
                                     unresolved_hint(schema, key)));
    }
  }
  if (has_cursor && schema.find_path(*metadata.cursor_field) == nullptr) {
    problems.push_back(fmt::format("cursor field '{}' is not a field of the schema ({})",
                                   *metadata.cursor_field,
                                   unresolved_hint(schema, *metadata.cursor_field)));
  }
  if (!problems.empty()) {
    throw SchemaError(fmt::format("table '{}': metadata does not match the schema: {}", table,
                                  fmt::join(problems, "; ")));
  }
}

ReadResult LakeflowConnect::read_table_deletes(std::string_view table, const Offset& /*start*/,
                                               const Options& /*table_options*/) {
  require_table(table);
  throw NotImplementedError(fmt::format(
      "table '{}': connector does not implement read_table_deletes; it is required for "
      "cdc_with_deletes tables (declare the table as cdc, or implement read_table_deletes)",
      table));
}

void LakeflowConnect::require_table(std::string_view table) {
  const std::vector<std::string> tables = list_tables();
  if (std::find(tables.begin(), tables.end(), table) != tables.end()) return;
  throw UnknownTableError(table, tables);
}

}  // namespace lakeflow
