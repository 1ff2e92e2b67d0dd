#include "fhir_position.h"

#include <fmt/format.h>

#include <algorithm>

#include "lakeflow/error.h"
#include "lakeflow/instant.h"

namespace lakeflow::fhir {

TiePosition TiePosition::from_offset(const Offset& offset, std::string_view what) {
  TiePosition position;
  if (offset.empty()) return position;
  auto bad = [&](std::string_view problem) {
    return ConfigError(
        fmt::format("fhir: {} is not an offset this connector wrote ({}): {}; expected "
                    "{{\"cursor\": \"<instant>\", \"ids\": [\"<id>\", ...]}} or {{\"cursor\": "
                    "\"<instant>\", \"complete\": true}}, or start from {{}}",
                    what, problem, offset.to_json()));
  };
  const JsonValue* cursor = offset.find("cursor");
  if (cursor == nullptr || !cursor->is_string()) throw bad("no string \"cursor\"");
  const std::optional<std::int64_t> micros = parse_instant(cursor->as_string());
  if (!micros) throw bad("\"cursor\" is not an instant");
  position.cursor_ = cursor->as_string();
  position.micros_ = micros;
  if (const JsonValue* ids = offset.find("ids"); ids != nullptr) {
    if (!ids->is_array()) throw bad("\"ids\" is not an array");
    for (const JsonValue& id : ids->as_array()) {
      if (!id.is_string()) throw bad("\"ids\" holds a value that is not a string");
      position.ids_.push_back(id.as_string());
    }
    std::sort(position.ids_.begin(), position.ids_.end());
    position.ids_.erase(std::unique(position.ids_.begin(), position.ids_.end()),
                        position.ids_.end());
  }
  if (const JsonValue* complete = offset.find("complete"); complete != nullptr) {
    if (!complete->is_bool()) throw bad("\"complete\" is not true or false");
    position.complete_ = complete->as_bool();
    if (position.complete_ && !position.ids_.empty()) throw bad("a complete cursor lists ids");
  }
  for (const auto& [key, value] : offset.value().as_object()) {
    if (key != "cursor" && key != "ids" && key != "complete") {
      throw bad(fmt::format("unknown field \"{}\"", key));
    }
  }
  return position;
}

Offset TiePosition::to_offset() const {
  if (!micros_) return Offset();
  if (complete_) return Offset(JsonValue::Object{{"cursor", cursor_}, {"complete", true}});
  JsonValue::Array ids(ids_.begin(), ids_.end());
  return Offset(JsonValue::Object{{"cursor", cursor_}, {"ids", std::move(ids)}});
}

bool TiePosition::covers(std::int64_t micros, std::string_view id) const {
  if (!micros_ || micros > *micros_) return false;
  if (micros < *micros_ || complete_) return true;
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

std::optional<std::int64_t> TiePosition::search_from() const {
  if (!micros_) return std::nullopt;
  return complete_ ? *micros_ + precision_micros(cursor_) : *micros_;
}

bool TiePosition::complete_before(std::int64_t cap_micros) {
  if (micros_ && !complete_ && *micros_ + precision_micros(cursor_) <= cap_micros) {
    complete_ = true;
    ids_.clear();
  }
  return complete_;
}

std::int64_t precision_micros(std::string_view text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string_view::npos) return 1000000;
  std::size_t digits = 0;
  while (dot + 1 + digits < text.size() && text[dot + 1 + digits] >= '0' &&
         text[dot + 1 + digits] <= '9') {
    ++digits;
  }
  std::int64_t precision = 1000000;
  for (std::size_t i = 0; i < digits && precision > 1; ++i) precision /= 10;
  return precision;
}

void TiePosition::advance(std::string_view last_updated, std::int64_t micros, std::string_view id) {
  if (micros_ && micros < *micros_) {
    throw Error(ErrorCode::kInternal,
                fmt::format("fhir: resource '{}' (lastUpdated {}) is older than the position {}",
                            id, last_updated, cursor_));
  }
  if (!micros_ || micros > *micros_) {
    cursor_ = std::string(last_updated);
    micros_ = micros;
    ids_.clear();
    complete_ = false;
  } else if (complete_) {
    throw Error(ErrorCode::kInternal,
                fmt::format("fhir: resource '{}' (lastUpdated {}) belongs to the tie group of {}, "
                            "which is complete",
                            id, last_updated, cursor_));
  }
  const auto at = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (at == ids_.end() || *at != id) ids_.insert(at, std::string(id));
}

}  // namespace lakeflow::fhir
