#include "columnar/column_sort.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string_view>

#include "lakeflow/error.h"

namespace lakeflow {

bool is_sortable(const DataType& type) {
  return !type.is_nested() && type.id() != TypeId::kVariant;
}

namespace {

template <typename T>
int three_way(T a, T b) {
  return (a > b) - (a < b);
}

// Total order for floating point: NaN after every number, NaNs equal, -0.0 == 0.0.
template <typename F>
int three_way_float(F a, F b) {
  const bool a_nan = std::isnan(a);
  const bool b_nan = std::isnan(b);
  if (a_nan || b_nan) return static_cast<int>(a_nan) - static_cast<int>(b_nan);
  return three_way(a, b);
}

int compare_values(const Column& c, std::size_t a, std::size_t b) {
  switch (c.type().id()) {
    case TypeId::kLong:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      return three_way(c.values<std::int64_t>()[a], c.values<std::int64_t>()[b]);
    case TypeId::kInteger:
    case TypeId::kDate:
      return three_way(c.values<std::int32_t>()[a], c.values<std::int32_t>()[b]);
    case TypeId::kShort:
      return three_way(c.values<std::int16_t>()[a], c.values<std::int16_t>()[b]);
    case TypeId::kByte:
      return three_way(c.values<std::int8_t>()[a], c.values<std::int8_t>()[b]);
    case TypeId::kDouble:
      return three_way_float(c.values<double>()[a], c.values<double>()[b]);
    case TypeId::kFloat:
      return three_way_float(c.values<float>()[a], c.values<float>()[b]);
    case TypeId::kDecimal:
      return three_way(c.values<Int128>()[a], c.values<Int128>()[b]);
    case TypeId::kBoolean:
      return three_way(c.bool_value(a), c.bool_value(b));
    case TypeId::kString:
    case TypeId::kBinary: {
      // char_traits<char> compares as unsigned char: bytewise order.
      const int order = c.string_value(a).compare(c.string_value(b));
      return (order > 0) - (order < 0);
    }
    default:
      return 0;  // not sortable; RowOrder's constructor rejects such keys
  }
}

}  // namespace

RowOrder::RowOrder(const ColumnBatch& batch, const std::vector<FieldPath>& keys)
    : rows_(batch.num_rows()) {
  for (const FieldPath& path : keys) {
    const Column* column = &batch.root();
    std::vector<bool> null(rows_, false);
    for (const std::string& name : path) {
      const std::vector<StructField>& fields = column->type().fields();
      auto it = std::find_if(fields.begin(), fields.end(),
                             [&](const StructField& f) { return f.name == name; });
      if (column->type().id() != TypeId::kStruct || it == fields.end()) {
        column = nullptr;
        break;
      }
      column = &column->child(static_cast<std::size_t>(it - fields.begin()));
      for (std::size_t row = 0; row < rows_; ++row) {
        if (!column->is_valid(row)) null[row] = true;
      }
    }
    if (path.empty() || column == nullptr || !is_sortable(column->type())) {
      throw Error(ErrorCode::kInternal,
                  fmt::format("sort key `{}` is not a sortable column of the batch (this is a bug "
                              "in lakeflow: keys are validated when a table is planned)",
                              fmt::join(path, ".")));
    }
    keys_.push_back({column, std::move(null)});
  }
}

int RowOrder::compare(std::size_t a, std::size_t b) const {
  for (const Key& key : keys_) {
    const bool a_null = key.null[a];
    const bool b_null = key.null[b];
    if (a_null || b_null) {
      if (a_null != b_null) return a_null ? -1 : 1;
      continue;
    }
    if (const int order = compare_values(*key.column, a, b); order != 0) return order;
  }
  return 0;
}

std::vector<std::uint32_t> RowOrder::sorted() const {
  std::vector<std::uint32_t> order(rows_);
  std::iota(order.begin(), order.end(), std::uint32_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [this](std::uint32_t a, std::uint32_t b) { return compare(a, b) < 0; });
  return order;
}

namespace {

void append_row(const Column& source, std::size_t row, Column& destination);

// One value of `source` (which is valid at `row`), appended to `destination`.
void append_value(const Column& source, std::size_t row, Column& destination) {
  switch (source.type().id()) {
    case TypeId::kLong:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      destination.append_value(source.values<std::int64_t>()[row]);
      return;
    case TypeId::kInteger:
    case TypeId::kDate:
      destination.append_value(source.values<std::int32_t>()[row]);
      return;
    case TypeId::kShort:
      destination.append_value(source.values<std::int16_t>()[row]);
      return;
    case TypeId::kByte:
      destination.append_value(source.values<std::int8_t>()[row]);
      return;
    case TypeId::kDouble:
      destination.append_value(source.values<double>()[row]);
      return;
    case TypeId::kFloat:
      destination.append_value(source.values<float>()[row]);
      return;
    case TypeId::kDecimal:
      destination.append_value(source.values<Int128>()[row]);
      return;
    case TypeId::kBoolean:
      destination.append_bool(source.bool_value(row));
      return;
    case TypeId::kString:
    case TypeId::kBinary:
    case TypeId::kVariant:
      destination.append_bytes(source.string_value(row));
      return;
    case TypeId::kStruct:
      for (std::size_t f = 0; f < source.num_children(); ++f) {
        append_row(source.child(f), row, destination.child(f));
      }
      destination.append_valid();
      return;
    case TypeId::kArray:
    case TypeId::kMap: {
      // A map's elements are the rows of its `entries` struct column.
      const auto begin = static_cast<std::size_t>(source.offsets()[row]);
      const auto end = static_cast<std::size_t>(source.offsets()[row + 1]);
      for (std::size_t element = begin; element < end; ++element) {
        append_row(source.child(0), element, destination.child(0));
      }
      destination.finish_list();
      return;
    }
  }
}

void append_row(const Column& source, std::size_t row, Column& destination) {
  if (source.is_valid(row)) {
    append_value(source, row, destination);
  } else {
    destination.append_null();
  }
}

}  // namespace

void append_rows(const ColumnBatch& source, std::span<const std::uint32_t> rows,
                 ColumnBatch& destination) {
  Column& root = destination.root();
  for (std::size_t c = 0; c < source.num_columns(); ++c) {
    const Column& column = source.column(c);
    Column& out = root.child(c);
    for (const std::uint32_t row : rows) append_row(column, row, out);
  }
  for (std::size_t i = 0; i < rows.size(); ++i) root.append_valid();
}

}  // namespace lakeflow
