#include "lakeflow/instant.h"

#include <stdexcept>

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

std::string format_instant(std::int64_t micros_since_epoch, int fraction_digits) {
  if (fraction_digits < 0 || fraction_digits > 9) {
    throw std::invalid_argument("format_instant: fraction_digits must be in 0..9");
  }
  std::string out;
  text::append_timestamp(out, micros_since_epoch, /*utc=*/false);  // ...SS.ffffff
  const std::size_t dot = out.size() - 7;
  if (fraction_digits == 0) {
    out.resize(dot);
  } else if (fraction_digits <= 6) {
    out.resize(dot + 1 + static_cast<std::size_t>(fraction_digits));
  } else {
    out.append(static_cast<std::size_t>(fraction_digits - 6), '0');
  }
  out += 'Z';
  return out;
}

}  // namespace lakeflow
