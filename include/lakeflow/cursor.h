// Where a read in cursor order stands when many records share one cursor value: the shared
// "cursor with ties" offset of every cursor connector.
//
// A bulk load stamps thousands of records with one `updated_at`, so a batch limit can end a read
// in the middle of such a tie group. An offset holding only the cursor then either skips the rest
// of the group (the next read asks for records after the value) or repeats it (at or after). A
// TieCursor holds the greatest cursor value delivered plus the keys of every record delivered with
// exactly that value, so a resumed read
//   * asks the source for records at or after the value (or, where the source orders by
//     (cursor, key) and resumes strictly after a pair, after the value and the greatest key), and
//   * skips what `covers()` says was delivered:
// nothing at the boundary is skipped or delivered twice, whatever order the source returns ties
// in. Only the ties of the last value are kept. A group is `complete` once the read is known to
// have delivered all of it (it went past the value, or the value lies before the read cap); a
// complete cursor keeps no keys and the next read may ask strictly after the value.
//
// Each cursor value is kept as the source wrote it (`cursor()`, what a query sends back) with an
// integer that orders values (`order()`: microseconds of a timestamp, or the value of an integer
// cursor). Keys are text (a numeric id as its decimal digits).
//
// Offset forms (what to_offset() writes and from_offset() reads back):
//   {}                                            no record delivered yet
//   {"cursor": "<value>", "ids": ["<key>", ...]}  keys sorted, unique
//   {"cursor": "<value>", "complete": true}
//
// Not thread-safe; a value type.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/offset.h"

namespace lakeflow {

class TieCursor {
 public:
  // Maps a cursor value as written to its order; nullopt when the text is not a cursor value.
  using OrderOf = std::function<std::optional<std::int64_t>(std::string_view value)>;

  TieCursor() = default;

  // Reads an offset to_offset() wrote (`{}` is the start). `order_of` orders the cursor value
  // (parse_instant from lakeflow/instant.h for timestamps). Throws ConfigError beginning with
  // `what` (e.g. "fhir: the offset of table 'Patient'") and saying what a valid offset looks like.
  static TieCursor from_offset(const Offset& offset, std::string_view what,
                               const OrderOf& order_of);
  Offset to_offset() const;

  bool started() const { return order_.has_value(); }
  // The greatest cursor value delivered, as written; empty before the first record.
  const std::string& cursor() const { return cursor_; }
  std::optional<std::int64_t> order() const { return order_; }
  // The keys delivered at cursor(), sorted; empty when complete.
  const std::vector<std::string>& ties() const { return ties_; }
  bool complete() const { return complete_; }

  // True when the record (cursor order `order`, `key`) lies at or before this position, i.e. was
  // delivered already.
  bool covers(std::int64_t order, std::string_view key) const;
  // Records that the record was delivered. Records must come in cursor order: one before the
  // cursor, or one in a complete group, throws Error(kInternal).
  void advance(std::string_view value, std::int64_t order, std::string_view key);
  // Marks the group at cursor() complete: no record with this value is left to deliver.
  void mark_complete();

 private:
  std::string cursor_;
  std::optional<std::int64_t> order_;
  std::vector<std::string> ties_;  // sorted, unique; empty when complete
  bool complete_ = false;
};

}  // namespace lakeflow
