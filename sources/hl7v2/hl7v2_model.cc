#include "hl7v2_model.h"

#include <fmt/format.h>

#include <charconv>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/json.h"

namespace lakeflow::hl7v2 {
namespace {

#include "hl7v2_definitions.inc"

// A composite type: its components in order; a component that is a composite itself points to it.
struct Composite {
  std::string type;
  struct Part {
    std::string name;
    std::string type;                      // the component's data type, for the comment
    const Composite* composite = nullptr;  // non-null: a struct of subcomponents
  };
  std::vector<Part> parts;
};

struct Field {
  enum class Shape : std::uint8_t { kPrimitive, kComposite, kVaries };
  std::string name;
  std::string type;
  std::size_t number = 0;  // HL7 field number (1-based)
  bool repeating = false;
  Shape shape = Shape::kPrimitive;
  const Composite* composite = nullptr;
};

struct SegmentDefinition {
  std::string id;
  std::string description;
  std::vector<Field> fields;
  bool has_message_type_field = false;  // MSH: MSH-9 replaces the message_type column
};

std::vector<std::string_view> words(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at < text.size()) {
    while (at < text.size() && text[at] == ' ') ++at;
    const std::size_t end = text.find(' ', at);
    const std::size_t stop = end == std::string_view::npos ? text.size() : end;
    if (stop > at) out.push_back(text.substr(at, stop - at));
    at = stop;
  }
  return out;
}

// The compiled definitions (from hl7v2_definitions.inc), built once.
class Model {
 public:
  static const Model& instance() {
    static const Model model;
    return model;
  }

  const Composite* composite(std::string_view type) const {
    const auto it = composites_.find(type);
    return it == composites_.end() ? nullptr : it->second.get();
  }
  const SegmentDefinition* segment(std::string_view id) const {
    for (const SegmentDefinition& segment : segments_) {
      if (segment.id == id) return &segment;
    }
    return nullptr;
  }
  const std::vector<std::string>& segment_ids() const { return segment_ids_; }

 private:
  Model() {
    for (const CompositeText& text : kComposites) {
      composites_.emplace(std::string(text.type), std::make_unique<Composite>());
    }
    for (const CompositeText& text : kComposites) {
      Composite& composite = *composites_.find(text.type)->second;
      composite.type = std::string(text.type);
      for (const std::string_view word : words(text.components)) {
        Composite::Part part;
        const std::size_t colon = word.find(':');
        part.name = std::string(word.substr(0, colon));
        if (colon != std::string_view::npos) {
          part.type = std::string(word.substr(colon + 1));
          part.composite = this->composite(part.type);
        }
        composite.parts.push_back(std::move(part));
      }
    }
    for (const SegmentText& text : kSegments) {
      SegmentDefinition segment{std::string(text.id), std::string(text.description), {}};
      for (const std::string_view word : words(text.fields)) {
        Field field;
        const std::size_t colon = word.find(':');
        field.name = std::string(word.substr(0, colon));
        std::string_view type = word.substr(colon + 1);
        field.repeating = type.ends_with('*');
        if (field.repeating) type.remove_suffix(1);
        field.type = std::string(type);
        field.number = segment.fields.size() + 1;
        field.composite = composite(type);
        field.shape = type == "varies"  ? Field::Shape::kVaries
                      : field.composite ? Field::Shape::kComposite
                                        : Field::Shape::kPrimitive;
        segment.fields.push_back(std::move(field));
      }
      for (const Field& field : segment.fields) {
        segment.has_message_type_field |= field.name == "message_type";
      }
      segment_ids_.push_back(segment.id);
      segments_.push_back(std::move(segment));
    }
  }

