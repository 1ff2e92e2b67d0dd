// Spark SQL data types: construction, PySpark-compatible JSON, DDL and printSchema renderings.
#include "lakeflow/types.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cctype>
#include <optional>
#include <utility>

#include "lakeflow/error.h"
#include "lakeflow/json.h"

namespace lakeflow {

// Array: types = {element}. Map: types = {key, value}. Struct: fields.
struct DataType::Children {
  std::vector<DataType> types;
  std::vector<StructField> fields;
};

namespace {

// PySpark's typeName for every primitive; also the JSON and printSchema name.
struct PrimitiveName {
  TypeId id;
  std::string_view json;
  std::string_view simple;
  DataType (*make)();
};

constexpr std::array<PrimitiveName, 13> kPrimitives = {{
    {TypeId::kLong, "long", "bigint", &DataType::Long},
    {TypeId::kInteger, "integer", "int", &DataType::Integer},
    {TypeId::kShort, "short", "smallint", &DataType::Short},
    {TypeId::kByte, "byte", "tinyint", &DataType::Byte},
    {TypeId::kDouble, "double", "double", &DataType::Double},
    {TypeId::kFloat, "float", "float", &DataType::Float},
    {TypeId::kString, "string", "string", &DataType::String},
    {TypeId::kBoolean, "boolean", "boolean", &DataType::Boolean},
    {TypeId::kDate, "date", "date", &DataType::Date},
    {TypeId::kTimestamp, "timestamp", "timestamp", &DataType::Timestamp},
    {TypeId::kTimestampNtz, "timestamp_ntz", "timestamp_ntz", &DataType::TimestampNtz},
    {TypeId::kBinary, "binary", "binary", &DataType::Binary},
    {TypeId::kVariant, "variant", "variant", &DataType::Variant},
}};

const PrimitiveName* find_primitive(TypeId id) {
  for (const auto& p : kPrimitives) {
    if (p.id == id) return &p;
  }
  return nullptr;
}

bool valid_decimal(long precision, long scale) {
  return precision >= 1 && precision <= 38 && scale >= 0 && scale <= precision;
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// Spark's quoteIdentifier: always back-quoted, back-quotes doubled.
std::string quote_identifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    out += c;
    if (c == '`') out += '`';
  }
  out += '`';
  return out;
}

// The field's DDL suffix: ` NOT NULL` and ` COMMENT '...'` (Spark escapes only single quotes).
std::string ddl_suffix(const StructField& field) {
  std::string out = field.nullable ? "" : " NOT NULL";
  if (field.metadata_json == "{}") return out;
  const JsonValue metadata = JsonValue::parse(field.metadata_json, "field metadata");
  const JsonValue* comment = metadata.find("comment");
  if (comment == nullptr || !comment->is_string()) return out;
  out += " COMMENT '";
  for (char c : comment->as_string()) {
    if (c == '\'') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

std::string canonical_metadata(std::string_view text, std::string_view field_name) {
  if (text == "{}") return std::string(text);
  JsonValue metadata;
  try {
    metadata = JsonValue::parse(text, "field metadata");
  } catch (const ConfigError& e) {
    throw SchemaError(fmt::format("field '{}': {}", field_name, e.what()));
  }
  if (metadata.is_null()) return "{}";
  if (!metadata.is_object()) {
    throw SchemaError(fmt::format("field '{}': metadata must be a JSON object, got {}", field_name,
                                  text.substr(0, 60)));
  }
  return metadata.dump();
}

void append_json(std::string& out, const DataType& type);

void append_field_json(std::string& out, const StructField& field) {
  out += "{\"metadata\":";
  // metadata_json is canonical when built through the constructor; re-dump it in case a caller
  // assigned the member directly, so the output is always PySpark's bytes.
  if (field.metadata_json == "{}") {
    out += "{}";
  } else {
    out += canonical_metadata(field.metadata_json, field.name);
  }
  out += ",\"name\":";
  append_json_string(out, field.name);
  out += field.nullable ? ",\"nullable\":true,\"type\":" : ",\"nullable\":false,\"type\":";
  append_json(out, field.type);
  out += '}';
}

void append_json(std::string& out, const DataType& type) {
  switch (type.id()) {
    case TypeId::kStruct: {
      out += "{\"fields\":[";
      bool first = true;
      for (const StructField& field : type.fields()) {
        if (!first) out += ',';
        first = false;
        append_field_json(out, field);
      }
      out += "],\"type\":\"struct\"}";
      return;
    }
    case TypeId::kArray:
      out += type.contains_null() ? "{\"containsNull\":true,\"elementType\":"
                                  : "{\"containsNull\":false,\"elementType\":";
      append_json(out, type.element_type());
      out += ",\"type\":\"array\"}";
      return;
    case TypeId::kMap:
      out += "{\"keyType\":";
      append_json(out, type.key_type());
      out += type.value_contains_null() ? ",\"type\":\"map\",\"valueContainsNull\":true"
                                        : ",\"type\":\"map\",\"valueContainsNull\":false";
      out += ",\"valueType\":";
      append_json(out, type.value_type());
      out += '}';
      return;
    default:
      out += '"';
      out += type.tree_name();
      out += '"';
  }
}

// Spark's escapeMetaCharacters, applied to field names in printSchema output.
std::string escape_meta_characters(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\v':
        out += "\\v";
        break;
      case '\a':
        out += "\\a";
        break;
      default:
        out += c;
    }
  }
  return out;
}

void append_tree_children(std::string& out, const DataType& type, const std::string& prefix);

void append_tree_field(std::string& out, const StructField& field, const std::string& prefix) {
  out += fmt::format("{}-- {}: {} (nullable = {})\n", prefix, escape_meta_characters(field.name),
                     field.type.tree_name(), field.nullable);
  append_tree_children(out, field.type, prefix + "    |");
}

// Spark's DataType.buildFormattedString: nested types print their children one level deeper.
void append_tree_children(std::string& out, const DataType& type, const std::string& prefix) {
  switch (type.id()) {
    case TypeId::kStruct:
      for (const StructField& field : type.fields()) append_tree_field(out, field, prefix);
      return;
    case TypeId::kArray:
      out += fmt::format("{}-- element: {} (containsNull = {})\n", prefix,
                         type.element_type().tree_name(), type.contains_null());
      append_tree_children(out, type.element_type(), prefix + "    |");
      return;
    case TypeId::kMap:
      out += fmt::format("{}-- key: {}\n", prefix, type.key_type().tree_name());
      append_tree_children(out, type.key_type(), prefix + "    |");
      out += fmt::format("{}-- value: {} (valueContainsNull = {})\n", prefix,
                         type.value_type().tree_name(), type.value_contains_null());
      append_tree_children(out, type.value_type(), prefix + "    |");
      return;
    default:
      return;
  }
}

// --- Parsing PySpark's JSON ------------------------------------------------------------------

[[noreturn]] void fail(const std::string& path, std::string_view message) {
  if (path.empty()) throw SchemaError(fmt::format("invalid schema JSON: {}", message));
  throw SchemaError(fmt::format("invalid schema JSON at {}: {}", path, message));
}

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

const JsonValue& require(const JsonValue& object, std::string_view key, const std::string& path) {
  const JsonValue* value = object.find(key);
  if (value == nullptr) fail(path, fmt::format("missing \"{}\"", key));
  return *value;
}

bool require_bool(const JsonValue& object, std::string_view key, const std::string& path) {
  const JsonValue& value = require(object, key, path);
  if (!value.is_bool())
    fail(join(path, key),
         fmt::format("expected true or false, got {}", value.dump().substr(0, 60)));
  return value.as_bool();
}

constexpr std::string_view kKnownTypes =
    "long, integer, short, byte, double, float, decimal(p,s), string, boolean, date, timestamp, "
    "timestamp_ntz, binary, variant, or an array, map or struct object";

// Parses `decimal(p,s)` with optional blanks around the numbers (PySpark's _FIXED_DECIMAL).
std::optional<std::pair<long, long>> parse_decimal(std::string_view s) {
  constexpr std::string_view kPrefix = "decimal(";
  if (s.substr(0, kPrefix.size()) != kPrefix || s.empty() || s.back() != ')') return std::nullopt;
  s = s.substr(kPrefix.size(), s.size() - kPrefix.size() - 1);
  std::size_t i = 0;
  const auto skip_blanks = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  const auto number = [&](bool allow_sign) -> std::optional<long> {
    bool negative = false;
    if (allow_sign && i < s.size() && s[i] == '-') {
      negative = true;
      ++i;
    }
    const std::size_t start = i;
    long value = 0;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) {
      if (value < 1000) value = value * 10 + (s[i] - '0');  // clamp: anything >= 1000 is invalid
      ++i;
    }
    if (i == start) return std::nullopt;
    return negative ? -value : value;
  };
  skip_blanks();
  const auto precision = number(false);
  skip_blanks();
  if (!precision || i >= s.size() || s[i] != ',') return std::nullopt;
  ++i;
  skip_blanks();
  const auto scale = number(true);
  skip_blanks();
  if (!scale || i != s.size()) return std::nullopt;
  return std::pair{*precision, *scale};
}

