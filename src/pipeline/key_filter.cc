#include "pipeline/key_filter.h"

#include <algorithm>
#include <utility>

#include "lakeflow/error.h"

namespace lakeflow::pipeline {
namespace {

// Types whose Delta statistics order values as keys compare (destination::ColumnRange).
bool orders_as_keys(const DataType& type) {
  switch (type.id()) {
    case TypeId::kLong:
    case TypeId::kInteger:
    case TypeId::kShort:
    case TypeId::kByte:
    case TypeId::kString:
    case TypeId::kDate:
    case TypeId::kTimestamp:
    case TypeId::kTimestampNtz:
      return true;
    default:
      return false;
  }
}

// The least byte string above every string that begins with `prefix`; nullopt when there is none
// (an empty prefix, or one of 0xFF bytes only).
std::optional<std::string> successor_of_prefix(std::string prefix) {
  while (!prefix.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(prefix.back());
    if (last != 0xFF) {
      ++last;
      return prefix;
    }
    prefix.pop_back();
  }
  return std::nullopt;
}

// `text` without its last UTF-8 character (continuation bytes are 10xxxxxx).
std::string without_last_character(const std::string& text) {
  std::size_t end = text.size();
  while (end > 0 && (static_cast<unsigned char>(text[end - 1]) & 0xC0) == 0x80) --end;
  if (end > 0) --end;
  return text.substr(0, end);
}

std::optional<TypedValue> read_bound(const std::optional<std::string>& json, const DataType& type) {
  if (!json) return std::nullopt;
  try {
    TypedValue value = TypedValue::read(*json, type);
    if (value.is_null()) return std::nullopt;
    return value;
  } catch (const Error&) {
    return std::nullopt;  // a bound that does not read excludes nothing
  }
}

}  // namespace

KeyFilter::KeyFilter(std::vector<MergeEngine::Column> columns,
                     std::vector<std::vector<TypedValue>> keys)
    : columns_(std::move(columns)), keys_(std::move(keys)) {
  for (std::size_t i = 0; i < columns_.size(); ++i) {
    if (orders_as_keys(columns_[i].type)) used_.push_back(i);
  }
  if (used_.empty()) return;
  const std::size_t first = used_.front();
  std::sort(keys_.begin(), keys_.end(),
            [first](const auto& a, const auto& b) { return a[first] < b[first]; });
}

KeyFilter::Bounds KeyFilter::bounds_of(std::size_t column,
                                       const destination::ColumnRange& range) const {
  const DataType& type = columns_[column].type;
  Bounds out;
  out.min = read_bound(range.min, type);
  std::optional<TypedValue> max = read_bound(range.max, type);
  if (max && range.max_cut && max->string_value() != nullptr) {
    out.below = successor_of_prefix(without_last_character(*max->string_value()));
  } else {
    out.max = std::move(max);
  }
  return out;
}

bool KeyFilter::within(const TypedValue& value, const Bounds& bounds) {
  if (bounds.min && value < *bounds.min) return false;
  if (bounds.max && *bounds.max < value) return false;
  if (bounds.below && value.string_value() != nullptr && !(*value.string_value() < *bounds.below)) {
    return false;
  }
  return true;
}

bool KeyFilter::may_hold(const std::vector<destination::ColumnRange>& ranges) const {
  if (used_.empty()) return true;
  if (ranges.size() != used_.size()) {
    throw Error(ErrorCode::kInternal, "KeyFilter::may_hold: one range per used key column");
  }
  std::vector<Bounds> bounds;
  bounds.reserve(used_.size());
  for (std::size_t i = 0; i < used_.size(); ++i) bounds.push_back(bounds_of(used_[i], ranges[i]));

  // Keys are sorted by the first used column, so the ones inside its range are contiguous.
  const std::size_t first = used_.front();
  auto it = keys_.begin();
  if (bounds[0].min) {
    it = std::lower_bound(
        keys_.begin(), keys_.end(), *bounds[0].min,
        [first](const auto& key, const TypedValue& min) { return key[first] < min; });
  }
  for (; it != keys_.end() && within((*it)[first], bounds[0]); ++it) {
    bool inside = true;
    for (std::size_t i = 1; i < used_.size() && inside; ++i) {
      inside = within((*it)[used_[i]], bounds[i]);
    }
    if (inside) return true;
  }
  return false;
}

}  // namespace lakeflow::pipeline