  std::map<std::string, std::unique_ptr<Composite>, std::less<>> composites_;
  std::vector<SegmentDefinition> segments_;
  std::vector<std::string> segment_ids_;
};

// The generic definition of a segment without one: field_1 .. field_N, each "varies".
const SegmentDefinition& generic_definition(std::string_view id) {
  static const std::vector<Field> fields = [] {
    std::vector<Field> out;
    for (std::size_t n = 1; n <= kGenericFieldCount; ++n) {
      out.push_back(
          {fmt::format("field_{}", n), "varies", n, true, Field::Shape::kVaries, nullptr});
    }
    return out;
  }();
  thread_local SegmentDefinition generic;
  generic.id = std::string(id);
  generic.description = "segment without a definition";
  if (generic.fields.empty()) generic.fields = fields;
  return generic;
}

const SegmentDefinition& definition_of(std::string_view id) {
  if (const SegmentDefinition* defined = Model::instance().segment(id)) return *defined;
  return generic_definition(id);
}

// ---- schemas -------------------------------------------------------------------------------

std::string comment(std::string_view text) {
  std::string out = "{\"comment\":";
  append_json_string(out, text);
  out += "}";
  return out;
}

DataType varies_type() {
  return DataType::Array(DataType::Array(DataType::Array(DataType::String())));
}

DataType composite_type(const Composite& composite) {
  std::vector<StructField> parts;
  for (std::size_t i = 0; i < composite.parts.size(); ++i) {
    const Composite::Part& part = composite.parts[i];
    if (part.composite != nullptr) {
      std::vector<StructField> subparts;
      for (const Composite::Part& sub : part.composite->parts) {
        subparts.emplace_back(sub.name, DataType::String());
      }
      parts.emplace_back(part.name, StructType(std::move(subparts)), true,
                         comment(fmt::format("{}.{} ({})", composite.type, i + 1, part.type)));
    } else {
      parts.emplace_back(part.name, DataType::String());
    }
  }
  return StructType(std::move(parts));
}

DataType field_type(const Field& field) {
  DataType type = field.shape == Field::Shape::kVaries      ? varies_type()
                  : field.shape == Field::Shape::kComposite ? composite_type(*field.composite)
                                                            : DataType::String();
  if (field.repeating && field.shape != Field::Shape::kVaries) type = DataType::Array(type);
  return type;
}

// The columns every segment row has before its fields (a field of the same name replaces one).
constexpr std::string_view kSegmentColumns[] = {"message_control_id", "segment_index",
                                                "source_file",        "message_position",
                                                "message_type",       "hl7_version"};

bool has_field(const SegmentDefinition& definition, std::string_view name) {
  for (const Field& field : definition.fields) {
    if (field.name == name) return true;
  }
  return false;
}

StructField column(std::string_view name) {
  static const std::map<std::string_view, std::pair<DataType, std::string_view>> kColumns = {
      {"message_control_id", {DataType::String(), "MSH-10 of the segment's message"}},
      {"segment_index", {DataType::Long(), "position of the segment in its message (MSH is 1)"}},
      {"source_file", {DataType::String(), "the file, relative to the connection's path"}},
      {"message_position", {DataType::Long(), "byte offset of the message in its file"}},
      {"message_type", {DataType::String(), "MSH-9 as written (ADT^A01^ADT_A01)"}},
      {"hl7_version", {DataType::String(), "MSH-12.1"}},
  };
  const auto& [type, text] = kColumns.at(name);
  return StructField(std::string(name), type,
                     name != "message_control_id" && name != "segment_index" &&
                         name != "source_file" && name != "message_position",
                     comment(text));
}

// ---- values --------------------------------------------------------------------------------

// Buffers a ValueWriter reuses from record to record (one set per thread), so that writing a
// record allocates nothing once they have grown.
struct Scratch {
  std::string text;
  std::vector<std::string_view> repetitions;
  std::vector<std::string_view> components;
  std::vector<std::string_view> subcomponents;
};

Scratch& scratch() {
  thread_local Scratch buffers;
  return buffers;
}

// Writes JSON text for HL7 values of one message.
class ValueWriter {
 public:
  ValueWriter(const Delimiters& delimiters, Charset charset, std::string& out)
      : d_(delimiters), charset_(charset), out_(out), s_(scratch()) {}

  // `"key":` then the value of `raw` as `field` holds it; writes nothing when the value is empty.
  void field(std::string_view key, std::string_view raw, const Field& field) {
    if (raw.empty()) return;
    const std::size_t mark = out_.size();
    key_(key);
    if (!value(raw, field)) out_.resize(mark);
  }

  // `"key":"text"` with escapes resolved; nothing when `raw` is empty.
  void text(std::string_view key, std::string_view raw) {
    if (raw.empty()) return;
    key_(key);
    string(raw);
  }

  // `"key":"text"` as written (no escape resolution); nothing when empty.
  void verbatim(std::string_view key, std::string_view raw) {
    if (raw.empty()) return;
    key_(key);
    append_json_text(out_, raw, charset_);
  }

 private:
  void key_(std::string_view key) {
    if (out_.back() != '{') out_.push_back(',');
    out_.push_back('"');
    out_.append(key);
    out_ += "\":";
  }

  void string(std::string_view raw) {
    if (d_.escape == '\0' || raw.find(d_.escape) == std::string_view::npos) {
      append_json_text(out_, raw, charset_);
      return;
    }
    s_.text.clear();
    append_unescaped(raw, d_, s_.text);
    append_json_text(out_, s_.text, charset_);
  }

