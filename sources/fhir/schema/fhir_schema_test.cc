#include "schema/fhir_schema.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "columnar/record_converter.h"
#include "lakeflow/error.h"
#include "lakeflow/files.h"
#include "lakeflow/instant.h"
#include "lakeflow/json.h"

namespace lakeflow::fhir {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// ---- Helpers ------------------------------------------------------------------------------------

// The type at a dotted path below `type`, stepping through arrays (`contact.name.period`).
DataType type_at(const DataType& type, std::string_view path) {
  DataType current = type;
  while (!path.empty()) {
    while (current.id() == TypeId::kArray) current = current.element_type();
    std::size_t dot = path.find('.');
    std::string_view name = path.substr(0, dot);
    const std::vector<StructField>& fields = current.fields();
    auto it = std::find_if(fields.begin(), fields.end(),
                           [&](const StructField& f) { return f.name == name; });
    if (it == fields.end()) {
      ADD_FAILURE() << "no field '" << name << "' in " << current.simple_string().substr(0, 200);
      return DataType::Binary();  // a type no FHIR schema contains
    }
    current = it->type;
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  }
  return current;
}

std::string type_of(const StructType& schema, std::string_view path) {
  return type_at(schema, path).simple_string();
}

std::vector<std::string> names(const DataType& type) {
  DataType t = type;
  while (t.id() == TypeId::kArray) t = t.element_type();
  std::vector<std::string> out;
  for (const StructField& f : t.fields()) out.push_back(f.name);
  return out;
}

// Leaf columns: what a columnar file stores per row (arrays and structs themselves hold none).
std::size_t leaf_columns(const DataType& t) {
  if (t.id() == TypeId::kArray) return leaf_columns(t.element_type());
  if (t.id() == TypeId::kStruct) {
    std::size_t n = 0;
    for (const StructField& f : t.fields()) n += leaf_columns(f.type);
    return n;
  }
  return 1;
}

// Fails on a field name repeated inside one struct or a non-nullable field, anywhere.
void expect_unique_nullable_fields(const DataType& t, const std::string& path) {
  if (t.id() == TypeId::kArray) return expect_unique_nullable_fields(t.element_type(), path);
  if (t.id() != TypeId::kStruct) return;
  std::set<std::string> seen;
  for (const StructField& f : t.fields()) {
    EXPECT_TRUE(seen.insert(f.name).second) << path << "." << f.name << " repeated";
    EXPECT_TRUE(f.nullable) << path << "." << f.name;
    expect_unique_nullable_fields(f.type, path + "." + f.name);
  }
}

constexpr const char* kPrimitiveExtension = "struct<id:string,extension:array<string>>";

// ---- Resource types -----------------------------------------------------------------------------

TEST(FhirSchema, ResourceTypesAreTheConcreteR4TypesSorted) {
  const std::vector<std::string>& types = r4_resource_types();
  EXPECT_EQ(types.size(), 146u);  // R4 4.0.1: 148 resource types, of which 2 are abstract
  EXPECT_TRUE(std::is_sorted(types.begin(), types.end()));
  EXPECT_EQ(types.front(), "Account");
  EXPECT_EQ(types.back(), "VisionPrescription");
  for (const char* t : {"Patient", "Observation", "Bundle", "Parameters", "Binary",
                        "SubstanceSpecification", "TerminologyCapabilities"}) {
    EXPECT_TRUE(is_r4_resource_type(t)) << t;
  }
  for (const char* t : {"Resource", "DomainResource", "MetadataResource", "HumanName", "string",
                        "patient", "vitalsigns", "BackboneElement", ""}) {
    EXPECT_FALSE(is_r4_resource_type(t)) << t;
  }
}

TEST(FhirSchema, UnknownResourceTypeIsAnUnknownTableError) {
  try {
    resource_schema("patient");
    FAIL() << "expected UnknownTableError";
  } catch (const UnknownTableError& e) {
    EXPECT_EQ(e.table(), "patient");
    EXPECT_THAT(e.what(), HasSubstr("case-sensitive"));
  }
  EXPECT_THROW(resource_schema("DomainResource"), UnknownTableError);
  EXPECT_THROW(resource_schema("HumanName"), UnknownTableError);
}

TEST(FhirSchema, OptionsOutOfRangeAreConfigErrors) {
  EXPECT_THROW(resource_schema("Patient", {.max_depth = 0}), ConfigError);
  EXPECT_THROW(resource_schema("Patient", {.max_recursion = -1}), ConfigError);
  EXPECT_THROW(resource_schema("Patient", {.typed_extension_depth = -2}), ConfigError);
}

// ---- Mapping rules on known elements ------------------------------------------------------------

TEST(FhirSchema, PatientTopLevelFieldsInDefinitionOrder) {
  EXPECT_THAT(names(resource_schema("Patient")),
              ElementsAre("resourceType", "id", "_id", "meta", "implicitRules", "_implicitRules",
                          "language", "_language", "text", "contained", "extension",
                          "modifierExtension", "identifier", "active", "_active", "name", "telecom",
                          "gender", "_gender", "birthDate", "_birthDate", "deceasedBoolean",
                          "_deceasedBoolean", "deceasedDateTime", "_deceasedDateTime", "address",
                          "maritalStatus", "multipleBirthBoolean", "_multipleBirthBoolean",
                          "multipleBirthInteger", "_multipleBirthInteger", "photo", "contact",
                          "communication", "generalPractitioner", "managingOrganization", "link"));
}

TEST(FhirSchema, PrimitivesAndTheirExtensions) {
  StructType patient = resource_schema("Patient");
  EXPECT_EQ(type_of(patient, "resourceType"), "string");
  EXPECT_EQ(type_of(patient, "birthDate"), "string");  // partial dates ("1974") stay as sent
  EXPECT_EQ(type_of(patient, "_birthDate"), kPrimitiveExtension);
  EXPECT_EQ(type_of(patient, "deceasedBoolean"), "boolean");
  EXPECT_EQ(type_of(patient, "deceasedDateTime"), "string");
  EXPECT_EQ(type_of(patient, "multipleBirthInteger"), "bigint");
  EXPECT_EQ(type_of(patient, "active"), "boolean");
  // Repeating primitives: arrays aligned item by item with their `_name` array.
  EXPECT_EQ(type_of(patient, "name.given"), "array<string>");
  EXPECT_EQ(type_of(patient, "name._given"), std::string("array<") + kPrimitiveExtension + ">");
  // XML attributes (Element.id, Extension.url) and xhtml carry no extensions: no `_name`.
  EXPECT_THAT(names(type_at(patient, "text")),
              ElementsAre("id", "extension", "status", "_status", "div"));
  EXPECT_EQ(type_of(patient, "meta.lastUpdated"), "timestamp");  // instant

  StructType observation = resource_schema("Observation");
  EXPECT_EQ(type_of(observation, "issued"), "timestamp");
  EXPECT_EQ(type_of(observation, "valueQuantity.value"), "string");  // decimal: exact JSON text
  EXPECT_EQ(type_of(observation, "valueInteger"), "bigint");
  EXPECT_EQ(type_of(resource_schema("Bundle"), "total"), "bigint");               // unsignedInt
  EXPECT_EQ(type_of(resource_schema("Appointment"), "priority"), "bigint");       // unsignedInt
  EXPECT_EQ(type_of(resource_schema("Account"), "coverage.priority"), "bigint");  // positiveInt
  EXPECT_EQ(type_of(resource_schema("Binary"), "data"), "string");  // base64Binary as its text
}

TEST(FhirSchema, ChoiceElementsGetOneFieldPerTypeInDefinitionOrder) {
  StructType observation = resource_schema("Observation");
  std::vector<std::string> value_fields;
  for (const std::string& n : names(type_at(observation, "component"))) {
    if (n.rfind("value", 0) == 0 || n.rfind("_value", 0) == 0) value_fields.push_back(n);
  }
  EXPECT_THAT(value_fields,
              ElementsAre("valueQuantity", "valueCodeableConcept", "valueString", "_valueString",
                          "valueBoolean", "_valueBoolean", "valueInteger", "_valueInteger",
                          "valueRange", "valueRatio", "valueSampledData", "valueTime", "_valueTime",
                          "valueDateTime", "_valueDateTime", "valuePeriod"));
  EXPECT_EQ(type_of(observation, "component"),
            "array<" + type_at(observation, "component").element_type().simple_string() + ">");
  EXPECT_EQ(type_of(observation, "component.valueQuantity.value"), "string");
  EXPECT_EQ(type_of(observation, "component.valueQuantity"), type_of(observation, "valueQuantity"));
  EXPECT_EQ(type_of(observation, "component.valueBoolean"), "boolean");
}

TEST(FhirSchema, BackboneElementsAreInlineStructs) {
  StructType patient = resource_schema("Patient");
  EXPECT_THAT(names(type_at(patient, "contact")),
              ElementsAre("id", "extension", "modifierExtension", "relationship", "name", "telecom",
                          "address", "gender", "_gender", "organization", "period"));
  EXPECT_EQ(type_at(patient, "contact").id(), TypeId::kArray);
  EXPECT_EQ(type_of(patient, "contact.name.family"), "string");
  EXPECT_EQ(type_of(patient, "contact.relationship.coding.system"), "string");
  EXPECT_EQ(type_of(patient, "contact.period.start"), "string");
  // Extensions below the resource itself are JSON text, one string per extension.
  EXPECT_EQ(type_of(patient, "contact.extension"), "array<string>");
  EXPECT_EQ(type_of(patient, "name.extension"), "array<string>");
}

TEST(FhirSchema, ContentReferenceRecursionIsCutToJsonText) {
  StructType questionnaire = resource_schema("Questionnaire");
  EXPECT_EQ(type_at(questionnaire, "item").element_type().id(), TypeId::kStruct);
  EXPECT_EQ(type_of(questionnaire, "item.linkId"), "string");
  EXPECT_EQ(type_of(questionnaire, "item.item"), "array<string>");
  EXPECT_EQ(type_of(resource_schema("QuestionnaireResponse"), "item.answer.item"), "array<string>");
  EXPECT_EQ(type_of(resource_schema("QuestionnaireResponse"), "item.item"), "array<string>");

  // One more level when asked for: item.item is the item structure again, item.item.item text.
  StructType deeper = resource_schema("Questionnaire", {.max_recursion = 1});
  EXPECT_EQ(type_of(deeper, "item.item.linkId"), "string");
  EXPECT_EQ(type_of(deeper, "item.item.item"), "array<string>");

  // A contentReference to another backbone (not recursive) is expanded.
  StructType observation = resource_schema("Observation");
  EXPECT_EQ(type_of(observation, "component.referenceRange"),
            type_of(observation, "referenceRange"));
}

TEST(FhirSchema, ComplexTypeRecursionIsCutToJsonText) {
  StructType patient = resource_schema("Patient");
  EXPECT_EQ(type_of(patient, "identifier.assigner.display"), "string");
  EXPECT_EQ(type_of(patient, "identifier.assigner.identifier"), "string");
  EXPECT_EQ(type_of(patient, "managingOrganization.identifier.system"), "string");
  EXPECT_EQ(type_of(patient, "managingOrganization.identifier.assigner"), "string");
}

TEST(FhirSchema, DepthLimitTurnsDeeperStructsIntoJsonText) {
  StructType shallow = resource_schema("Patient", {.max_depth = 1});
  EXPECT_EQ(type_of(shallow, "name"),
            "array<struct<id:string,extension:array<string>,use:string,"
            "_use:string,text:string,_text:string,family:string,"
            "_family:string,given:array<string>,_given:array<string>,"
            "prefix:array<string>,_prefix:array<string>,"
            "suffix:array<string>,_suffix:array<string>,period:string>>");
  EXPECT_EQ(type_of(shallow, "_birthDate"), kPrimitiveExtension);
  EXPECT_EQ(type_of(resource_schema("Patient", {.max_depth = 2}), "name.period"),
            "struct<id:string,extension:array<string>,start:string,_start:string,end:string,"
            "_end:string>");
}

TEST(FhirSchema, ResourcesInsideResourcesAreJsonText) {
  EXPECT_EQ(type_of(resource_schema("Patient"), "contained"), "array<string>");
  EXPECT_EQ(type_of(resource_schema("Bundle"), "entry.resource"), "string");
  EXPECT_EQ(type_of(resource_schema("Bundle"), "entry.response.outcome"), "string");
  EXPECT_EQ(type_of(resource_schema("Parameters"), "parameter.resource"), "string");
  EXPECT_EQ(type_of(resource_schema("Parameters"), "parameter.part"), "array<string>");
  // Bundle and Parameters are Resources, not DomainResources: no text, contained or extension.
  EXPECT_THAT(names(resource_schema("Bundle")),
              ElementsAre("resourceType", "id", "_id", "meta", "implicitRules", "_implicitRules",
                          "language", "_language", "identifier", "type", "_type", "timestamp",
                          "_timestamp", "total", "_total", "link", "entry", "signature"));
}

TEST(FhirSchema, ResourceExtensionsKeepCommonValueTypesTyped) {
  StructType patient = resource_schema("Patient");
  DataType extension = type_at(patient, "extension");
  ASSERT_EQ(extension.id(), TypeId::kArray);
  EXPECT_EQ(type_at(patient, "modifierExtension"), extension);
  std::vector<std::string> fields = names(extension);
  ASSERT_GE(fields.size(), 3u);
  EXPECT_THAT(std::vector<std::string>(fields.begin(), fields.begin() + 3),
              ElementsAre("id", "extension", "url"));
  EXPECT_EQ(std::count(fields.begin(), fields.end(), "_url"), 0);
  EXPECT_EQ(type_of(patient, "extension.extension"), "array<string>");  // nested: JSON text
  EXPECT_EQ(type_of(patient, "extension.valueString"), "string");
  EXPECT_EQ(type_of(patient, "extension._valueString"), kPrimitiveExtension);
  EXPECT_EQ(type_of(patient, "extension.valueBoolean"), "boolean");
  EXPECT_EQ(type_of(patient, "extension.valueInteger"), "bigint");
  EXPECT_EQ(type_of(patient, "extension.valueDecimal"), "string");
  EXPECT_EQ(type_of(patient, "extension.valueInstant"), "timestamp");
  EXPECT_EQ(type_of(patient, "extension.valueCoding.code"), "string");
  EXPECT_EQ(type_of(patient, "extension.valueCodeableConcept.coding.code"), "string");
  EXPECT_EQ(type_of(patient, "extension.valueReference.reference"), "string");
  EXPECT_EQ(type_of(patient, "extension.valueQuantity.value"), "string");
  EXPECT_EQ(type_of(patient, "extension.valuePeriod.start"), "string");
  EXPECT_EQ(type_of(patient, "extension.valueIdentifier.value"), "string");
  // Every other complex value is JSON text.
  EXPECT_EQ(type_of(patient, "extension.valueAddress"), "string");
  EXPECT_EQ(type_of(patient, "extension.valueHumanName"), "string");
  EXPECT_EQ(type_of(patient, "extension.valueDosage"), "string");
  // 3 + 19 primitives with their `_value` + 6 typed + 25 JSON text complex types.
  EXPECT_EQ(fields.size(), 3u + 19 * 2 + 6 + 25);

  // Other open-type elements follow the extension's rule.
  StructType task = resource_schema("Task");
  EXPECT_EQ(names(type_at(task, "input")).size(), 3u + 1 + 19 * 2 + 6 + 25);
  EXPECT_EQ(type_of(task, "input.valueCodeableConcept.text"), "string");
  EXPECT_EQ(type_of(task, "input.valueAttachment"), "string");

  EXPECT_EQ(type_of(resource_schema("Patient", {.typed_extension_depth = -1}), "extension"),
            "array<string>");
}

// ---- Every resource type ------------------------------------------------------------------------

TEST(FhirSchema, EveryResourceTypeBuildsDeterministicallyWithinWidthBudget) {
  std::vector<std::pair<std::size_t, std::string>> widths;
  auto start = std::chrono::steady_clock::now();
  for (const std::string& type : r4_resource_types()) {
    SCOPED_TRACE(type);
    StructType schema = resource_schema(type);
    ASSERT_GT(schema.size(), 1u);
    EXPECT_EQ(schema.fields()[0].name, "resourceType");
    expect_unique_nullable_fields(schema, type);
    // The connector's own columns never collide with a resource element: FHIR names have no
    // `_` but a leading one.
    EXPECT_FALSE(schema.index_of(kLastUpdatedColumn).has_value());
    EXPECT_FALSE(schema.index_of(kRawJsonColumn).has_value());
    for (const StructField& f : schema.fields()) {
      EXPECT_EQ(f.name.find('_', 1), std::string::npos) << f.name;
    }
    EXPECT_EQ(parse_struct_type(schema.json()), schema);  // survives Spark's JSON form
    EXPECT_EQ(resource_schema(type).json(), schema.json());
    widths.emplace_back(leaf_columns(schema), type);
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::sort(widths.begin(), widths.end());
  std::printf("leaf columns over %zu types: min %zu (%s), median %zu, max %zu (%s); %.0f ms\n",
              widths.size(), widths.front().first, widths.front().second.c_str(),
              widths[widths.size() / 2].first, widths.back().first, widths.back().second.c_str(),
              ms);
  // Exact values guard the rules: a change to the mapping shows here first.
  EXPECT_EQ(leaf_columns(resource_schema("Patient")), 1153u);
  EXPECT_EQ(widths.back().second, "ExplanationOfBenefit");
  EXPECT_LE(widths.back().first, 5000u);
}

TEST(FhirSchema, ConnectorColumnsFollowTheResourceFields) {
  StructType schema = with_connector_columns(resource_schema("Patient"));
  std::size_t n = schema.size();
  ASSERT_EQ(n, resource_schema("Patient").size() + 2);
  EXPECT_EQ(schema.fields()[n - 2], StructField("last_updated", DataType::Timestamp()));
  EXPECT_EQ(schema.fields()[n - 1], StructField("raw_json", DataType::String()));
  // `lastUpdated` itself is taken: CatalogEntry.lastUpdated is a FHIR element (a dateTime).
  EXPECT_EQ(type_of(resource_schema("CatalogEntry"), "lastUpdated"), "string");
}

// ---- Round trips through the converter ----------------------------------------------------------

// Converts one resource with its type's schema (fail mode) and returns the row as a JSON value.
JsonValue convert_resource(std::string_view type, const std::string& json,
                           const SchemaOptions& options = {}) {
  StructType schema = resource_schema(type, options);
  RecordConverter converter(schema, std::string(type), BadRecordMode::kFail);
  ColumnBatch batch = converter.make_batch();
  RecordBatch records;
  records.append(json);
  EXPECT_EQ(converter.convert(records, batch), 1u);
  return JsonValue::parse(batch.row_json(0));
}

const JsonValue& at(const JsonValue& v, std::string_view key) {
  static const JsonValue null;
  const JsonValue* found = v.find(key);
  return found == nullptr ? null : *found;
}

TEST(FhirSchema, PatientRoundTripKeepsEveryValue) {
  const std::string patient = R"({
    "resourceType": "Patient", "id": "rt1",
    "meta": {"versionId": "3", "lastUpdated": "2024-05-01T12:30:00.123456789+02:00"},
    "extension": [
      {"url": "http://hl7.org/fhir/StructureDefinition/patient-mothersMaidenName",
       "valueString": "Hoff"},
      {"url": "http://example.org/race", "valueCodeableConcept": {
         "coding": [{"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3"}]}},
      {"url": "http://example.org/birthPlace", "valueAddress": {"city": "Oslo"}},
      {"url": "http://example.org/nested", "extension": [{"url": "a", "valueInteger": 4}]}],
    "identifier": [{"system": "urn:ssn", "value": "123",
                    "assigner": {"display": "SSA", "identifier": {"value": "x"}}}],
    "active": true,
    "name": [{"family": "Chalmers", "given": ["Peter", null],
              "_given": [null, {"extension": [{"url": "http://example.org/q", "valueCode": "x"}]}],
              "period": {"start": "2001"}}],
    "birthDate": "1974",
    "_birthDate": {"extension": [
      {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthTime",
       "valueDateTime": "1974-12-25T14:35:45-05:00"}]},
    "deceasedDateTime": "2015-02",
    "multipleBirthInteger": 2,
    "contact": [{"relationship": [{"coding": [{"code": "N"}]}], "gender": "female",
                 "period": {"start": "2012"}}],
    "contained": [{"resourceType": "Organization", "id": "o1", "name": "Clinic"}]
  })";
  JsonValue row = convert_resource("Patient", patient);
  EXPECT_EQ(at(row, "resourceType").as_string(), "Patient");
  EXPECT_EQ(at(at(row, "meta"), "lastUpdated").as_string(), "2024-05-01T10:30:00.123456Z");
  EXPECT_EQ(at(row, "birthDate").as_string(), "1974");  // no invented month or day
  EXPECT_EQ(at(row, "deceasedDateTime").as_string(), "2015-02");
  EXPECT_TRUE(at(row, "deceasedBoolean").is_null());
  EXPECT_EQ(at(row, "multipleBirthInteger").as_int(), 2);
  EXPECT_TRUE(at(row, "active").as_bool());
  EXPECT_EQ(at(at(row, "_birthDate"), "extension").as_array().at(0).as_string(),
            R"({"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime",)"
            R"("valueDateTime":"1974-12-25T14:35:45-05:00"})");

