#include "pg_values.h"

#include <fmt/format.h>

#include <string>

#include "lakeflow/error.h"
#include "lakeflow/http/encoding.h"
#include "lakeflow/json.h"
#include "pg_client.h"

namespace lakeflow::postgres {
namespace {

using Kind = ValueCodec::Kind;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A timestamp's text with the date and time joined by `T` (ISO 8601), the UTC offset `+00` as Z.
void append_timestamp(std::string& out, std::string_view text, bool with_zone) {
  std::string value(text);
  if (value.size() > 10 && value[10] == ' ') value[10] = 'T';
  if (with_zone && value.ends_with("+00")) {
    value.resize(value.size() - 3);
    value += 'Z';
  }
  append_json_string(out, value, false);
}

std::shared_ptr<const ValueCodec> make(Kind kind, DataType type,
                                       std::shared_ptr<const ValueCodec> element = nullptr) {
  auto codec = std::make_shared<ValueCodec>();
  codec->kind = kind;
  codec->type = std::move(type);
  codec->element = std::move(element);
  return codec;
}

}  // namespace

void ValueCodec::append_json(std::string& out, std::string_view text) const {
  switch (kind) {
    case Kind::kNumber:
      // numeric's NaN/Infinity are not numbers: as strings the converter rejects them by name.
      if (text.empty() || (text[0] != '-' && (text[0] < '0' || text[0] > '9'))) {
        append_json_string(out, text, false);
      } else {
        out += text;
      }
      return;
    case Kind::kFloat:
      if (text == "NaN" || text == "Infinity" || text == "-Infinity") {
        append_json_string(out, text, false);
      } else {
        out += text;
      }
      return;
    case Kind::kBoolean:
      if (text == "t") {
        out += "true";
      } else if (text == "f") {
        out += "false";
      } else {
        append_json_string(out, text, false);
      }
      return;
    case Kind::kBytes: {
      // bytea_output=hex: `\x` then two hex digits a byte.
      if (!text.starts_with("\\x") || text.size() % 2 != 0) {
        throw SourceError("postgres: a bytea value is not in hex output form (bytea_output=hex)");
      }
      std::string bytes;
      bytes.reserve((text.size() - 2) / 2);
      for (std::size_t i = 2; i < text.size(); i += 2) {
        const int high = hex_digit(text[i]);
        const int low = hex_digit(text[i + 1]);
        if (high < 0 || low < 0) throw SourceError("postgres: a bytea value holds a non-hex digit");
        bytes += static_cast<char>(high * 16 + low);
      }
      out += '"';
      out += http::base64_encode(bytes);
      out += '"';
      return;
    }
    case Kind::kTimestamp:
      append_timestamp(out, text, true);
      return;
    case Kind::kTimestampNtz:
      append_timestamp(out, text, false);
      return;
    case Kind::kArray:
      if (!append_array_json(out, text, *element)) {
        throw SourceError(
            fmt::format("postgres: an array value is not in PostgreSQL's array text form: {}",
                        text.substr(0, 60)));
      }
      return;
    case Kind::kDate:
    case Kind::kString:
      append_json_string(out, text, false);
      return;
  }
}

std::optional<DataType> decimal_for_numeric(int typmod) {
  if (typmod < 4) return std::nullopt;  // unconstrained numeric
  const int precision = ((typmod - 4) >> 16) & 0xffff;
  int scale = (typmod - 4) & 0x7ff;
  if (scale & 0x400) scale -= 0x800;  // PostgreSQL 15 allows scales in [-1000, 1000]
  // Digits left of the point: precision - scale (more than precision for a negative scale);
  // digits right of it: the scale, when positive.
  const int integer_digits = std::max(precision - scale, 0);
  const int fraction_digits = std::max(scale, 0);
  const int total = integer_digits + fraction_digits;
  if (total > 38 || total < 1) return std::nullopt;
  return DataType::Decimal(total, fraction_digits);
}

bool append_array_json(std::string& out, std::string_view text, const ValueCodec& element) {
  std::size_t i = 0;
  // Non-default bounds are written as a prefix: `[0:2]={1,2,3}`.
  if (!text.empty() && text[0] == '[') {
    const std::size_t equals = text.find('=');
    if (equals == std::string_view::npos) return false;
    i = equals + 1;
  }
  if (i >= text.size() || text[i] != '{') return false;
  int depth = 0;
  bool expect_value = true;
  std::string item;
  while (i < text.size()) {
    const char c = text[i];
    if (c == '{') {
      if (!expect_value) return false;
      out += '[';
      ++depth;
      ++i;
      if (i < text.size() && text[i] == '}') {
        // An empty array: `{}`.
        continue;
      }
      continue;
    }
    if (c == '}') {
      out += ']';
      --depth;
      ++i;
      expect_value = false;
      if (depth == 0) return i == text.size();
      continue;
    }
    if (c == ',') {
      out += ',';
      ++i;
      expect_value = true;
      continue;
    }
    // One element: quoted ("..." with backslash escapes) or bare (NULL means null).
    item.clear();
    bool quoted = false;
    if (c == '"') {
      quoted = true;
      ++i;
      while (i < text.size() && text[i] != '"') {
        if (text[i] == '\\' && i + 1 < text.size()) ++i;
        item += text[i++];
      }
      if (i >= text.size()) return false;
      ++i;  // the closing quote
    } else {
      while (i < text.size() && text[i] != ',' && text[i] != '}') item += text[i++];
    }
    if (!quoted && (item == "NULL" || item == "null" || item == "Null")) {
      out += "null";
    } else {
      element.append_json(out, item);
    }
    expect_value = false;
  }
  return false;
}

const TypeMapper::TypeRow& TypeMapper::lookup(std::uint32_t oid) {
  auto found = types_.find(oid);
  if (found != types_.end()) return found->second;
  const PgResult result = connection_.query(
      "reading the catalog's types",
      "SELECT typname, typtype, typcategory, typbasetype, typtypmod, typelem FROM pg_type "
      "WHERE oid = $1::oid",
      {std::to_string(oid)});
  TypeRow row;
  if (result.rows() == 1) {
    row.name = result.text(0, 0);
    row.type = result.value(0, 1).empty() ? 'b' : result.value(0, 1)[0];
    row.category = result.value(0, 2).empty() ? 'U' : result.value(0, 2)[0];
    row.base = static_cast<std::uint32_t>(std::stoul(result.text(0, 3)));
    row.base_typmod = std::stoi(result.text(0, 4));
    row.element =
        row.category == 'A' ? static_cast<std::uint32_t>(std::stoul(result.text(0, 5))) : 0;
  }
  return types_.emplace(oid, std::move(row)).first->second;
}

std::shared_ptr<const ValueCodec> TypeMapper::codec(std::uint32_t oid, int typmod) {
  const auto key = std::make_pair(oid, typmod);
  if (auto found = codecs_.find(key); found != codecs_.end()) return found->second;
  std::shared_ptr<const ValueCodec> codec;
  const TypeRow row = lookup(oid);
  if (row.type == 'd' && row.base != 0) {
    codec = this->codec(row.base, typmod >= 0 ? typmod : row.base_typmod);
  } else if (row.element != 0) {
    auto element = this->codec(row.element, typmod);
    codec = make(Kind::kArray, DataType::Array(element->type, true), element);
  } else if (row.name == "int2" || row.name == "int4" || row.name == "int8" || row.name == "oid" ||
             row.name == "xid8") {
    codec = make(Kind::kNumber, DataType::Long());
  } else if (row.name == "numeric") {
    if (auto decimal = decimal_for_numeric(typmod)) {
      codec = make(Kind::kNumber, *decimal);
    } else {
      codec = make(Kind::kString, DataType::String());
    }
  } else if (row.name == "float4") {
    codec = make(Kind::kFloat, DataType::Float());
  } else if (row.name == "float8") {
    codec = make(Kind::kFloat, DataType::Double());
  } else if (row.name == "bool") {
    codec = make(Kind::kBoolean, DataType::Boolean());
  } else if (row.name == "bytea") {
    codec = make(Kind::kBytes, DataType::Binary());
  } else if (row.name == "date") {
    codec = make(Kind::kDate, DataType::Date());
  } else if (row.name == "timestamp") {
    codec = make(Kind::kTimestampNtz, DataType::TimestampNtz());
  } else if (row.name == "timestamptz") {
    codec = make(Kind::kTimestamp, DataType::Timestamp());
  } else {
    // text, varchar, bpchar, name, uuid, json, jsonb, time, timetz, interval, enums, money, inet,
    // ranges, composites, anything else: the server's text form.
    codec = make(Kind::kString, DataType::String());
  }
  codecs_.emplace(key, codec);
  return codec;
}

}  // namespace lakeflow::postgres
