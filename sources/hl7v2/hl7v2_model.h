// What the HL7 v2 tables hold: the segment definitions (fields, their data types and whether they
// repeat, after HL7 v2.8, which every version from 2.3 on is a subset of), the composite data
// types (their components), the Spark schema each table gets, and the JSON record of each segment
// and message.
//
// Field values (see DESIGN.md, "Tables"):
//   * a primitive field (ST, ID, NM, DTM, TS...) is a string: its first component, escapes
//     resolved (HL7 has receivers ignore components they do not expect);
//   * a composite field (CWE, XPN, CX...) is a struct of its components; a component that is a
//     composite itself (CX-4, an HD) is a struct of its subcomponents;
//   * a repeating field is an array of those, one element per repetition (an empty repetition is
//     null); a non-repeating field keeps its first repetition;
//   * a field typed "varies" (OBX-5) and every field of a segment without a definition
//     (Z-segments) is array (repetitions) of array (components) of array (subcomponents) of
//     string: every value, in place;
//   * an empty field is null; HL7's explicit null `""` is kept as the two characters.
// Every row also has `raw_segment`, the segment as written.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "er7.h"
#include "lakeflow/types.h"

namespace lakeflow::hl7v2 {

// Fields of a segment without a definition (Z-segments) are columns field_1 .. field_N.
inline constexpr std::size_t kGenericFieldCount = 25;

// The IDs of the segments with a definition, in the order the tables are listed.
const std::vector<std::string>& defined_segments();

// Where a message came from, and what its header says, for the columns every row has.
struct MessageInfo {
  std::string_view source_file;  // path relative to the connection's `path`
  std::uint64_t position = 0;    // byte offset of the message in the file
  std::string control_id;        // MSH-10, decoded
  std::string version;           // MSH-12.1, decoded
  std::string message_type;      // MSH-9 as written (`ADT^A01^ADT_A01`), decoded per component
  Charset charset = Charset::kUtf8;
};

// Reads the header fields every row carries from `message` (parsed, so MSH is its first segment).
MessageInfo message_info(const Message& message, std::string_view source_file,
                         std::uint64_t position);

// The schema of the table of segment `segment_id` (defined, or the generic field_N form).
StructType segment_schema(std::string_view segment_id);
// The schema of the `messages` table.
StructType messages_schema();
// The schema of the `malformed_messages` table.
StructType malformed_schema();

// Appends the JSON record of `message.segments[index]` (index 0 is MSH) to `out`.
void append_segment_record(const Message& message, std::size_t index, const MessageInfo& info,
                           std::string& out);
// Appends the JSON record of the `messages` table for `message`; `raw` is its text as written.
void append_message_record(const Message& message, const MessageInfo& info, std::string_view raw,
                           std::string& out);
// Appends the JSON record of the `malformed_messages` table.
void append_malformed_record(std::string_view source_file, std::uint64_t position,
                             std::string_view reason, std::string_view raw, std::string& out);

// HL7's date/time (DTM, TS component 1: YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]) as an
// ISO-8601 instant with its offset (`2024-01-15T12:30:00.5-05:00`), or empty when the text has no
// offset or is not a date/time. Missing parts of a shorter value are the start of the period.
std::string dtm_to_iso_instant(std::string_view dtm);

}  // namespace lakeflow::hl7v2