  const JsonValue::Array& extensions = at(row, "extension").as_array();
  ASSERT_EQ(extensions.size(), 4u);
  EXPECT_EQ(at(extensions[0], "valueString").as_string(), "Hoff");
  EXPECT_EQ(at(at(at(extensions[1], "valueCodeableConcept"), "coding").as_array().at(0), "code")
                .as_string(),
            "2106-3");
  EXPECT_EQ(at(extensions[2], "valueAddress").as_string(), R"({"city":"Oslo"})");
  EXPECT_EQ(at(extensions[3], "extension").as_array().at(0).as_string(),
            R"({"url":"a","valueInteger":4})");

  const JsonValue& name = at(row, "name").as_array().at(0);
  EXPECT_EQ(at(name, "given"), JsonValue(JsonValue::Array{"Peter", nullptr}));
  const JsonValue::Array& given_extensions = at(name, "_given").as_array();
  ASSERT_EQ(given_extensions.size(), 2u);  // aligned with `given`, null where it has none
  EXPECT_TRUE(given_extensions[0].is_null());
  EXPECT_EQ(at(given_extensions[1], "extension").as_array().at(0).as_string(),
            R"({"url":"http://example.org/q","valueCode":"x"})");
  EXPECT_EQ(at(at(name, "period"), "start").as_string(), "2001");

  const JsonValue& identifier = at(row, "identifier").as_array().at(0);
  EXPECT_EQ(at(at(identifier, "assigner"), "display").as_string(), "SSA");
  EXPECT_EQ(at(at(identifier, "assigner"), "identifier").as_string(), R"({"value":"x"})");
  EXPECT_EQ(at(at(row, "contact").as_array().at(0), "gender").as_string(), "female");
  EXPECT_EQ(at(row, "contained").as_array().at(0).as_string(),
            R"({"resourceType":"Organization","id":"o1","name":"Clinic"})");
}

TEST(FhirSchema, DecimalsKeepTheirExactText) {
  // HL7's own decimal test values (Observation/decimal): precision and exponents beyond any
  // Spark decimal(38, s), which is why FHIR decimals are strings.
  const std::string observation = R"({"resourceType": "Observation", "status": "final",
    "code": {"text": "decimals"},
    "valueQuantity": {"value": 1.00, "unit": "g"},
    "component": [
      {"code": {"text": "a"}, "valueQuantity": {"value": 1E-22}},
      {"code": {"text": "b"}, "valueQuantity": {"value": -1.000000000000000000E+245}},
      {"code": {"text": "c"}, "valueQuantity": {"value": 1000000000000000000}},
      {"code": {"text": "d"}, "valueQuantity": {"value": 66.899999999999991}},
      {"code": {"text": "e"}, "valueInteger": 9007199254740993}]})";
  JsonValue row = convert_resource("Observation", observation);
  EXPECT_EQ(at(at(row, "valueQuantity"), "value").as_string(), "1.00");
  const JsonValue::Array& components = at(row, "component").as_array();
  ASSERT_EQ(components.size(), 5u);
  EXPECT_EQ(at(at(components[0], "valueQuantity"), "value").as_string(), "1E-22");
  EXPECT_EQ(at(at(components[1], "valueQuantity"), "value").as_string(),
            "-1.000000000000000000E+245");
  EXPECT_EQ(at(at(components[2], "valueQuantity"), "value").as_string(), "1000000000000000000");
  EXPECT_EQ(at(at(components[3], "valueQuantity"), "value").as_string(), "66.899999999999991");
  EXPECT_EQ(at(components[4], "valueInteger").as_int(), 9007199254740993);  // exact as a long
}

