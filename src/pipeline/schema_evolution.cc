#include "pipeline/schema_evolution.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "lakeflow/error.h"
#include "lakeflow/json.h"

namespace lakeflow::pipeline {
namespace {

constexpr std::string_view kTypeChangesKey = "delta.typeChanges";

// Delta's name of a primitive type: `integer`, `decimal(10,2)`, `timestamp_ntz`.
std::string delta_type_name(const DataType& type) {
  const JsonValue json = JsonValue::parse(type.json(), "type");
  return json.is_string() ? json.as_string() : type.simple_string();
}

std::optional<int> integral_rank(TypeId id) {
  switch (id) {
    case TypeId::kByte:
      return 0;
    case TypeId::kShort:
      return 1;
    case TypeId::kInteger:
      return 2;
    case TypeId::kLong:
      return 3;
    default:
      return std::nullopt;
  }
}

// Whether every value of `from` is a value of `to`, as Delta's type widening allows.
bool widens(const DataType& from, const DataType& to) {
  const std::optional<int> from_rank = integral_rank(from.id());
  const std::optional<int> to_rank = integral_rank(to.id());
  if (from_rank && to_rank) return *to_rank > *from_rank;
  if (from.id() == TypeId::kFloat && to.id() == TypeId::kDouble) return true;
  if (from.id() == TypeId::kDate && to.id() == TypeId::kTimestampNtz) return true;
  if (from.id() == TypeId::kDecimal && to.id() == TypeId::kDecimal) {
    const int more_digits = to.precision() - from.precision();
    const int more_scale = to.scale() - from.scale();
    return more_digits >= more_scale && more_scale >= 0 && more_digits > 0;
  }
  return false;
}

class Evolver {
 public:
  Evolver(SchemaEvolution mode, const std::vector<std::string>& keep) : mode_(mode), keep_(keep) {}

  StructType merge_struct(const StructType& table, const StructType& source,
                          const std::string& prefix) {
    std::vector<StructField> fields;
    for (const StructField& field : table.fields()) {
      const std::string path = prefix + field.name;
      const auto found = std::find_if(source.fields().begin(), source.fields().end(),
                                      [&](const StructField& f) { return f.name == field.name; });
      if (found != source.fields().end()) {
        fields.push_back(merge_field(field, *found, path));
      } else if (field.nullable) {
        fields.push_back(field);  // no longer sent: new rows hold null
      } else if (kept(path)) {
        StructField relaxed = field;
        relaxed.nullable = true;
        changes.push_back(
            fmt::format("kept column {} that the source no longer sends, now nullable", path));
        fields.push_back(std::move(relaxed));
      } else {
        problem(path, fmt::format("{} is no longer in the source's schema and the table holds it "
                                  "as non-nullable ({} NOT NULL)",
                                  path, field.type.simple_string()));
      }
    }
    for (const StructField& field : source.fields()) {
      if (table.index_of(field.name)) continue;
      const std::string path = prefix + field.name;
      if (mode_ == SchemaEvolution::kNone) {
        problem(path, fmt::format("{} ({}) is new in the source's schema and schema_evolution is "
                                  "none (set it to additive to add columns)",
                                  path, field.type.simple_string()));
        continue;
      }
      StructField added = field;
      added.nullable = true;  // rows written before it hold null
      changes.push_back(fmt::format("added column {} ({})", path, field.type.simple_string()));
      fields.push_back(std::move(added));
    }
    return StructType(std::move(fields));
  }

  std::vector<std::string> changes;
  std::vector<std::string> problems;
  std::vector<std::string> problem_paths;
  bool widened = false;

 private:
  bool kept(const std::string& path) const {
    return std::find(keep_.begin(), keep_.end(), path) != keep_.end();
  }

  void problem(const std::string& path, std::string text) {
    problems.push_back(std::move(text));
    problem_paths.push_back(path);
  }

  StructField merge_field(const StructField& table, const StructField& source,
                          const std::string& path) {
    JsonValue::Array type_changes;
    StructField merged = table;
    merged.type = merge_type(table.type, source.type, path, "", type_changes);
    if (!table.nullable && source.nullable) {
      if (mode_ == SchemaEvolution::kNone) {
        problem(path, fmt::format("{} became nullable in the source's schema and schema_evolution "
                                  "is none (set it to additive)",
                                  path));
      } else {
        merged.nullable = true;
        changes.push_back(fmt::format("column {} is nullable now", path));
      }
    }
    if (!type_changes.empty()) {
      JsonValue metadata = JsonValue::parse(table.metadata_json, "field metadata");
      if (!metadata.is_object()) metadata = JsonValue::Object{};
      const JsonValue* existing = metadata.find(kTypeChangesKey);
      JsonValue::Array all =
          existing != nullptr && existing->is_array() ? existing->as_array() : JsonValue::Array{};
      for (JsonValue& change : type_changes) all.push_back(std::move(change));
      metadata[std::string(kTypeChangesKey)] = std::move(all);
      merged.metadata_json = metadata.dump();
    }
    return merged;
  }

