#include "dicom_json.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "lakeflow/error.h"

namespace lakeflow::dicomweb {

namespace od = simdjson::ondemand;

namespace {

// simdjson's raw tokens of scalars may carry the whitespace that followed them.
std::string_view trim_end(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\n' || text.back() == '\r' ||
                           text.back() == '\t')) {
    text.remove_suffix(1);
  }
  return text;
}

simdjson::padded_string_view padded(std::string_view text, std::size_t padding) {
  return simdjson::padded_string_view(text.data(), text.size(), text.size() + padding);
}

// The JSON text of `value` as written (objects and arrays whole), trailing whitespace trimmed.
std::string_view raw(od::value value) {
  switch (value.type()) {
    case od::json_type::object:
      return trim_end(od::object(value.get_object()).raw_json().value());
    case od::json_type::array:
      return trim_end(od::array(value.get_array()).raw_json().value());
    default:
      return trim_end(value.raw_json_token());
  }
}

// The raw JSON of every element of a "Value" array, in order.
void collect_values(od::value value, std::vector<std::string_view>& out) {
  od::array array = value.get_array();
  for (auto element : array) out.push_back(raw(element.value()));
}

void append_person_name(std::string& out, std::string_view element, std::size_t padding,
                        od::parser& parser) {
  if (element.empty() || element.front() != '{') {
    out += element;  // not a PN object: kept as sent, the struct column reports it
    return;
  }
  od::document doc = parser.iterate(padded(element, padding));
  od::object groups = doc.get_object();
  std::string_view alphabetic = "null";
  std::string_view ideographic = "null";
  std::string_view phonetic = "null";
  for (auto field : groups) {
    const std::string_view key = field.unescaped_key();
    const std::string_view text = raw(field.value());
    if (key == "Alphabetic") {
      alphabetic = text;
    } else if (key == "Ideographic") {
      ideographic = text;
    } else if (key == "Phonetic") {
      phonetic = text;
    }
  }
  fmt::format_to(std::back_inserter(out), R"({{"alphabetic":{},"ideographic":{},"phonetic":{}}})",
                 alphabetic, ideographic, phonetic);
}

void append_value(std::string& out, const Attribute& column,
                  const std::vector<std::string_view>& values, std::size_t padding,
                  od::parser& person_parser) {
  const bool list = column.kind == ValueKind::kTextList || column.kind == ValueKind::kDecimalList;
  if (!list && values.size() == 1) {
    if (column.kind == ValueKind::kPersonName) {
      append_person_name(out, values.front(), padding, person_parser);
    } else {
      out += values.front();
    }
    return;
  }
  out.push_back('[');
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i != 0) out.push_back(',');
    if (column.kind == ValueKind::kPersonName) {
      append_person_name(out, values[i], padding, person_parser);
    } else {
      out += values[i];
    }
  }
  out.push_back(']');
}

// What a column holds for an attribute present without a value: the empty text of a zero-length
// string value, no values of a multi-valued one; nothing (null) for numbers and person names.
std::string_view empty_value(ValueKind kind) {
  switch (kind) {
    case ValueKind::kText:
      return R"("")";
    case ValueKind::kTextList:
    case ValueKind::kDecimalList:
      return "[]";
    default:
      return {};
  }
}

}  // namespace

std::uint32_t parse_tag(std::string_view key) {
  if (key.size() != 8) return kNoTag;
  std::uint32_t tag = 0;
  const auto [end, error] = std::from_chars(key.data(), key.data() + key.size(), tag, 16);
  if (error != std::errc() || end != key.data() + key.size()) return kNoTag;
  return tag;
}

std::string format_tag(std::uint32_t tag) {
  return fmt::format("({:04X},{:04X})", tag >> 16, tag & 0xFFFFu);
}