TEST(FhirSchema, RecursionCutKeepsNestedItemsAsJsonText) {
  const std::string questionnaire = R"({"resourceType": "Questionnaire", "status": "draft",
    "item": [{"linkId": "g1", "type": "group",
              "item": [{"linkId": "q1", "type": "decimal", "initial": [{"valueDecimal": 0.50}],
                        "item": [{"linkId": "q1.1", "type": "string"}]}]}]})";
  JsonValue row = convert_resource("Questionnaire", questionnaire);
  const JsonValue& group = at(row, "item").as_array().at(0);
  EXPECT_EQ(at(group, "linkId").as_string(), "g1");
  EXPECT_EQ(at(group, "item").as_array().at(0).as_string(),
            R"({"linkId":"q1","type":"decimal","initial":[{"valueDecimal":0.50}],)"
            R"("item":[{"linkId":"q1.1","type":"string"}]})");

  JsonValue deeper = convert_resource("Questionnaire", questionnaire, {.max_recursion = 1});
  const JsonValue& question = at(at(deeper, "item").as_array().at(0), "item").as_array().at(0);
  EXPECT_EQ(at(question, "linkId").as_string(), "q1");
  EXPECT_EQ(at(at(question, "initial").as_array().at(0), "valueDecimal").as_string(), "0.50");
  EXPECT_EQ(at(question, "item").as_array().at(0).as_string(),
            R"({"linkId":"q1.1","type":"string"})");
}