  // The primitive value of a repetition or component: its first piece at `separator`... down to
  // the subcomponent level.
  std::string_view primitive(std::string_view raw) const {
    return first_piece(first_piece(raw, d_.component), d_.subcomponent);
  }

  // Writes the value; false when nothing was worth writing.
  bool value(std::string_view raw, const Field& field) {
    if (field.shape == Field::Shape::kVaries) return varies(raw);
    if (!field.repeating) return single(first_piece(raw, d_.repetition), field);
    std::vector<std::string_view>& reps = s_.repetitions;
    split(raw, d_.repetition, reps);
    bool any = false;
    out_.push_back('[');
    for (std::size_t i = 0; i < reps.size(); ++i) {
      if (i > 0) out_.push_back(',');
      const std::size_t mark = out_.size();
      if (single(reps[i], field)) {
        any = true;
      } else {
        out_.resize(mark);
        out_ += "null";
      }
    }
    out_.push_back(']');
    return any;
  }

  bool single(std::string_view rep, const Field& field) {
    if (field.shape == Field::Shape::kPrimitive) {
      const std::string_view v = primitive(rep);
      if (v.empty()) return false;
      string(v);
      return true;
    }
    return composite(rep, *field.composite);
  }

  bool composite(std::string_view rep, const Composite& type) {
    std::vector<std::string_view>& components = s_.components;
    split(rep, d_.component, components);
    out_.push_back('{');
    bool any = false;
    for (std::size_t i = 0; i < components.size() && i < type.parts.size(); ++i) {
      if (components[i].empty()) continue;
      const Composite::Part& part = type.parts[i];
      const std::size_t mark = out_.size();
      key_(part.name);
      if (part.composite == nullptr) {
        const std::string_view v = first_piece(components[i], d_.subcomponent);
        if (v.empty()) {
          out_.resize(mark);
          continue;
        }
        string(v);
      } else if (!subcomposite(components[i], *part.composite)) {
        out_.resize(mark);
        continue;
      }
      any = true;
    }
    out_.push_back('}');
    return any;
  }

  bool subcomposite(std::string_view component, const Composite& type) {
    std::vector<std::string_view>& subs = s_.subcomponents;
    split(component, d_.subcomponent, subs);
    out_.push_back('{');
    bool any = false;
    for (std::size_t i = 0; i < subs.size() && i < type.parts.size(); ++i) {
      if (subs[i].empty()) continue;
      key_(type.parts[i].name);
      string(subs[i]);
      any = true;
    }
    out_.push_back('}');
    return any;
  }

  // Repetitions, components, subcomponents: every value in place.
  bool varies(std::string_view raw) {
    std::vector<std::string_view>& reps = s_.repetitions;
    std::vector<std::string_view>& components = s_.components;
    std::vector<std::string_view>& subs = s_.subcomponents;
    split(raw, d_.repetition, reps);
    out_.push_back('[');
    for (std::size_t r = 0; r < reps.size(); ++r) {
      if (r > 0) out_.push_back(',');
      split(reps[r], d_.component, components);
      out_.push_back('[');
      for (std::size_t c = 0; c < components.size(); ++c) {
        if (c > 0) out_.push_back(',');
        split(components[c], d_.subcomponent, subs);
        out_.push_back('[');
        for (std::size_t s = 0; s < subs.size(); ++s) {
          if (s > 0) out_.push_back(',');
          string(subs[s]);
        }
        out_.push_back(']');
      }
      out_.push_back(']');
    }
    out_.push_back(']');
    return true;
  }

  const Delimiters& d_;
  Charset charset_;
  std::string& out_;
  Scratch& s_;
};

void append_int_member(std::string& out, std::string_view key, std::uint64_t value) {
  out += ",\"";
  out.append(key);
  out += "\":";
  char digits[24];
  const std::to_chars_result end = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end.ptr);
}

