#include "columnar/column_sort.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>
#include <string_view>
#include <unordered_map>

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

namespace {

constexpr std::uint64_t kSignBit = std::uint64_t{1} << 63;

std::uint64_t signed_image(std::int64_t v) { return static_cast<std::uint64_t>(v) ^ kSignBit; }

std::uint64_t float_image(double v) {
  if (std::isnan(v)) return ~std::uint64_t{0};
  if (v == 0) v = 0.0;  // -0.0 sorts with 0.0
  std::uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof bits);
  return (bits & kSignBit) != 0 ? ~bits : bits | kSignBit;
}

// An unsigned 64-bit image of a fixed-width value that never orders two values against
// compare_values: a different image decides their order; an equal one decides equality only when
// both are `exact`, and leaves the rest to compare_values (decimals beyond 64 bits are clamped).
std::uint64_t value_image(const Column& c, std::size_t row, bool& exact) {
  exact = true;
  switch (c.type().id()) {
    case TypeId::kLong:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      return signed_image(c.values<std::int64_t>()[row]);
    case TypeId::kInteger:
    case TypeId::kDate:
      return signed_image(c.values<std::int32_t>()[row]);
    case TypeId::kShort:
      return signed_image(c.values<std::int16_t>()[row]);
    case TypeId::kByte:
      return signed_image(c.values<std::int8_t>()[row]);
    case TypeId::kDouble:
      return float_image(c.values<double>()[row]);
    case TypeId::kFloat:
      return float_image(c.values<float>()[row]);
    case TypeId::kDecimal: {
      const Int128 v = c.values<Int128>()[row];
      const Int128 lowest = std::numeric_limits<std::int64_t>::min();
      const Int128 highest = std::numeric_limits<std::int64_t>::max();
      exact = v > lowest && v < highest;
      return signed_image(static_cast<std::int64_t>(std::clamp(v, lowest, highest)));
    }
    case TypeId::kBoolean:
      return c.bool_value(row) ? 1 : 0;
    default:
      exact = false;
      return 0;
  }
}

// The rank of each row's value among the distinct values of a string or binary column (bytewise
// order), as exact images: equal values get equal ranks. Null rows get 0.
std::vector<std::uint64_t> string_ranks(const Column& c, const std::vector<bool>& null) {
  std::unordered_map<std::string_view, std::uint32_t> ids;
  std::vector<std::string_view> distinct;
  std::vector<std::uint32_t> id_of(null.size());
  for (std::size_t row = 0; row < null.size(); ++row) {
    if (null[row]) continue;
    const auto [it, added] =
        ids.emplace(c.string_value(row), static_cast<std::uint32_t>(distinct.size()));
    if (added) distinct.push_back(it->first);
    id_of[row] = it->second;
  }
  std::vector<std::uint32_t> by_value(distinct.size());
  std::iota(by_value.begin(), by_value.end(), std::uint32_t{0});
  std::sort(by_value.begin(), by_value.end(),
            [&](std::uint32_t a, std::uint32_t b) { return distinct[a] < distinct[b]; });
  std::vector<std::uint64_t> rank_of_id(distinct.size());
  for (std::size_t rank = 0; rank < by_value.size(); ++rank) rank_of_id[by_value[rank]] = rank;
  std::vector<std::uint64_t> ranks(null.size());
  for (std::size_t row = 0; row < null.size(); ++row) {
    if (!null[row]) ranks[row] = rank_of_id[id_of[row]];
  }
  return ranks;
}

}  // namespace

std::vector<std::uint32_t> RowOrder::sorted() const {
  // Rows are sorted as entries holding an integer image of each of the first keys (value_image,
  // string_ranks), so comparisons stay in one sequential array instead of reaching into the
  // columns at random (bench/cluster.cc). Entries the images leave tied are compared by their
  // values, then by row: a stable order.
  constexpr std::size_t kImaged = 4;
  struct Entry {
    std::array<std::uint64_t, kImaged> image{};
    std::uint32_t row = 0;
    std::uint8_t valid = 0;  // bit k: key k is not null
    std::uint8_t exact = 0;  // bit k: key k's image is its value
  };
  const std::size_t imaged = std::min(keys_.size(), kImaged);
  std::vector<Entry> entries(rows_);
  for (std::size_t row = 0; row < rows_; ++row) entries[row].row = static_cast<std::uint32_t>(row);
  for (std::size_t k = 0; k < imaged; ++k) {
    const Key& key = keys_[k];
    const auto bit = static_cast<std::uint8_t>(1U << k);
    const TypeId id = key.column->type().id();
    const bool bytes = id == TypeId::kString || id == TypeId::kBinary;
    const std::vector<std::uint64_t> ranks =
        bytes ? string_ranks(*key.column, key.null) : std::vector<std::uint64_t>();
    for (std::size_t row = 0; row < rows_; ++row) {
      if (key.null[row]) continue;
      Entry& entry = entries[row];
      bool exact = true;
      entry.image[k] = bytes ? ranks[row] : value_image(*key.column, row, exact);
      entry.valid |= bit;
      if (exact) entry.exact |= bit;
    }
  }
  std::sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
    for (std::size_t k = 0; k < imaged; ++k) {
      const unsigned bit = 1U << k;
      if ((a.valid & bit) != (b.valid & bit)) return (b.valid & bit) != 0;
      if ((a.valid & bit) == 0 || a.image[k] != b.image[k]) {
        if (a.image[k] != b.image[k]) return a.image[k] < b.image[k];
        continue;
      }
      if ((a.exact & b.exact & bit) != 0) continue;
      if (const int order = compare_values(*keys_[k].column, a.row, b.row); order != 0) {
        return order < 0;
      }
    }
    for (std::size_t k = imaged; k < keys_.size(); ++k) {
      const Key& key = keys_[k];
      if (key.null[a.row] || key.null[b.row]) {
        if (key.null[a.row] != key.null[b.row]) return static_cast<bool>(key.null[a.row]);
        continue;
      }
      if (const int order = compare_values(*key.column, a.row, b.row); order != 0) {
        return order < 0;
      }
    }
    return a.row < b.row;
  });
  std::vector<std::uint32_t> order(rows_);
  for (std::size_t i = 0; i < rows_; ++i) order[i] = entries[i].row;
  return order;
}

namespace {

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

}  // namespace

void append_row(const Column& source, std::size_t row, Column& destination) {
  if (source.is_valid(row)) {
    append_value(source, row, destination);
  } else {
    destination.append_null();
  }
}

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