// ---- Fidelity over HL7's examples ---------------------------------------------------------------

// The installed hl7.fhir.r4.examples package, or empty.
std::filesystem::path examples_dir() {
  std::vector<std::filesystem::path> candidates;
  if (const char* dir = std::getenv("LAKEFLOW_FHIR_EXAMPLES_DIR")) candidates.emplace_back(dir);
  std::filesystem::path repo = LAKEFLOW_REPO_DIR;
  for (const char* p : {"tools/fhir-server", "tools/fhir-model", "bench"}) {
    candidates.push_back(repo / p / "node_modules/hl7.fhir.r4.examples");
  }
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c / "Patient-example.json")) return c;
  }
  return {};
}

bool json_equal(simdjson::dom::element a, simdjson::dom::element b) {
  using simdjson::dom::element_type;
  bool a_number = a.is_number(), b_number = b.is_number();
  if (a_number || b_number) {
    return a_number && b_number && double(a.get_double()) == double(b.get_double());
  }
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case element_type::OBJECT: {
      simdjson::dom::object ao = a.get_object(), bo = b.get_object();
      if (ao.size() != bo.size()) return false;
      for (auto [key, value] : ao) {
        simdjson::dom::element other;
        if (bo.at_key(key).get(other) != simdjson::SUCCESS || !json_equal(value, other)) {
          return false;
        }
      }
      return true;
    }
    case element_type::ARRAY: {
      simdjson::dom::array aa = a.get_array(), ba = b.get_array();
      if (aa.size() != ba.size()) return false;
      for (auto ai = aa.begin(), bi = ba.begin(); ai != aa.end(); ++ai, ++bi) {
        if (!json_equal(*ai, *bi)) return false;
      }
      return true;
    }
    case element_type::STRING:
      return a.get_string().value() == b.get_string().value();
    case element_type::BOOL:
      return a.get_bool().value() == b.get_bool().value();
    default:
      return true;  // null
  }
}