DataType parse_type(const JsonValue& value, const std::string& path);

DataType parse_type_name(const std::string& name, const std::string& path) {
  for (const auto& p : kPrimitives) {
    if (p.json == name) return p.make();
  }
  if (name == "decimal") return DataType::Decimal(10, 0);
  if (auto decimal = parse_decimal(name)) {
    const auto [precision, scale] = *decimal;
    if (!valid_decimal(precision, scale)) {
      fail(path, fmt::format("invalid decimal type '{}': precision must be 1 to 38 and scale 0 to "
                             "the precision",
                             name));
    }
    return DataType::Decimal(static_cast<int>(precision), static_cast<int>(scale));
  }
  fail(path, fmt::format("unknown type '{}' (expected {})", name, kKnownTypes));
}

DataType parse_struct(const JsonValue& value, const std::string& path) {
  const std::string fields_path = join(path, "fields");
  const JsonValue& fields = require(value, "fields", path);
  if (!fields.is_array()) fail(fields_path, "expected an array of fields");
  std::vector<StructField> out;
  out.reserve(fields.as_array().size());
  for (std::size_t i = 0; i < fields.as_array().size(); ++i) {
    const JsonValue& field = fields.as_array()[i];
    const std::string field_path = fmt::format("{}[{}]", fields_path, i);
    if (!field.is_object()) fail(field_path, "expected a field object");
    const JsonValue& name = require(field, "name", field_path);
    if (!name.is_string()) fail(join(field_path, "name"), "expected a string");
    DataType type = parse_type(require(field, "type", field_path), join(field_path, "type"));
    const bool nullable =
        field.find("nullable") == nullptr ? true : require_bool(field, "nullable", field_path);
    std::string metadata = "{}";
    if (const JsonValue* m = field.find("metadata"); m != nullptr && !m->is_null()) {
      if (!m->is_object()) fail(join(field_path, "metadata"), "expected a JSON object");
      metadata = m->dump();
    }
    StructField parsed;
    parsed.name = name.as_string();
    parsed.type = std::move(type);
    parsed.nullable = nullable;
    parsed.metadata_json = std::move(metadata);  // already canonical
    out.push_back(std::move(parsed));
  }
  return StructType(std::move(out));
}