ObjectMembers read_object(std::string_view object, std::size_t padding,
                          std::span<const Attribute> columns, std::uint32_t key_tag,
                          std::string_view what, std::uint32_t always_tag) {
  bool always_seen = false;
  // One parser per thread for the object, one for the PN values inside it (a parser holds one
  // document at a time).
  thread_local od::parser parser;
  thread_local od::parser person_parser;
  ObjectMembers result;
  std::vector<std::string_view> values;
  try {
    od::document doc = parser.iterate(padded(object, padding));
    od::object attributes = doc.get_object();
    for (auto field : attributes) {
      const std::uint32_t tag = parse_tag(field.unescaped_key());
      const auto column = std::find_if(columns.begin(), columns.end(),
                                       [&](const Attribute& a) { return a.tag == tag; });
      if (column == columns.end()) continue;
      od::object attribute = field.value().get_object();
      values.clear();
      bool has_value = false;
      std::string bulk;  // {"BulkDataURI": ...} or {"InlineBinary": ...}
      for (auto part : attribute) {
        const std::string_view name = part.unescaped_key();
        if (name == "Value") {
          collect_values(part.value(), values);
          has_value = true;
        } else if (name == "BulkDataURI" || name == "InlineBinary") {
          bulk = fmt::format(R"({{"{}":{}}})", name, raw(part.value()));
        }
      }
      if (tag == key_tag && values.size() == 1 && values.front().size() >= 2 &&
          values.front().front() == '"') {
        result.key = values.front().substr(1, values.front().size() - 2);
      }
      std::string& out = result.members;
      if (has_value && !values.empty()) {
        if (!out.empty()) out.push_back(',');
        fmt::format_to(std::back_inserter(out), R"("{}":)", column->column);
        append_value(out, *column, values, padding, person_parser);
      } else if (!bulk.empty()) {
        if (!out.empty()) out.push_back(',');
        fmt::format_to(std::back_inserter(out), R"("{}":{})", column->column, bulk);
      } else if (const std::string_view empty = empty_value(column->kind); !empty.empty()) {
        // Present without a value: DICOM's zero-length value.
        if (!out.empty()) out.push_back(',');
        fmt::format_to(std::back_inserter(out), R"("{}":{})", column->column, empty);
      }
      if (tag == always_tag) always_seen = true;
    }
    if (always_tag != kNoTag && !always_seen) {
      const auto column = std::find_if(columns.begin(), columns.end(),
                                       [&](const Attribute& a) { return a.tag == always_tag; });
      if (column != columns.end()) {
        if (!result.members.empty()) result.members.push_back(',');
        fmt::format_to(std::back_inserter(result.members), R"("{}":"")", column->column);
      }
    }
  } catch (const simdjson::simdjson_error& error) {
    throw SourceError(fmt::format(
        "dicomweb: {} is not a DICOM JSON object ({}); the server answered something other than "
        "the DICOM JSON model (PS3.18 annex F)",
        what, error.what()));
  }
  return result;
}

std::string text_value(std::string_view object, std::size_t padding, std::uint32_t tag,
                       std::string_view what) {
  const Attribute only{tag, "value", "", "", ValueKind::kText};
  return read_object(object, padding, std::span<const Attribute>(&only, 1), tag, what).key;
}

std::vector<std::string_view> split_objects(std::string_view body, std::size_t padding,
                                            std::string_view what) {
  std::vector<std::string_view> objects;
  const auto first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return objects;
  thread_local od::parser parser;
  try {
    od::document doc = parser.iterate(padded(body, padding));
    od::array array = doc.get_array();
    for (auto element : array) {
      od::value value = element.value();
      if (value.type() != od::json_type::object) {
        throw SourceError(fmt::format(
            "dicomweb: {} holds an element that is not an object; a QIDO-RS answer is an array "
            "of DICOM JSON objects",
            what));
      }
      objects.push_back(trim_end(od::object(value.get_object()).raw_json().value()));
    }
  } catch (const simdjson::simdjson_error& error) {
    throw SourceError(fmt::format(
        "dicomweb: {} is not a JSON array ({}); a QIDO-RS answer is an array of DICOM JSON "
        "objects (is base_url the DICOMweb root, e.g. http://host:8042/dicom-web?)",
        what, error.what()));
  }
  return objects;
}

}  // namespace lakeflow::dicomweb