// Compares a source resource with its converted row, value by value, through the schema. Every
// source key must have a field (nothing dropped), every non-null row value must come from the
// source (nothing invented), and every value must be the source's (typed, or JSON text).
class RowComparison {
 public:
  std::vector<std::string> problems;
  std::size_t typed_values = 0;
  std::size_t json_text_values = 0;

  void compare(simdjson::dom::element source, simdjson::dom::element row, const DataType& type,
               const std::string& path) {
    if (problems.size() > 20) return;
    if (source.is_null()) {
      if (!row.is_null()) problem(path, "null in the source, a value in the row");
      return;
    }
    switch (type.id()) {
      case TypeId::kStruct:
        return compare_struct(source, row, type, path);
      case TypeId::kArray: {
        simdjson::dom::array items;
        simdjson::dom::array row_items;
        if (source.get_array().get(items) != simdjson::SUCCESS) {
          return problem(path, "an array field holds a non-array");
        }
        if (row.get_array().get(row_items) != simdjson::SUCCESS ||
            row_items.size() != items.size()) {
          return problem(path, "array lengths differ");
        }
        std::size_t i = 0;
        for (auto item = items.begin(), row_item = row_items.begin(); item != items.end();
             ++item, ++row_item, ++i) {
          compare(*item, *row_item, type.element_type(), path + "[" + std::to_string(i) + "]");
        }
        return;
      }
      case TypeId::kString:
        return compare_string(source, row, path);
      case TypeId::kBoolean:
        ++typed_values;
        if (!source.is_bool() || !row.is_bool() || bool(source) != bool(row)) {
          problem(path, "boolean differs");
        }
        return;
      case TypeId::kLong:
        ++typed_values;
        if (!source.is_int64() || !row.is_int64() || int64_t(source) != int64_t(row)) {
          problem(path, "integer differs");
        }
        return;
      case TypeId::kTimestamp: {
        ++typed_values;
        std::string_view s, r;
        if (source.get_string().get(s) != simdjson::SUCCESS ||
            row.get_string().get(r) != simdjson::SUCCESS || !parse_instant(s).has_value() ||
            parse_instant(s) != parse_instant(r)) {
          problem(path, "instant differs");
        }
        return;
      }
      default:
        problem(path, "unexpected type " + type.simple_string());
    }
  }