DataType parse_type(const JsonValue& value, const std::string& path) {
  if (value.is_string()) return parse_type_name(value.as_string(), path);
  if (!value.is_object()) {
    fail(path,
         fmt::format("expected a type name or a type object, got {}", value.dump().substr(0, 60)));
  }
  const JsonValue& kind = require(value, "type", path);
  if (!kind.is_string()) fail(join(path, "type"), "expected a string");
  const std::string& name = kind.as_string();
  if (name == "struct") return parse_struct(value, path);
  if (name == "array") {
    DataType element = parse_type(require(value, "elementType", path), join(path, "elementType"));
    return DataType::Array(std::move(element), require_bool(value, "containsNull", path));
  }
  if (name == "map") {
    DataType key = parse_type(require(value, "keyType", path), join(path, "keyType"));
    DataType item = parse_type(require(value, "valueType", path), join(path, "valueType"));
    return DataType::Map(std::move(key), std::move(item),
                         require_bool(value, "valueContainsNull", path));
  }
  fail(join(path, "type"),
       fmt::format("unknown type '{}' (expected \"struct\", \"array\" or \"map\")", name));
}

}  // namespace

// --- DataType ------------------------------------------------------------------------------------

DataType::DataType() : id_(TypeId::kString) {}

#define LAKEFLOW_PRIMITIVE(Name, Id) \
  DataType DataType::Name() {        \
    DataType t;                      \
    t.id_ = TypeId::Id;              \
    return t;                        \
  }
