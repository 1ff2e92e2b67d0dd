#include "delta/file_stats.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "lakeflow/json.h"
#include "parquet/parquet_stats.h"
#include "util/text.h"

namespace lakeflow::delta {
namespace {

using parquet::ColumnStatistics;
using parquet::StatisticsValue;

std::string timestamp_millis_json(std::int64_t micros, bool round_up, bool utc) {
  std::int64_t ms = micros / 1000;
  std::int64_t rest = micros % 1000;
  if (rest < 0) --ms;  // floor
  if (round_up && rest != 0) ++ms;
  std::string text;
  text::append_timestamp(text, ms * 1000, utc);
  // "...SS.mmm000[Z]": drop the three zero microsecond digits.
  std::size_t digits_end = text.size() - (utc ? 1 : 0);
  text.erase(digits_end - 3, 3);
  std::string out;
  append_json_string(out, text, false);
  return out;
}

std::string date_json(std::int64_t days) {
  std::string out = "\"";
  text::append_date(out, static_cast<std::int32_t>(days));
  out += '"';
  return out;
}

std::string decimal_json(Int128 unscaled, std::int32_t scale) {
  std::string out;
  text::append_decimal(out, unscaled, scale);
  return out;
}

// A column's bounds in Delta's JSON forms (see file_stats_json); either may be absent.
struct JsonBounds {
  std::optional<std::string> min;
  std::optional<std::string> max;
};

JsonBounds json_bounds(const ColumnStatistics& c, std::size_t string_prefix) {
  JsonBounds out;
  if (!c.min || !c.max) return out;
  const StatisticsValue& lo = *c.min;
  const StatisticsValue& hi = *c.max;
  switch (c.type.id()) {
    case TypeId::kLong:
    case TypeId::kInteger:
    case TypeId::kShort:
    case TypeId::kByte:
      out.min = std::to_string(std::get<std::int64_t>(lo));
      out.max = std::to_string(std::get<std::int64_t>(hi));
      break;
    case TypeId::kFloat:
    case TypeId::kDouble: {
      // Spark orders NaN above every number, so a column holding NaN has no maximum bound.
      const double min = std::get<double>(lo);
      const double max = std::get<double>(hi);
      std::string text;
      if (std::isfinite(min)) append_python_float(text, min), out.min = std::move(text);
      text.clear();
      if (std::isfinite(max) && c.nan_count == 0) {
        append_python_float(text, max);
        out.max = std::move(text);
      }
      break;
    }
    case TypeId::kDecimal:
      out.min = decimal_json(std::get<Int128>(lo), c.type.scale());
      out.max = decimal_json(std::get<Int128>(hi), c.type.scale());
      break;
    case TypeId::kDate:
      out.min = date_json(std::get<std::int64_t>(lo));
      out.max = date_json(std::get<std::int64_t>(hi));
      break;
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz: {
      const bool utc = c.type.id() == TypeId::kTimestamp;
      out.min = timestamp_millis_json(std::get<std::int64_t>(lo), false, utc);
      out.max = timestamp_millis_json(std::get<std::int64_t>(hi), true, utc);
      break;
    }
    case TypeId::kString: {
      const parquet::StringBounds b = parquet::string_bounds(
          std::get<std::string>(lo), std::get<std::string>(hi), string_prefix);
      std::string text;
      if (b.min) append_json_string(text, *b.min, false), out.min = std::move(text);
      text.clear();
      if (b.max) append_json_string(text, *b.max, false), out.max = std::move(text);
      break;
    }
    default:
      break;  // boolean, binary, variant: null counts only
  }
  return out;
}

// Renders (field path, JSON value) pairs, in schema order, as nested JSON objects.
std::string nested_object(
    const std::vector<std::pair<const std::vector<std::string>*, std::string>>& entries) {
  std::string out = "{";
  std::vector<const std::string*> open;  // enclosing struct names of the last entry
  std::vector<bool> need_comma{false};
  for (const auto& [path, value] : entries) {
    std::size_t parents = path->size() - 1;
    std::size_t common = 0;
    while (common < open.size() && common < parents && *open[common] == (*path)[common]) ++common;
    while (open.size() > common) {
      out += '}';
      open.pop_back();
      need_comma.pop_back();
    }
    for (std::size_t k = common; k < parents; ++k) {
      if (need_comma.back()) out += ',';
      need_comma.back() = true;
      append_json_string(out, (*path)[k], false);
      out += ":{";
      open.push_back(&(*path)[k]);
      need_comma.push_back(false);
    }
    if (need_comma.back()) out += ',';
    need_comma.back() = true;
    append_json_string(out, path->back(), false);
    out += ':';
    out += value;
  }
  for (std::size_t k = 0; k < open.size(); ++k) out += '}';
  out += '}';
  return out;
}

}  // namespace

std::string file_stats_json(const parquet::ParquetFileStats& file, FileStatsOptions options) {
  std::vector<std::pair<const std::vector<std::string>*, std::string>> mins, maxes, nulls;
  const std::size_t n = std::min(options.num_indexed_columns, file.columns.size());
  for (std::size_t i = 0; i < n; ++i) {
    const ColumnStatistics& c = file.columns[i];
    JsonBounds bounds = json_bounds(c, options.string_prefix);
    if (bounds.min) mins.emplace_back(&c.field_path, std::move(*bounds.min));
    if (bounds.max) maxes.emplace_back(&c.field_path, std::move(*bounds.max));
    nulls.emplace_back(&c.field_path, std::to_string(c.null_count));
  }
  std::string out = "{\"numRecords\":" + std::to_string(file.num_records);
  out += ",\"minValues\":" + nested_object(mins);
  out += ",\"maxValues\":" + nested_object(maxes);
  out += ",\"nullCount\":" + nested_object(nulls);
  out += '}';
  return out;
}

namespace {

// The value at `column` inside `bounds` (minValues or maxValues, nested by struct), or nullptr.
const JsonValue* nested_value(const JsonValue* bounds, const std::vector<std::string>& column) {
  for (const std::string& part : column) {
    if (bounds == nullptr || !bounds->is_object()) return nullptr;
    bounds = bounds->find(part);
  }
  return bounds;
}

// The JSON text of `bound` as a bound of a `type` column (`upper`: the maximum), or nullopt.
std::optional<std::string> range_bound(const JsonValue* bound, const DataType& type, bool upper) {
  if (bound == nullptr) return std::nullopt;
  switch (type.id()) {
    case TypeId::kLong:
    case TypeId::kInteger:
    case TypeId::kShort:
    case TypeId::kByte:
      if (!bound->is_int()) return std::nullopt;
      return std::to_string(bound->as_int());
    case TypeId::kString:
      if (!bound->is_string()) return std::nullopt;
      return bound->dump();
    case TypeId::kDate: {
      if (!bound->is_string()) return std::nullopt;
      const auto days = text::parse_date(bound->as_string());
      if (!days.ok()) return std::nullopt;
      return date_json(days.value);
    }
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz: {
      if (!bound->is_string()) return std::nullopt;
      const bool utc = type.id() == TypeId::kTimestamp;
      const auto micros = text::parse_timestamp(bound->as_string(), utc, std::nullopt);
      if (!micros.ok()) return std::nullopt;
      const std::int64_t value = micros.value + (upper ? 999 : 0);
      std::string text;
      text::append_timestamp(text, value, utc);
      std::string out;
      append_json_string(out, text, false);
      return out;
    }
    default:
      return std::nullopt;
  }
}

}  // namespace

destination::ColumnRange stats_column_range(std::string_view stats_json,
                                            const std::vector<std::string>& column,
                                            const DataType& type, std::size_t string_prefix) {
  destination::ColumnRange out;
  JsonValue stats;
  try {
    stats = JsonValue::parse(stats_json, "add.stats");
  } catch (const Error&) {
    return out;  // statistics that do not parse say nothing
  }
  if (!stats.is_object()) return out;
  out.min = range_bound(nested_value(stats.find("minValues"), column), type, false);
  out.max = range_bound(nested_value(stats.find("maxValues"), column), type, true);
  if (out.max && type.id() == TypeId::kString) {
    std::size_t characters = 0;  // UTF-8 lead bytes
    for (const char c : nested_value(stats.find("maxValues"), column)->as_string()) {
      characters += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    out.max_cut = characters >= string_prefix;
  }
  return out;
}

}  // namespace lakeflow::delta
