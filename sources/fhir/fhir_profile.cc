#include "fhir_profile.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <array>
#include <cstdint>

#include "lakeflow/error.h"

namespace lakeflow::fhir {
namespace {

namespace od = simdjson::ondemand;

constexpr std::string_view kNhsNumberSystem = "https://fhir.nhs.uk/Id/nhs-number";
constexpr std::string_view kDeathNotificationPart = "deathNotificationStatus";

// One UK Core Patient column taken from an extension.
struct ExtensionColumn {
  std::string_view column;
  std::string_view url;
  enum class Kind : std::uint8_t { kConcept, kBoolean, kDeathNotification } kind;
};

constexpr std::array<ExtensionColumn, 5> kExtensionColumns = {{
    {"ethnic_category",
     "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
     ExtensionColumn::Kind::kConcept},
    {"birth_sex", "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BirthSex",
     ExtensionColumn::Kind::kConcept},
    {"death_notification_status",
     "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus",
     ExtensionColumn::Kind::kDeathNotification},
    {"interpreter_required", "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
     ExtensionColumn::Kind::kBoolean},
    {"residential_status",
     "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ResidentialStatus",
     ExtensionColumn::Kind::kConcept},
}};

DataType reduced_codeable_concept() {
  const StructType coding({StructField("system", DataType::String()),
                           StructField("code", DataType::String()),
                           StructField("display", DataType::String())});
  return StructType(
      {StructField("coding", DataType::Array(coding)), StructField("text", DataType::String())});
}

// The JSON text of `value` as it is in the resource.
std::string_view raw_text(od::value value) {
  // A scalar's token runs up to the next structural character, whitespace included.
  const auto trimmed = [](std::string_view token) {
    while (!token.empty() && (token.back() == ' ' || token.back() == '\t' || token.back() == '\n' ||
                              token.back() == '\r')) {
      token.remove_suffix(1);
    }
    return token;
  };
  switch (value.type()) {
    case od::json_type::object: {
      od::object object = value.get_object();
      return object.raw_json();
    }
    case od::json_type::array: {
      od::array array = value.get_array();
      return array.raw_json();
    }
    default:
      return trimmed(value.raw_json_token());
  }
}

std::string_view string_or_empty(od::value value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return {};
  return text;
}

// Reads JSON text lying inside the resource's buffer (so with the padding the parser needs).
class SpanParser {
 public:
  explicit SpanParser(const char* readable_end) : readable_end_(readable_end) {}

  od::document iterate(std::string_view json) {
    return parser_.iterate(json.data(), json.size(),
                           static_cast<std::size_t>(readable_end_ - json.data()));
  }