  // `field_path` locates the type inside its nearest struct field (`element`, `value.element`),
  // as delta.typeChanges records it.
  DataType merge_type(const DataType& table, const DataType& source, const std::string& path,
                      const std::string& field_path, JsonValue::Array& type_changes) {
    const auto inner = [&](std::string_view step) {
      return field_path.empty() ? std::string(step) : field_path + "." + std::string(step);
    };
    if (table.id() == TypeId::kStruct && source.id() == TypeId::kStruct) {
      return merge_struct(table.as_struct(), source.as_struct(), path + ".");
    }
    if (table.id() == TypeId::kArray && source.id() == TypeId::kArray) {
      DataType element = merge_type(table.element_type(), source.element_type(), path,
                                    inner("element"), type_changes);
      return DataType::Array(std::move(element),
                             relax(table.contains_null(), source.contains_null(), path));
    }
    if (table.id() == TypeId::kMap && source.id() == TypeId::kMap) {
      DataType key =
          merge_type(table.key_type(), source.key_type(), path, inner("key"), type_changes);
      DataType value =
          merge_type(table.value_type(), source.value_type(), path, inner("value"), type_changes);
      return DataType::Map(std::move(key), std::move(value),
                           relax(table.value_contains_null(), source.value_contains_null(), path));
    }
    if (!table.is_nested() && table == source) return table;
    const std::string where = field_path.empty() ? path : path + " (" + field_path + ")";
    if (!table.is_nested() && !source.is_nested() && widens(table, source)) {
      if (mode_ != SchemaEvolution::kWiden) {
        if (kept(path)) return keep(table, source, where);
        problem(path, fmt::format("{} widens from {} to {}, and schema_evolution is not widen "
                                  "(set it to widen to widen the column)",
                                  where, table.simple_string(), source.simple_string()));
        return table;
      }
      JsonValue::Object change{{"fromType", delta_type_name(table)},
                               {"toType", delta_type_name(source)}};
      if (!field_path.empty()) change.emplace("fieldPath", field_path);
      type_changes.emplace_back(std::move(change));
      changes.push_back(fmt::format("widened column {} from {} to {}", where, table.simple_string(),
                                    source.simple_string()));
      widened = true;
      return source;
    }
    if (kept(path)) return keep(table, source, where);
    problem(path, fmt::format("{} changed from {} to {}", where, table.simple_string(),
                              source.simple_string()));
    return table;
  }

  DataType keep(const DataType& table, const DataType& source, const std::string& where) {
    changes.push_back(fmt::format("kept column {} as {} (the source now sends {})", where,
                                  table.simple_string(), source.simple_string()));
    return table;
  }

  // Array elements and map values: nullable when either side allows null.
  bool relax(bool table, bool source, const std::string& path) {
    if (table || !source) return table;
    if (mode_ == SchemaEvolution::kNone) {
      problem(path, fmt::format("{} may hold null elements now and schema_evolution is none (set "
                                "it to additive)",
                                path));
      return table;
    }
    changes.push_back(fmt::format("column {} may hold null elements now", path));
    return true;
  }

  SchemaEvolution mode_;
  const std::vector<std::string>& keep_;
};

}  // namespace

SchemaEvolution parse_schema_evolution(std::string_view text) {
  if (text == "none") return SchemaEvolution::kNone;
  if (text == "additive") return SchemaEvolution::kAdditive;
  if (text == "widen") return SchemaEvolution::kWiden;
  throw ConfigError(fmt::format(
      "schema_evolution '{}' is not one of none, additive (the default) or widen", text));
}

EvolvedSchema evolve_schema(const StructType& table_schema, const StructType& source_schema,
                            SchemaEvolution mode, const std::vector<std::string>& keep_columns,
                            std::string_view table_name, std::string_view source_table) {
  Evolver evolver(mode, keep_columns);
  EvolvedSchema evolved;
  evolved.schema = evolver.merge_struct(table_schema, source_schema, "");
  if (!evolver.problems.empty()) {
    std::vector<std::string> paths;
    for (const std::string& path : evolver.problem_paths) {
      if (std::find(paths.begin(), paths.end(), path) == paths.end()) paths.push_back(path);
    }
    throw ConfigError(fmt::format(
        "table '{}': the source's schema changed in a way the table cannot follow: {}. Nothing "
        "was written. Either rerun with --full-refresh --tables {} to rewrite the table with the "
        "new schema, or set the table setting keep_columns: [{}] to keep those columns as the "
        "table has them (new values must then convert to the table's type)",
        table_name, fmt::join(evolver.problems, "; "), source_table, fmt::join(paths, ", ")));
  }
  evolved.changes = std::move(evolver.changes);
  evolved.widened = evolver.widened;
  return evolved;
}

}  // namespace lakeflow::pipeline
