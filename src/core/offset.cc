// Offset parsing: the only place an offset's shape is checked.
#include "lakeflow/offset.h"

#include <fmt/format.h>

#include "lakeflow/error.h"

namespace lakeflow {

Offset Offset::parse(std::string_view json) {
  JsonValue value = JsonValue::parse(json, "offset");
  if (!value.is_object() && !value.is_null()) {
    std::string text = value.dump();
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    throw ConfigError(
        fmt::format("offset must be a JSON object or null, got {}; pass an offset such as "
                    "{{\"cursor\":\"...\"}}",
                    text));
  }
  return Offset(std::move(value));
}

}  // namespace lakeflow
