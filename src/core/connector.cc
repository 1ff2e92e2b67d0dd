#include "lakeflow/connector.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "lakeflow/instant.h"

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

// The table option max_records_per_batch, checked by the one batch-size rule (connector.h).
std::optional<std::int64_t> max_records_option(std::string_view connector, std::string_view table,
                                               const Options& table_options) {
  const std::optional<std::string_view> value = table_options.find("max_records_per_batch");
  if (!value || value->empty()) return std::nullopt;  // an empty option counts as unset
  try {
    return table_options.get_int("max_records_per_batch", kDefaultMaxRecordsPerBatch, 1,
                                 kMaxRecordsPerBatchLimit);
  } catch (const ConfigError& e) {
    throw ConfigError(fmt::format("{}: table '{}': {}", connector, table, e.what()));
  }
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
  if (metadata.raw_record_column) {
    const std::optional<std::size_t> index = schema.index_of(*metadata.raw_record_column);
    if (!index || schema.fields()[*index].type.id() != TypeId::kString) {
      problems.push_back(fmt::format("raw record column '{}' is not a top-level string column",
                                     *metadata.raw_record_column));
    }
  }
  if (!problems.empty()) {
    throw SchemaError(fmt::format("table '{}': metadata does not match the schema: {}", table,
                                  fmt::join(problems, "; ")));
  }
}

LakeflowConnect::LakeflowConnect(const ConnectorSpec& spec, const Options& options)
    : spec_(spec), options_(spec.checked_connection_options(options)) {
  const auto now = std::chrono::system_clock::now();
  read_cap_.micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
  read_cap_.text = format_instant(read_cap_.micros);
}

void LakeflowConnect::set_read_cap(std::string_view instant) {
  const std::optional<std::int64_t> micros = parse_instant(instant);
  if (!micros) {
    throw SourceError(fmt::format(
        "{}: the source's clock '{}' is not an ISO-8601 instant; reads cannot be capped at it",
        spec_.connector(), instant));
  }
  read_cap_ = ReadCap{*micros, std::string(instant)};
}

std::vector<std::string> LakeflowConnect::list_tables() { return do_list_tables(); }

StructType LakeflowConnect::get_table_schema(std::string_view table, const Options& table_options) {
  check_table(table);
  const Options checked = spec_.checked_table_options(table, table_options);
  (void)max_records_option(spec_.connector(), table, checked);
  return do_get_table_schema(TableContext{table, checked});
}

TableMetadata LakeflowConnect::read_table_metadata(std::string_view table,
                                                   const Options& table_options) {
  check_table(table);
  const Options checked = spec_.checked_table_options(table, table_options);
  (void)max_records_option(spec_.connector(), table, checked);
  return do_read_table_metadata(TableContext{table, checked});
}

ReadResult LakeflowConnect::read_table(std::string_view table, const Offset& start,
                                       const Options& table_options) {
  return read(table, start, table_options, /*deletes=*/false);
}

ReadResult LakeflowConnect::read_table_deletes(std::string_view table, const Offset& start,
                                               const Options& table_options) {
  return read(table, start, table_options, /*deletes=*/true);
}

ReadResult LakeflowConnect::read(std::string_view table, const Offset& start,
                                 const Options& table_options, bool deletes) {
  check_table(table);
  const Options checked = spec_.checked_table_options(table, table_options);
  const ReadContext context{
      {table, checked}, start, max_records_option(spec_.connector(), table, checked), read_cap_};
  return deletes ? do_read_table_deletes(context) : do_read_table(context);
}

PartitionedReads::~PartitionedReads() = default;
CommitListener::~CommitListener() = default;

bool LakeflowConnect::reads_partitions() {
  return dynamic_cast<PartitionedReads*>(this) != nullptr;
}

std::optional<PartitionPlan> LakeflowConnect::plan_partitions(std::string_view table,
                                                              const Offset& start,
                                                              const Options& table_options) {
  auto* partitioned = dynamic_cast<PartitionedReads*>(this);
  check_table(table);
  const Options checked = spec_.checked_table_options(table, table_options);
  const ReadContext context{
      {table, checked}, start, max_records_option(spec_.connector(), table, checked), read_cap_};
  if (partitioned == nullptr) return std::nullopt;
  std::optional<PartitionPlan> plan = partitioned->do_plan_partitions(context);
  if (!plan) return plan;
  for (const Offset& partition : plan->partitions) {
    if (partition.is_null() || !partition.value().is_object()) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("{}: table '{}': a partition planned from offset {} is {}, not a "
                              "JSON object; this is a bug of the connector: report it",
                              spec_.connector(), table, start.to_json(), partition.to_json()));
    }
  }
  if (plan->end == start && !plan->partitions.empty()) {
    throw Error(ErrorCode::kInternal,
                fmt::format("{}: table '{}': a plan from offset {} ends where it starts but has {} "
                            "partition(s); this is a bug of the connector: report it",
                            spec_.connector(), table, start.to_json(), plan->partitions.size()));
  }
  return plan;
}

RecordStream LakeflowConnect::read_partition(std::string_view table, const Offset& partition,
                                             const Options& table_options) {
  auto* partitioned = dynamic_cast<PartitionedReads*>(this);
  check_table(table);
  const Options checked = spec_.checked_table_options(table, table_options);
  if (partitioned == nullptr) {
    throw NotImplementedError(
        fmt::format("{}: table '{}': the connector does not read partitions; use read_table",
                    spec_.connector(), table));
  }
  return partitioned->do_read_partition(PartitionContext{{table, checked}, partition});
}

void LakeflowConnect::committed(std::string_view table, const Options& table_options,
                                const Offset& offset, const std::optional<Offset>& deletes_offset) {
  auto* listener = dynamic_cast<CommitListener*>(this);
  if (listener == nullptr) return;
  check_table(table);
  const Options checked = spec_.checked_table_options(table, table_options);
  listener->do_committed(CommitContext{{table, checked}, offset, deletes_offset});
}

ReadResult LakeflowConnect::do_read_table_deletes(const ReadContext& context) {
  throw NotImplementedError(fmt::format(
      "table '{}': connector does not implement read_table_deletes; it is required for "
      "cdc_with_deletes tables (declare the table as cdc, or implement do_read_table_deletes)",
      context.table));
}

void LakeflowConnect::check_table(std::string_view table) {
  const std::vector<std::string> tables = do_list_tables();
  if (std::find(tables.begin(), tables.end(), table) != tables.end()) return;
  throw UnknownTableError(table, tables);
}

}  // namespace lakeflow