bool is_digits(std::string_view s) {
  if (s.empty()) return false;
  for (const char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int number(std::string_view digits) {
  int v = 0;
  for (const char c : digits) v = v * 10 + (c - '0');
  return v;
}

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

}  // namespace

const std::vector<std::string>& defined_segments() { return Model::instance().segment_ids(); }

MessageInfo message_info(const Message& message, std::string_view source_file,
                         std::uint64_t position) {
  const Delimiters& d = message.delimiters;
  const Segment& msh = message.segments.front();
  MessageInfo info;
  info.source_file = source_file;
  info.position = position;
  const auto first = [&](std::size_t n) {
    return first_piece(first_piece(first_piece(message.field(msh, n), d.repetition), d.component),
                       d.subcomponent);
  };
  append_unescaped(first(10), d, info.control_id);
  append_unescaped(first(12), d, info.version);
  info.message_type = std::string(first_piece(message.field(msh, 9), d.repetition));
  info.charset = charset_of(first(18));
  return info;
}

StructType segment_schema(std::string_view segment_id) {
  const SegmentDefinition& definition = definition_of(segment_id);
  std::vector<StructField> fields;
  for (const std::string_view name : kSegmentColumns) {
    if (!has_field(definition, name)) fields.push_back(column(name));
  }
  for (const Field& field : definition.fields) {
    fields.emplace_back(field.name, field_type(field), true,
                        comment(fmt::format("{}-{} ({}{})", definition.id, field.number, field.type,
                                            field.repeating ? ", repeating" : "")));
  }
  fields.emplace_back("raw_segment", DataType::String(), false,
                      comment("the segment as written, escapes and all"));
  return StructType(std::move(fields));
}

StructType messages_schema() {
  const Composite* hd = Model::instance().composite("HD");
  const auto text = [](std::string name, std::string_view what, bool nullable = true) {
    return StructField(std::move(name), DataType::String(), nullable, comment(what));
  };
  return StructType({
      text("message_control_id", "MSH-10", false),
      text("source_file", "the file, relative to the connection's path", false),
      StructField("message_position", DataType::Long(), false,
                  comment("byte offset of the message in its file")),
      text("message_type", "MSH-9 as written (ADT^A01^ADT_A01)"),
      text("message_code", "MSH-9.1"),
      text("trigger_event", "MSH-9.2"),
      text("message_structure", "MSH-9.3"),
      StructField("sending_application", composite_type(*hd), true, comment("MSH-3")),
      StructField("sending_facility", composite_type(*hd), true, comment("MSH-4")),
      StructField("receiving_application", composite_type(*hd), true, comment("MSH-5")),
      StructField("receiving_facility", composite_type(*hd), true, comment("MSH-6")),
      text("message_datetime", "MSH-7 as written (HL7 DTM, local time unless an offset is given)"),
      StructField("message_timestamp", DataType::Timestamp(), true,
                  comment("MSH-7 as a UTC instant; null when MSH-7 gives no UTC offset")),
      text("processing_id", "MSH-11.1 (P production, T training, D debugging)"),
      text("hl7_version", "MSH-12.1"),
      text("sequence_number", "MSH-13"),
      text("character_set", "MSH-18 (first repetition)"),
      StructField("segment_count", DataType::Long(), false, comment("segments in the message")),
      StructField("segment_ids", DataType::Array(DataType::String(), false), false,
                  comment("the message's segment IDs in order")),
      text("raw_message", "the message as written, segments separated by CR", false),
  });
}

StructType malformed_schema() {
  return StructType({
      StructField("source_file", DataType::String(), false,
                  comment("the file, relative to the connection's path")),
      StructField("message_position", DataType::Long(), false,
                  comment("byte offset of the text in its file")),
      StructField("reason", DataType::String(), false, comment("what is wrong with it")),
      StructField("raw_message", DataType::String(), false, comment("the text as written")),
  });
}

void append_segment_record(const Message& message, std::size_t index, const MessageInfo& info,
                           std::string& out) {
  const Segment& segment = message.segments[index];
  const SegmentDefinition& definition = definition_of(segment.id);
  ValueWriter writer(message.delimiters, info.charset, out);
  out.push_back('{');
  out += "\"message_control_id\":";
  append_json_text(out, info.control_id, info.charset);
  append_int_member(out, "segment_index", index + 1);
  out += ",\"source_file\":";
  append_json_text(out, info.source_file, Charset::kUtf8);
  append_int_member(out, "message_position", info.position);
  if (!definition.has_message_type_field) writer.verbatim("message_type", info.message_type);
  writer.text("hl7_version", info.version);
  const bool is_msh = segment.id == "MSH";
  for (const Field& field : definition.fields) {
    const std::string_view raw = message.field(segment, field.number);
    if (is_msh && field.number <= 2) {
      writer.verbatim(field.name, raw);  // the delimiters themselves
    } else if (field.name != "message_control_id") {
      writer.field(field.name, raw, field);
    }
  }
  out += ",\"raw_segment\":";
  append_json_text(out, segment.text, info.charset);
  out.push_back('}');
}

void append_message_record(const Message& message, const MessageInfo& info, std::string_view raw,
                           std::string& out) {
  const Delimiters& d = message.delimiters;
  const Segment& msh = message.segments.front();
  const Model& model = Model::instance();
  Field hd{"", "HD", 0, false, Field::Shape::kComposite, model.composite("HD")};
  ValueWriter writer(d, info.charset, out);
  std::vector<std::string_view> parts;
  out.push_back('{');
  out += "\"message_control_id\":";
  append_json_text(out, info.control_id, info.charset);
  out += ",\"source_file\":";
  append_json_text(out, info.source_file, Charset::kUtf8);
  append_int_member(out, "message_position", info.position);
  writer.verbatim("message_type", info.message_type);
  split(info.message_type, d.component, parts);
  constexpr std::string_view kTypeParts[] = {"message_code", "trigger_event", "message_structure"};
  for (std::size_t i = 0; i < parts.size() && i < 3; ++i) {
    writer.text(kTypeParts[i], first_piece(parts[i], d.subcomponent));
  }
  constexpr std::string_view kApplications[] = {"sending_application", "sending_facility",
                                                "receiving_application", "receiving_facility"};
  for (std::size_t i = 0; i < 4; ++i) writer.field(kApplications[i], message.field(msh, i + 3), hd);
  const auto first = [&](std::size_t n) {
    return first_piece(first_piece(first_piece(message.field(msh, n), d.repetition), d.component),
                       d.subcomponent);
  };
  const std::string_view datetime = first(7);
  writer.verbatim("message_datetime", datetime);
  if (const std::string instant = dtm_to_iso_instant(datetime); !instant.empty()) {
    out += ",\"message_timestamp\":\"" + instant + "\"";
  }
  writer.text("processing_id", first(11));
  writer.text("hl7_version", info.version);
  writer.text("sequence_number", first(13));
  writer.text("character_set", first(18));
  append_int_member(out, "segment_count", message.segments.size());
  out += ",\"segment_ids\":[";
  for (std::size_t i = 0; i < message.segments.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.push_back('"');
    out.append(message.segments[i].id);
    out.push_back('"');
  }
  out += "],\"raw_message\":";
  append_json_text(out, raw, info.charset);
  out.push_back('}');
}

void append_malformed_record(std::string_view source_file, std::uint64_t position,
                             std::string_view reason, std::string_view raw, std::string& out) {
  out += "{\"source_file\":";
  append_json_text(out, source_file, Charset::kUtf8);
  append_int_member(out, "message_position", position);
  out += ",\"reason\":";
  append_json_text(out, reason, Charset::kUtf8);
  out += ",\"raw_message\":";
  append_json_text(out, raw, Charset::kUtf8);
  out.push_back('}');
}

std::string dtm_to_iso_instant(std::string_view dtm) {
  const std::size_t sign_at = dtm.find_first_of("+-");
  if (sign_at == std::string_view::npos) return {};
  const std::string_view offset = dtm.substr(sign_at + 1);
  std::string_view local = dtm.substr(0, sign_at);
  std::string_view fraction;
  if (const std::size_t dot = local.find('.'); dot != std::string_view::npos) {
    fraction = local.substr(dot + 1);
    local = local.substr(0, dot);
    if (local.size() != 14 || fraction.empty() || fraction.size() > 4 || !is_digits(fraction)) {
      return {};
    }
  }
  if (!is_digits(local) || local.size() < 4 || local.size() > 14 || local.size() % 2 != 0 ||
      offset.size() != 4 || !is_digits(offset)) {
    return {};
  }
  const auto part = [&](std::size_t at, int missing) {
    return local.size() >= at + 2 ? number(local.substr(at, 2)) : missing;
  };
  const int year = number(local.substr(0, 4));
  const int month = part(4, 1);
  const int day = part(6, 1);
  const int hour = part(8, 0);
  const int minute = part(10, 0);
  const int second = part(12, 0);
  const int offset_hours = number(offset.substr(0, 2));
  const int offset_minutes = number(offset.substr(2, 2));
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
      hour > 23 || minute > 59 || second > 59 || offset_hours > 23 || offset_minutes > 59) {
    return {};
  }
  std::string out =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", year, month, day, hour, minute, second);
  if (!fraction.empty()) {
    out.push_back('.');
    out.append(fraction);
  }
  out += fmt::format("{}{:02}:{:02}", dtm[sign_at], offset_hours, offset_minutes);
  return out;
}

}  // namespace lakeflow::hl7v2
