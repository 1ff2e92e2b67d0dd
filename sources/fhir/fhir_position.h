// Where an incremental read over `meta.lastUpdated` stands, exactly.
//
// Many resources can share one lastUpdated (a bulk load gives thousands the same instant), and a
// FHIR search can only filter on the instant (`_lastUpdated=ge...`), not on a (lastUpdated, id)
// pair. So the position is the greatest lastUpdated delivered plus the ids of every resource
// delivered with exactly that lastUpdated: a resumed read asks for `ge` that instant and skips
// those ids. Nothing at the boundary is skipped (as a strict `gt` would) or delivered twice,
// whatever order the server returns ties in. The id list only holds the ties of the last instant.
//
// Offset form: {"cursor": "<lastUpdated as the server sent it>", "ids": ["a", "b"]} (ids sorted).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/offset.h"

namespace lakeflow::fhir {

class TiePosition {
 public:
  TiePosition() = default;
  // Reads an offset this class wrote ({} is the start). Throws ConfigError naming `what` (e.g.
  // "offset of table 'Patient'") when the offset is not one.
  static TiePosition from_offset(const Offset& offset, std::string_view what);
  Offset to_offset() const;

  bool started() const { return micros_.has_value(); }
  const std::string& cursor() const { return cursor_; }  // empty before the first resource
  std::optional<std::int64_t> cursor_micros() const { return micros_; }
  const std::vector<std::string>& ids() const { return ids_; }

  // True when the resource (lastUpdated `micros`, `id`) lies at or before this position, i.e. was
  // delivered already.
  bool covers(std::int64_t micros, std::string_view id) const;
  // Records that the resource was delivered. Resources must come in lastUpdated order: one older
  // than the cursor throws Error(kInternal).
  void advance(std::string_view last_updated, std::int64_t micros, std::string_view id);

 private:
  std::string cursor_;
  std::optional<std::int64_t> micros_;
  std::vector<std::string> ids_;  // sorted, unique
};

}  // namespace lakeflow::fhir