 private:
  const char* readable_end_;
  od::parser parser_;
};

void append_or_null(std::string& out, std::string_view raw) {
  out.append(raw.empty() ? std::string_view("null") : raw);
}

// Upstream's reduced CodeableConcept of the JSON `raw` (empty: absent).
void append_concept(std::string& out, SpanParser& parser, std::string_view raw) {
  if (raw.empty()) {
    out.append("null");
    return;
  }
  od::document document = parser.iterate(raw);
  od::object concept_object;
  if (document.get_object().get(concept_object) != simdjson::SUCCESS) {
    out.append("null");
    return;
  }
  std::string codings;
  std::string_view text_raw;
  bool empty = true;
  for (od::field field : concept_object) {
    empty = false;
    const std::string_view key = field.unescaped_key();
    if (key == "text") {
      text_raw = raw_text(field.value());
    } else if (key == "coding") {
      od::array items;
      if (field.value().get_array().get(items) != simdjson::SUCCESS) continue;
      for (od::value item : items) {
        od::object coding;
        if (item.get_object().get(coding) != simdjson::SUCCESS) continue;
        std::string_view system;
        std::string_view code;
        std::string_view display;
        bool any = false;
        for (od::field part : coding) {
          any = true;
          const std::string_view name = part.unescaped_key();
          if (name == "system") system = raw_text(part.value());
          if (name == "code") code = raw_text(part.value());
          if (name == "display") display = raw_text(part.value());
        }
        if (!any) continue;
        codings.append(codings.empty() ? "{\"system\":" : ",{\"system\":");
        append_or_null(codings, system);
        codings.append(",\"code\":");
        append_or_null(codings, code);
        codings.append(",\"display\":");
        append_or_null(codings, display);
        codings.push_back('}');
      }
    }
  }
  if (empty) {
    out.append("null");
    return;
  }
  out.append("{\"coding\":[");
  out.append(codings);
  out.append("],\"text\":");
  append_or_null(out, text_raw);
  out.push_back('}');
}

// The valueCodeableConcept of the first sub-extension `deathNotificationStatus` in the JSON
// array `raw` (empty: none).
std::string_view death_notification_concept(SpanParser& parser, std::string_view raw) {
  if (raw.empty()) return {};
  od::document document = parser.iterate(raw);
  od::array items;
  if (document.get_array().get(items) != simdjson::SUCCESS) return {};
  for (od::value item : items) {
    od::object part;
    if (item.get_object().get(part) != simdjson::SUCCESS) continue;
    std::string_view url;
    std::string_view concept_raw;
    for (od::field field : part) {
      const std::string_view key = field.unescaped_key();
      if (key == "url") url = string_or_empty(field.value());
      if (key == "valueCodeableConcept") concept_raw = raw_text(field.value());
    }
    // The url is compared after the object is read: its members come in any order.
    if (url == kDeathNotificationPart) return concept_raw;
  }
  return {};
}

// What one pass over a Patient finds: the raw JSON of each column's source.
struct UkCorePatient {
  bool nhs_found = false;
  std::string_view nhs_number;
  struct Found {
    bool found = false;
    std::string_view value;  // valueCodeableConcept, valueBoolean, or the sub-extension array
  };
  std::array<Found, kExtensionColumns.size()> extensions;
};

void read_identifiers(od::value value, UkCorePatient& patient) {
  od::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS) return;
  for (od::value item : items) {
    od::object identifier;
    if (item.get_object().get(identifier) != simdjson::SUCCESS) continue;
    std::string_view system;
    std::string_view number;
    for (od::field field : identifier) {
      const std::string_view key = field.unescaped_key();
      if (key == "system") system = string_or_empty(field.value());
      if (key == "value") number = raw_text(field.value());
    }
    if (!patient.nhs_found && system == kNhsNumberSystem) {
      patient.nhs_found = true;
      patient.nhs_number = number;
    }
  }
}

void read_extensions(od::value value, UkCorePatient& patient) {
  od::array items;
  if (value.get_array().get(items) != simdjson::SUCCESS) return;
  for (od::value item : items) {
    od::object extension;
    if (item.get_object().get(extension) != simdjson::SUCCESS) continue;
    std::string_view url;
    std::string_view concept_raw;
    std::string_view boolean_raw;
    std::string_view parts_raw;
    for (od::field field : extension) {
      const std::string_view key = field.unescaped_key();
      if (key == "url") {
        url = string_or_empty(field.value());
      } else if (key == "valueCodeableConcept") {
        concept_raw = raw_text(field.value());
      } else if (key == "valueBoolean") {
        boolean_raw = raw_text(field.value());
      } else if (key == "extension") {
        parts_raw = raw_text(field.value());
      }
    }
    for (std::size_t i = 0; i < kExtensionColumns.size(); ++i) {
      if (patient.extensions[i].found || url != kExtensionColumns[i].url) continue;
      patient.extensions[i].found = true;
      switch (kExtensionColumns[i].kind) {
        case ExtensionColumn::Kind::kConcept:
          patient.extensions[i].value = concept_raw;
          break;
        case ExtensionColumn::Kind::kBoolean:
          patient.extensions[i].value = boolean_raw;
          break;
        case ExtensionColumn::Kind::kDeathNotification:
          patient.extensions[i].value = parts_raw;
          break;
      }
    }
  }
}

void append_uk_core_patient(std::string& record, std::string_view resource,
                            const char* readable_end) {
  SpanParser parser(readable_end);
  UkCorePatient patient;
  {
    od::document document = parser.iterate(resource);
    for (od::field field : document.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "identifier") read_identifiers(field.value(), patient);
      if (key == "extension") read_extensions(field.value(), patient);
    }
  }
  // The spans found above stay valid: they point into the resource, not into the parser.
  record.append(",\"nhs_number\":");
  append_or_null(record, patient.nhs_number);
  for (std::size_t i = 0; i < kExtensionColumns.size(); ++i) {
    const ExtensionColumn& column = kExtensionColumns[i];
    record.append(fmt::format(",\"{}\":", column.column));
    const std::string_view value = patient.extensions[i].value;
    switch (column.kind) {
      case ExtensionColumn::Kind::kConcept:
        append_concept(record, parser, value);
        break;
      case ExtensionColumn::Kind::kBoolean:
        append_or_null(record, value);
        break;
      case ExtensionColumn::Kind::kDeathNotification:
        append_concept(record, parser, death_notification_concept(parser, value));
        break;
    }
  }
}

}  // namespace

Profile parse_profile(std::string_view value) {
  if (value == "base_r4") return Profile::kBaseR4;
  if (value == "uk_core") return Profile::kUkCore;
  throw ConfigError(fmt::format(
      "option '{}': expected base_r4 (FHIR R4 columns only, the default) or uk_core (UK Core "
      "Patient columns such as nhs_number), got '{}'",
      kProfileOption, value));
}

std::vector<StructField> profile_columns(Profile profile, std::string_view table) {
  if (profile != Profile::kUkCore || table != "Patient") return {};
  std::vector<StructField> fields;
  fields.emplace_back("nhs_number", DataType::String());
  for (const ExtensionColumn& column : kExtensionColumns) {
    fields.emplace_back(std::string(column.column), column.kind == ExtensionColumn::Kind::kBoolean
                                                        ? DataType::Boolean()
                                                        : reduced_codeable_concept());
  }
  return fields;
}

void append_profile_members(std::string& record, Profile profile, std::string_view table,
                            std::string_view resource, const char* readable_end,
                            std::string_view url) {
  if (profile != Profile::kUkCore || table != "Patient") return;
  try {
    append_uk_core_patient(record, resource, readable_end);
  } catch (const simdjson::simdjson_error& error) {
    throw SourceError(fmt::format(
        "fhir: a Patient in the response to GET {} is not valid JSON ({}); the uk_core columns "
        "cannot be read from it",
        url, error.what()));
  }
}

}  // namespace lakeflow::fhir
