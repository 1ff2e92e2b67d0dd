// One read call of one HL7 v2 table, whatever holds the messages: walks the units (messages,
// batch envelopes, stray text; er7.h) of a file or of a message store's entry from a position and
// collects the table's records into a batch, up to the batch limit. Both sources of the connector
// (files, hl7v2_connector.h; a Cloud Healthcare API store, hl7v2_gcp_store.h) read through it, so
// a message becomes the same rows whichever way it arrived.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

#include "er7.h"
#include "lakeflow/connector.h"
#include "lakeflow/records.h"

namespace lakeflow::hl7v2 {

inline constexpr std::string_view kMessagesTable = "messages";
inline constexpr std::string_view kMalformedTable = "malformed_messages";

// ASCII case conversions, and whether `id` is a segment ID (three upper-case letters or digits).
std::string upper(std::string_view s);
std::string lower(std::string_view s);
bool is_segment_id(std::string_view id);

// What a table reads from each message.
struct TableKind {
  enum class Kind : std::uint8_t { kMessages, kMalformed, kSegment } kind;
  std::string segment_id;  // for kSegment
};

// The table's kind from its name and its `segment_type` option; also checks read_buffer_bytes.
// Throws ConfigError naming the table for a bad option.
TableKind table_kind(const TableContext& context);
// The table option read_buffer_bytes (1 .. 1 GiB, default 4 MiB), checked; throws ConfigError
// naming the table.
std::size_t buffer_bytes_option(const TableContext& context);
// The table option page_size (messages per page of a store's listing: 1 .. 1000, default 1000),
// checked; throws ConfigError naming the table.
std::int64_t page_size_option(const TableContext& context);

// Where a read in one file or entry ends: the byte offset of the next unit (or of the unit the
// batch filled in), the first segment of that unit still to read, and whether the batch is full.
struct UnitsEnd {
  std::uint64_t byte = 0;
  std::size_t segment = 0;
  bool full = false;
};

class TableRead {
 public:
  TableRead(const TableKind& table, std::int64_t max_records, std::size_t buffer_bytes,
            RecordBatch& batch)
      : table_(table), max_records_(max_records), buffer_bytes_(buffer_bytes), batch_(batch) {}

  // Reads file `name` (at `path`) from byte `at`, starting in the unit there at `first_segment`.
  // `last_file`: an unfinished MLLP frame at its end may still be being written, so the read stops
  // before it instead of calling it malformed. A position past the end reads nothing and stays.
  // Throws SourceError when the file cannot be read.
  UnitsEnd read_file(std::string_view name, const std::filesystem::path& path, std::uint64_t at,
                     std::size_t first_segment, bool last_file);

  // Reads the whole text `data` (one entry of a message store; its every unit is complete) from
  // byte `at`, starting in the unit there at `first_segment`; rows name `name` as their source.
  UnitsEnd read_text(std::string_view name, std::string_view data, std::uint64_t at,
                     std::size_t first_segment);

  // Adds a malformed_messages row for text that is not a message at all (`reason` says why), when
  // this is that table. Returns true when the batch is full afterwards.
  bool take_malformed(std::string_view name, std::uint64_t at, std::string_view reason,
                      std::string_view raw);

  bool full() const { return static_cast<std::int64_t>(batch_.size()) >= max_records_; }

 private:
  static constexpr std::size_t kAfterUnit = std::numeric_limits<std::size_t>::max();

  // Takes the units of `buffer` (the bytes of `name` from byte `base`) until the batch fills or a
  // unit may continue past the buffer. Returns the end when the read stops in the buffer; else
  // nullopt with `consumed` set to the bytes whose units were all taken.
  std::optional<UnitsEnd> take_units(std::string_view name, std::string_view buffer,
                                     std::uint64_t base, bool at_eof, bool last_file,
                                     std::size_t& first_segment, std::size_t& consumed);

  // Adds the table's records of `unit`. Returns nullopt when the batch has room for more, else
  // where the next read resumes in this unit: kAfterUnit for after it, k for its segment k on.
  std::optional<std::size_t> take(std::string_view name, const FileUnit& unit,
                                  std::uint64_t unit_at, std::size_t first_segment);

  const TableKind& table_;
  std::int64_t max_records_;
  std::size_t buffer_bytes_;
  RecordBatch& batch_;
  Message message_;
  std::string record_;
};

}  // namespace lakeflow::hl7v2