LAKEFLOW_PRIMITIVE(Long, kLong)
LAKEFLOW_PRIMITIVE(Integer, kInteger)
LAKEFLOW_PRIMITIVE(Short, kShort)
LAKEFLOW_PRIMITIVE(Byte, kByte)
LAKEFLOW_PRIMITIVE(Double, kDouble)
LAKEFLOW_PRIMITIVE(Float, kFloat)
LAKEFLOW_PRIMITIVE(String, kString)
LAKEFLOW_PRIMITIVE(Boolean, kBoolean)
LAKEFLOW_PRIMITIVE(Date, kDate)
LAKEFLOW_PRIMITIVE(Timestamp, kTimestamp)
LAKEFLOW_PRIMITIVE(TimestampNtz, kTimestampNtz)
LAKEFLOW_PRIMITIVE(Binary, kBinary)
LAKEFLOW_PRIMITIVE(Variant, kVariant)
#undef LAKEFLOW_PRIMITIVE

DataType DataType::Decimal(int precision, int scale) {
  if (!valid_decimal(precision, scale)) {
    throw SchemaError(fmt::format(
        "invalid decimal({},{}): precision must be 1 to 38 and scale 0 to the precision", precision,
        scale));
  }
  DataType t;
  t.id_ = TypeId::kDecimal;
  t.precision_ = static_cast<std::uint8_t>(precision);
  t.scale_ = static_cast<std::uint8_t>(scale);
  return t;
}

DataType DataType::Array(DataType element, bool contains_null) {
  DataType t;
  t.id_ = TypeId::kArray;
  t.contains_null_ = contains_null;
  t.children_ = std::make_shared<const Children>(Children{{std::move(element)}, {}});
  return t;
}

DataType DataType::Map(DataType key, DataType value, bool value_contains_null) {
  DataType t;
  t.id_ = TypeId::kMap;
  t.contains_null_ = value_contains_null;
  t.children_ = std::make_shared<const Children>(Children{{std::move(key), std::move(value)}, {}});
  return t;
}

const DataType& DataType::element_type() const {
  if (id_ != TypeId::kArray) {
    throw SchemaError(fmt::format("element_type() of {}, which is not an array", simple_string()));
  }
  return children_->types[0];
}

const DataType& DataType::key_type() const {
  if (id_ != TypeId::kMap) {
    throw SchemaError(fmt::format("key_type() of {}, which is not a map", simple_string()));
  }
  return children_->types[0];
}

const DataType& DataType::value_type() const {
  if (id_ != TypeId::kMap) {
    throw SchemaError(fmt::format("value_type() of {}, which is not a map", simple_string()));
  }
  return children_->types[1];
}

const std::vector<StructField>& DataType::fields() const {
  static const std::vector<StructField> kNoFields;
  if (id_ != TypeId::kStruct || children_ == nullptr) return kNoFields;
  return children_->fields;
}

StructType DataType::as_struct() const {
  if (id_ != TypeId::kStruct) {
    throw SchemaError(fmt::format("expected a struct type, got {}", simple_string()));
  }
  StructType out;
  static_cast<DataType&>(out) = *this;  // StructType adds no state: share the fields
  return out;
}

std::string DataType::json() const {
  std::string out;
  append_json(out, *this);
  return out;
}

std::string DataType::simple_string() const {
  switch (id_) {
    case TypeId::kStruct: {
      std::string out = "struct<";
      bool first = true;
      for (const StructField& field : fields()) {
        if (!first) out += ',';
        first = false;
        out += field.name;
        out += ':';
        out += field.type.simple_string();
      }
      out += '>';
      return out;
    }
    case TypeId::kArray:
      return fmt::format("array<{}>", element_type().simple_string());
    case TypeId::kMap:
      return fmt::format("map<{},{}>", key_type().simple_string(), value_type().simple_string());
    case TypeId::kDecimal:
      return tree_name();
    default:
      return std::string(find_primitive(id_)->simple);
  }
}

