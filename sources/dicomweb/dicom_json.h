// The DICOM JSON model (DICOM PS3.18 annex F) as QIDO-RS and WADO-RS answer: an object per
// resource, keyed by eight upper-case hex digits per attribute tag ("0020000D"), each attribute an
// object with its value representation ("vr") and either "Value" (an array: several values for a
// multi-valued attribute), "BulkDataURI" (where a large value can be fetched) or "InlineBinary"
// (base64), or none of them for an empty attribute.
//
// This file turns one such object into the named members of a table row. A column names one
// attribute and how its values are read:
//   kText        a single-valued string attribute (DA, TM, DT, UI, CS, SH, LO, ...): the value
//   kInteger     a single-valued integer attribute (IS, US, UL, SS, SL): the value, as sent
//   kDecimal     a single-valued decimal attribute (DS, FL, FD): the value, as sent
//   kPersonName  a PN attribute: {"alphabetic", "ideographic", "phonetic"}, the component groups
//   kTextList, kDecimalList
//                a multi-valued attribute: the array of its values, nulls kept in place
// An attribute present without a value is "" (text) or [] (lists), as its zero-length DICOM value.
// Values are copied as the server wrote them (numbers keep their text), never converted: the
// framework converts them to the column's type and reports what does not fit. What cannot be
// told apart from a value is never dropped: a single-valued column whose attribute arrives with
// several values gets the array (a string column holds its JSON text, a numeric one refuses it as
// a bad record), and an attribute sent as BulkDataURI or InlineBinary gets
// {"BulkDataURI": "..."} / {"InlineBinary": "..."} (its JSON text in a string column).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lakeflow::dicomweb {

enum class ValueKind : std::uint8_t {
  kText,
  kInteger,
  kDecimal,
  kPersonName,
  kTextList,
  kDecimalList,
};

struct Attribute {
  std::uint32_t tag;         // (group << 16) | element
  std::string_view column;   // snake_case column name
  std::string_view keyword;  // the DICOM keyword (PS3.6), for column comments
  std::string_view vr;       // the value representation PS3.6 gives it
  ValueKind kind;
};

// "0020000D" -> 0x0020000D; nullopt-like 0xFFFFFFFF... is never a tag we read, so a key that is
// not eight hex digits returns kNoTag.
inline constexpr std::uint32_t kNoTag = 0xFFFFFFFFu;
std::uint32_t parse_tag(std::string_view key);
// 0x0020000D -> "(0020,000D)".
std::string format_tag(std::uint32_t tag);

// What one DICOM JSON object gave.
struct ObjectMembers {
  // `"column":value` members separated by commas (no braces), for RecordBatch::append_with_members.
  std::string members;
  // The value of `key_tag` as the server wrote it (a UID); empty when the object lacks it.
  std::string key;
};

// Reads the DICOM JSON object `object` (a view into a buffer with at least `padding` readable
// bytes after it, e.g. a page body a RecordBatch adopted) and builds the members of `columns` that
// it holds; `key_tag` names the attribute whose value is the resource's identity. An attribute
// present without a value (a zero-length value) is "" in a text column and [] in a list column,
// null otherwise; an absent attribute is null, except `always_tag`'s column, which is "" then
// (a column every row must have a value in, such as the cursor). Throws SourceError naming `what`
// when the text is not a DICOM JSON object.
ObjectMembers read_object(std::string_view object, std::size_t padding,
                          std::span<const Attribute> columns, std::uint32_t key_tag,
                          std::string_view what, std::uint32_t always_tag = kNoTag);

// The first value of attribute `tag` in the DICOM JSON object `object` as text (a UID), "" when
// it has none. Throws as read_object does.
std::string text_value(std::string_view object, std::size_t padding, std::uint32_t tag,
                       std::string_view what);

// The elements of the JSON array `body` (a QIDO-RS answer: an array of DICOM JSON objects), as
// views into it, in order. `body` must have `padding` readable bytes after it (simdjson's). An
// empty body is an empty array (some servers answer 204 or nothing). Throws SourceError naming
// `what` when the body is not a JSON array of objects.
std::vector<std::string_view> split_objects(std::string_view body, std::size_t padding,
                                            std::string_view what);

}  // namespace lakeflow::dicomweb