 private:
  void problem(const std::string& path, const std::string& what) {
    problems.push_back(path + ": " + what);
  }

  simdjson::dom::parser text_parser_;

  void compare_struct(simdjson::dom::element source, simdjson::dom::element row,
                      const DataType& type, const std::string& path) {
    simdjson::dom::object object;
    if (source.get_object().get(object) != simdjson::SUCCESS) {
      return problem(path, "a struct field holds a non-object");
    }
    if (object.size() == 0) {
      if (!row.is_null()) problem(path, "{} should convert to null");
      return;
    }
    simdjson::dom::object row_object;
    if (row.get_object().get(row_object) != simdjson::SUCCESS) {
      return problem(path, "the row has no object");
    }
    // The row holds every field, in schema order.
    if (row_object.size() != type.fields().size()) return problem(path, "row fields differ");
    auto row_field = row_object.begin();
    for (const StructField& f : type.fields()) {
      auto [row_key, r] = *row_field;
      ++row_field;
      if (row_key != f.name) return problem(path + "." + f.name, "missing from the row");
      simdjson::dom::element s;
      bool in_source = object.at_key(f.name).get(s) == simdjson::SUCCESS;
      if (!in_source) {
        if (!r.is_null()) problem(path + "." + f.name, "a value the source does not have");
        continue;
      }
      compare(s, r, f.type, path + "." + f.name);
    }
    for (auto [key, value] : object) {
      bool known = std::any_of(type.fields().begin(), type.fields().end(),
                               [&](const StructField& f) { return f.name == key; });
      if (!known) problem(path + "." + std::string(key), "dropped: no field in the schema");
    }
  }