std::string DataType::sql() const {
  switch (id_) {
    case TypeId::kStruct: {
      std::string out = "STRUCT<";
      bool first = true;
      for (const StructField& field : fields()) {
        if (!first) out += ", ";
        first = false;
        out += fmt::format("{}: {}{}", quote_identifier(field.name), field.type.sql(),
                           ddl_suffix(field));
      }
      out += '>';
      return out;
    }
    case TypeId::kArray:
      return fmt::format("ARRAY<{}>", element_type().sql());
    case TypeId::kMap:
      return fmt::format("MAP<{}, {}>", key_type().sql(), value_type().sql());
    default:
      return upper(simple_string());
  }
}

std::string DataType::tree_name() const {
  switch (id_) {
    case TypeId::kStruct:
      return "struct";
    case TypeId::kArray:
      return "array";
    case TypeId::kMap:
      return "map";
    case TypeId::kDecimal:
      return fmt::format("decimal({},{})", int{precision_}, int{scale_});
    default:
      return std::string(find_primitive(id_)->json);
  }
}

bool operator==(const DataType& a, const DataType& b) {
  if (a.id_ != b.id_ || a.precision_ != b.precision_ || a.scale_ != b.scale_ ||
      a.contains_null_ != b.contains_null_) {
    return false;
  }
  if (a.children_ == b.children_) return true;
  if (a.children_ == nullptr || b.children_ == nullptr) return false;
  return a.children_->types == b.children_->types && a.children_->fields == b.children_->fields;
}

// --- StructField ---------------------------------------------------------------------------------

StructField::StructField(std::string name_, DataType type_, bool nullable_,
                         std::string metadata_json_)
    : name(std::move(name_)),
      type(std::move(type_)),
      nullable(nullable_),
      metadata_json(canonical_metadata(metadata_json_, name)) {}

bool operator==(const StructField& a, const StructField& b) {
  return a.name == b.name && a.nullable == b.nullable && a.metadata_json == b.metadata_json &&
         a.type == b.type;
}

// --- StructType ----------------------------------------------------------------------------------

StructType::StructType() : StructType(std::vector<StructField>{}) {}

StructType::StructType(std::vector<StructField> fields) {
  id_ = TypeId::kStruct;
  children_ = std::make_shared<const Children>(Children{{}, std::move(fields)});
}

StructType::StructType(std::initializer_list<StructField> fields)
    : StructType(std::vector<StructField>(fields)) {}

std::optional<std::size_t> StructType::index_of(std::string_view name) const {
  const auto& all = fields();
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (all[i].name == name) return i;
  }
  return std::nullopt;
}

const StructField* StructType::find_path(std::string_view dotted_path) const {
  const std::vector<StructField>* level = &fields();
  const StructField* found = nullptr;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = dotted_path.find('.', start);
    const std::string_view part = dotted_path.substr(start, dot - start);
    if (found != nullptr) {
      if (found->type.id() != TypeId::kStruct) return nullptr;
      level = &found->type.fields();
    }
    found = nullptr;
    for (const StructField& field : *level) {
      if (field.name == part) {
        found = &field;
        break;
      }
    }
    if (found == nullptr || dot == std::string_view::npos) return found;
    start = dot + 1;
  }
}

std::string StructType::ddl() const {
  std::string out;
  bool first = true;
  for (const StructField& field : fields()) {
    if (!first) out += ',';
    first = false;
    out +=
        fmt::format("{} {}{}", quote_identifier(field.name), field.type.sql(), ddl_suffix(field));
  }
  return out;
}

std::string StructType::tree_string() const {
  std::string out = "root\n";
  append_tree_children(out, *this, " |");
  return out;
}

// --- Parsing -------------------------------------------------------------------------------------

