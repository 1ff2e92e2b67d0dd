#include "lakeflow/instant.h"

#include "util/text.h"

namespace lakeflow {

std::optional<std::int64_t> parse_instant(std::string_view text) {
  const text::Parsed<std::int64_t> parsed =
      text::parse_timestamp(text, /*allow_offset=*/true, /*zone_less_offset=*/0);
  if (!parsed.ok()) return std::nullopt;
  return parsed.value;
}

std::string format_instant(std::int64_t micros_since_epoch) {
  std::string out;
  text::append_timestamp(out, micros_since_epoch, /*utc=*/true);
  return out;
}

}  // namespace lakeflow