  void compare_string(simdjson::dom::element source, simdjson::dom::element row,
                      const std::string& path) {
    std::string_view text;
    if (row.get_string().get(text) != simdjson::SUCCESS) {
      return problem(path, "the row holds no string");
    }
    if (source.is_string()) {
      ++typed_values;
      if (source.get_string().value() != text) problem(path, "string differs");
    } else if (source.is_number()) {
      ++typed_values;  // a decimal, kept as its JSON text
      std::string number(text);
      char* end = nullptr;
      double value = std::strtod(number.c_str(), &end);
      if (end != number.c_str() + number.size() || value != double(source.get_double())) {
        problem(path, "number text differs: " + number);
      }
    } else if (source.is_bool()) {
      ++typed_values;
      if (text != (bool(source) ? "true" : "false")) problem(path, "boolean text differs");
    } else {
      ++json_text_values;  // an object or array cut to JSON text
      simdjson::dom::element parsed;
      if (text_parser_.parse(std::string(text)).get(parsed) != simdjson::SUCCESS ||
          !json_equal(parsed, source)) {
        problem(path, "JSON text differs from the source value");
      }
    }
  }
};

// The raw JSON text of every `entry[].resource` of a Bundle.
std::vector<std::string> bundle_resources(const std::string& bundle_text) {
  std::vector<std::string> out;
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(bundle_text);
  simdjson::ondemand::document bundle = parser.iterate(padded);
  simdjson::ondemand::array entries;
  if (bundle.find_field_unordered("entry").get_array().get(entries) != simdjson::SUCCESS) {
    return out;
  }
  for (simdjson::ondemand::object entry : entries) {
    simdjson::ondemand::object resource;
    if (entry.find_field_unordered("resource").get_object().get(resource) == simdjson::SUCCESS) {
      out.emplace_back(std::string_view(resource.raw_json()));
    }
  }
  return out;
}

