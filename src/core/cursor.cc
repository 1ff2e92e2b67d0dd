#include "lakeflow/cursor.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "lakeflow/error.h"

namespace lakeflow {

TieCursor TieCursor::from_offset(const Offset& offset, std::string_view what,
                                 const OrderOf& order_of) {
  TieCursor position;
  if (offset.empty()) return position;
  auto bad = [&](std::string_view problem) {
    return ConfigError(
        fmt::format("{} is not an offset this connector wrote ({}): {}; expected "
                    "{{\"cursor\": \"<value>\", \"ids\": [\"<id>\", ...]}} or {{\"cursor\": "
                    "\"<value>\", \"complete\": true}}, or start from {{}}",
                    what, problem, offset.to_json()));
  };
  const JsonValue* cursor = offset.find("cursor");
  if (cursor == nullptr || !cursor->is_string()) throw bad("no string \"cursor\"");
  const std::optional<std::int64_t> order = order_of(cursor->as_string());
  if (!order) throw bad("\"cursor\" is not a value of the cursor field");
  position.cursor_ = cursor->as_string();
  position.order_ = order;
  if (const JsonValue* ids = offset.find("ids"); ids != nullptr) {
    if (!ids->is_array()) throw bad("\"ids\" is not an array");
    for (const JsonValue& id : ids->as_array()) {
      if (!id.is_string()) throw bad("\"ids\" holds a value that is not a string");
      position.ties_.push_back(id.as_string());
    }
    std::sort(position.ties_.begin(), position.ties_.end());
    position.ties_.erase(std::unique(position.ties_.begin(), position.ties_.end()),
                         position.ties_.end());
  }
  if (const JsonValue* complete = offset.find("complete"); complete != nullptr) {
    if (!complete->is_bool()) throw bad("\"complete\" is not true or false");
    position.complete_ = complete->as_bool();
    if (position.complete_ && !position.ties_.empty()) throw bad("a complete cursor lists ids");
  }
  for (const auto& [key, value] : offset.value().as_object()) {
    if (key != "cursor" && key != "ids" && key != "complete") {
      throw bad(fmt::format("unknown field \"{}\"", key));
    }
  }
  return position;
}

Offset TieCursor::to_offset() const {
  if (!order_) return Offset();
  if (complete_) return Offset(JsonValue::Object{{"cursor", cursor_}, {"complete", true}});
  JsonValue::Array ids(ties_.begin(), ties_.end());
  return Offset(JsonValue::Object{{"cursor", cursor_}, {"ids", std::move(ids)}});
}

bool TieCursor::covers(std::int64_t order, std::string_view key) const {
  if (!order_ || order > *order_) return false;
  if (order < *order_ || complete_) return true;
  return std::binary_search(ties_.begin(), ties_.end(), key);
}

void TieCursor::advance(std::string_view value, std::int64_t order, std::string_view key) {
  if (order_ && order < *order_) {
    throw Error(ErrorCode::kInternal,
                fmt::format("record '{}' (cursor {}) comes before the position {}: records must "
                            "be delivered in cursor order",
                            key, value, cursor_));
  }
  if (!order_ || order > *order_) {
    cursor_ = std::string(value);
    order_ = order;
    ties_.clear();
    complete_ = false;
  } else if (complete_) {
    throw Error(ErrorCode::kInternal,
                fmt::format("record '{}' (cursor {}) belongs to the group of {}, which is complete",
                            key, value, cursor_));
  }
  const auto at = std::lower_bound(ties_.begin(), ties_.end(), key);
  if (at == ties_.end() || *at != key) ties_.insert(at, std::string(key));
}

void TieCursor::mark_complete() {
  if (!order_) return;
  complete_ = true;
  ties_.clear();
}

}  // namespace lakeflow
