#include "fhir_position.h"

#include <fmt/format.h>

#include "lakeflow/instant.h"

namespace lakeflow::fhir {

TiePosition position_from_offset(const Offset& offset, std::string_view what) {
  return TiePosition::from_offset(offset, fmt::format("fhir: {}", what),
                                  [](std::string_view text) { return parse_instant(text); });
}

std::optional<std::int64_t> search_from(const TiePosition& position) {
  if (!position.order()) return std::nullopt;
  return position.complete() ? *position.order() + precision_micros(position.cursor())
                             : *position.order();
}

bool complete_before(TiePosition& position, std::int64_t cap_micros) {
  if (position.order() && !position.complete() &&
      *position.order() + precision_micros(position.cursor()) <= cap_micros) {
    position.mark_complete();
  }
  return position.complete();
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

}  // namespace lakeflow::fhir