TEST(FhirSchema, EveryHl7ExampleConvertsWithoutLossAndRoundTrips) {
  std::filesystem::path dir = examples_dir();
  if (dir.empty()) {
    GTEST_SKIP() << "HL7's FHIR R4 examples are not installed: run `npm ci` in tools/fhir-server "
                    "(or tools/fhir-model), or set LAKEFLOW_FHIR_EXAMPLES_DIR to an unpacked "
                    "hl7.fhir.r4.examples@4.0.1";
  }
  auto start = std::chrono::steady_clock::now();
  std::map<std::string, std::vector<std::string>> by_type;  // resource type → JSON texts
  std::size_t bytes = 0, files = 0, bundle_entries = 0;
  simdjson::dom::parser parser;
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string file = entry.path().filename().string();
    if (entry.path().extension() != ".json" || file == "package.json" || file[0] == '.') continue;
    paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());
  std::set<std::string> seen;  // Type/id of every example taken
  std::vector<std::string> bundles;
  for (const std::filesystem::path& path : paths) {
    std::string file = path.filename().string();
    std::string text = files::read_file(path);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS) << file;
    std::string_view type_text;
    ASSERT_EQ(doc["resourceType"].get(type_text), simdjson::SUCCESS) << file;
    std::string type(type_text);
    ASSERT_TRUE(is_r4_resource_type(type)) << file << ": " << type;
    bytes += text.size();
    ++files;
    std::string_view id;
    if (doc["id"].get(id) == simdjson::SUCCESS) seen.insert(type + "/" + std::string(id));
    if (type == "Bundle") bundles.push_back(text);
    by_type[type].push_back(std::move(text));
  }
  // Every Bundle entry's resource is an example of its own type too (the only Parameters are
  // there); resources that are also a file, or an earlier entry, are taken once.
  for (const std::string& bundle : bundles) {
    for (std::string& entry_text : bundle_resources(bundle)) {
      simdjson::dom::element entry = parser.parse(entry_text);
      std::string entry_type{std::string_view(entry["resourceType"])};
      std::string_view id;
      if (entry["id"].get(id) == simdjson::SUCCESS &&
          !seen.insert(entry_type + "/" + std::string(id)).second) {
        continue;
      }
      by_type[entry_type].push_back(std::move(entry_text));
      ++bundle_entries;
    }
  }
  ASSERT_GE(by_type.size(), 140u) << "an incomplete hl7.fhir.r4.examples in " << dir;

  std::size_t examples = 0;
  simdjson::dom::parser source_parser, row_parser;
  RowComparison comparison;
  for (auto& [type, texts] : by_type) {
    SCOPED_TRACE(type);
    StructType schema = resource_schema(type);
    RecordConverter converter(schema, type, BadRecordMode::kFail);
    ColumnBatch batch = converter.make_batch();
    RecordBatch records;
    for (const std::string& t : texts) records.append(t);
    try {
      ASSERT_EQ(converter.convert(records, batch), texts.size());
    } catch (const ConversionError& e) {
      FAIL() << e.what();
    }
    for (std::size_t i = 0; i < texts.size(); ++i) {
      comparison.problems.clear();
      simdjson::dom::element source = source_parser.parse(texts[i]);
      std::string row_json = batch.row_json(i);
      simdjson::dom::element row = row_parser.parse(row_json);
      comparison.compare(source, row, schema, type);
      EXPECT_THAT(comparison.problems, ::testing::IsEmpty())
          << type << " example " << i << ": " << texts[i].substr(0, 120);
    }
    examples += texts.size();
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "converted %zu HL7 examples (%zu files of %.0f MB, %zu Bundle entries) of %zu resource "
      "types in %.1f s: %zu values typed, %zu kept as JSON text, 0 errors (from %s)\n",
      examples, files, bytes / 1e6, bundle_entries, by_type.size(), seconds,
      comparison.typed_values, comparison.json_text_values, dir.c_str());
  EXPECT_GE(files, 5000u);
  EXPECT_GE(bundle_entries, 8000u);
  EXPECT_EQ(by_type.size(), 141u);  // all but the five Substance* types without examples
}

}  // namespace
}  // namespace lakeflow::fhir