namespace {

// A schema read straight from simdjson's DOM, without building a JsonValue tree or the paths that
// only error messages need: a Delta table's schema is parsed on every commit that states it, and
// FHIR schemas hold thousands of fields. Returns nullopt for anything it does not accept as is
// (any error, or a field's metadata other than null or {}); the JsonValue path then decides, with
// its exact messages and canonical metadata. Repeated keys keep their last value, as there.
namespace dom = simdjson::dom;

std::optional<DataType> dom_type(dom::element json);

std::optional<DataType> dom_struct_fields(dom::element fields_json) {
  dom::array fields;
  if (fields_json.get_array().get(fields) != simdjson::SUCCESS) return std::nullopt;
  std::vector<StructField> out;
  out.reserve(fields.size());
  for (dom::element field_json : fields) {
    dom::object field;
    if (field_json.get_object().get(field) != simdjson::SUCCESS) return std::nullopt;
    std::optional<std::string_view> name;
    std::optional<dom::element> type;
    bool nullable = true;
    for (dom::key_value_pair member : field) {
      if (member.key == "name") {
        std::string_view text;
        if (member.value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
        name = text;
      } else if (member.key == "type") {
        type = member.value;
      } else if (member.key == "nullable") {
        if (member.value.get_bool().get(nullable) != simdjson::SUCCESS) return std::nullopt;
      } else if (member.key == "metadata") {
        dom::object metadata;
        if (member.value.is_null()) continue;
        if (member.value.get_object().get(metadata) != simdjson::SUCCESS || metadata.size() != 0) {
          return std::nullopt;
        }
      }
    }
    if (!name || !type) return std::nullopt;
    std::optional<DataType> parsed = dom_type(*type);
    if (!parsed) return std::nullopt;
    StructField f;
    f.name = std::string(*name);
    f.type = std::move(*parsed);
    f.nullable = nullable;
    f.metadata_json = "{}";
    out.push_back(std::move(f));
  }
  return DataType(StructType(std::move(out)));
}

std::optional<DataType> dom_type(dom::element json) {
  std::string_view name;
  if (json.get_string().get(name) == simdjson::SUCCESS) {
    for (const auto& p : kPrimitives) {
      if (p.json == name) return p.make();
    }
    return parse_type_name(std::string(name), "");  // a decimal, or throws
  }
  dom::object object;
  if (json.get_object().get(object) != simdjson::SUCCESS) return std::nullopt;
  std::optional<std::string_view> kind;
  std::optional<dom::element> fields, element, key, value;
  std::optional<bool> contains_null, value_contains_null;
  for (dom::key_value_pair member : object) {
    if (member.key == "type") {
      std::string_view text;
      if (member.value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      kind = text;
    } else if (member.key == "fields") {
      fields = member.value;
    } else if (member.key == "elementType") {
      element = member.value;
    } else if (member.key == "keyType") {
      key = member.value;
    } else if (member.key == "valueType") {
      value = member.value;
    } else if (member.key == "containsNull" || member.key == "valueContainsNull") {
      bool flag = false;
      if (member.value.get_bool().get(flag) != simdjson::SUCCESS) return std::nullopt;
      (member.key == "containsNull" ? contains_null : value_contains_null) = flag;
    }
  }
  if (kind == "struct" && fields) return dom_struct_fields(*fields);
  if (kind == "array" && element && contains_null) {
    std::optional<DataType> item = dom_type(*element);
    if (!item) return std::nullopt;
    return DataType::Array(std::move(*item), *contains_null);
  }
  if (kind == "map" && key && value && value_contains_null) {
    std::optional<DataType> k = dom_type(*key);
    std::optional<DataType> v = k ? dom_type(*value) : std::nullopt;
    if (!v) return std::nullopt;
    return DataType::Map(std::move(*k), std::move(*v), *value_contains_null);
  }
  return std::nullopt;
}

}  // namespace

DataType parse_data_type(std::string_view json) {
  {
    thread_local dom::parser parser;
    const simdjson::padded_string padded(json);
    dom::element root;
    if (parser.parse(padded).get(root) == simdjson::SUCCESS) {
      try {
        if (std::optional<DataType> type = dom_type(root)) return std::move(*type);
      } catch (const Error&) {
        // e.g. a struct with two fields of one name: the JsonValue path throws the same error
      }
    }
  }
  JsonValue value;
  try {
    value = JsonValue::parse(json, "schema");
  } catch (const ConfigError& e) {
    throw SchemaError(e.what());
  }
  return parse_type(value, "");
}

StructType parse_struct_type(std::string_view json) {
  DataType type = parse_data_type(json);
  if (type.id() != TypeId::kStruct) {
    throw SchemaError(
        fmt::format("expected a struct schema ({{\"type\":\"struct\",\"fields\":[...]}}), got {}",
                    type.json()));
  }
  return type.as_struct();
}

}  // namespace lakeflow
