// Unit tests of upstream's FHIR table options that need no server: `profile` (the UK Core Patient
// columns and how they are extracted) and `page_delay` (the pacing of page requests, on a clock the
// test drives).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "fhir_page_pacer.h"
#include "fhir_profile.h"
#include "lakeflow/error.h"
#include "lakeflow/json.h"

namespace lakeflow::fhir {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using namespace std::chrono_literals;

// The JSON object of the profile columns extracted from the Patient `resource`.
JsonValue uk_core_columns(const std::string& resource) {
  std::string padded = resource;
  padded.reserve(padded.size() + 64);  // the padding the extraction may read past the end
  std::string members;
  append_profile_members(members, Profile::kUkCore, "Patient", padded,
                         padded.data() + padded.capacity(), "test");
  return JsonValue::parse("{" + members.substr(1) + "}", "columns");
}

constexpr const char* kUkPatient = R"({
  "resourceType": "Patient", "id": "p1",
  "extension": [
    {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
     "valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory",
       "code": "A", "display": "British, Mixed British", "version": "1", "userSelected": true},
       {}], "text": "British"}},
    {"valueCodeableConcept": {"coding": [{"code": "F"}]},
     "url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BirthSex"},
    {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-BirthSex",
     "valueCodeableConcept": {"coding": [{"code": "M"}]}},
    {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus",
     "extension": [
       {"url": "systemEffectiveDate", "valueDateTime": "2024-01-01T00:00:00Z"},
       {"valueCodeableConcept": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus",
         "code": "2", "display": "Formal"}]}, "url": "deathNotificationStatus"}]},
    {"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired",
     "valueBoolean": true},
    {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-ResidentialStatus",
     "valueCodeableConcept": {"text": "UK resident"}}
  ],
  "identifier": [
    {"system": "urn:oid:1.2.3", "value": "x-1"},
    {"value": "9000000009", "system": "https://fhir.nhs.uk/Id/nhs-number"},
    {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"}
  ],
  "name": [{"family": "Smith"}]
})";

TEST(Profile, ParsesUpstreamNamesOnly) {
  EXPECT_EQ(parse_profile("base_r4"), Profile::kBaseR4);
  EXPECT_EQ(parse_profile("uk_core"), Profile::kUkCore);
  try {
    parse_profile("UK_CORE");
    FAIL() << "accepted";
  } catch (const ConfigError& error) {
    EXPECT_THAT(error.what(), HasSubstr("option 'profile': expected base_r4"));
    EXPECT_THAT(error.what(), HasSubstr("or uk_core"));
    EXPECT_THAT(error.what(), HasSubstr("got 'UK_CORE'"));
  }
}

TEST(Profile, UkCoreAddsSixColumnsToPatientOnly) {
  std::vector<std::string> names;
  for (const StructField& field : profile_columns(Profile::kUkCore, "Patient")) {
    names.push_back(field.name);
  }
  EXPECT_THAT(names,
              ElementsAre("nhs_number", "ethnic_category", "birth_sex", "death_notification_status",
                          "interpreter_required", "residential_status"));
  const std::vector<StructField> columns = profile_columns(Profile::kUkCore, "Patient");
  EXPECT_EQ(columns[0].type.json(), "\"string\"");
  EXPECT_EQ(columns[4].type.json(), "\"boolean\"");
  EXPECT_EQ(
      columns[1].type.json(),
      R"({"fields":[{"metadata":{},"name":"coding","nullable":true,"type":{"containsNull":true,)"
      R"("elementType":{"fields":[{"metadata":{},"name":"system","nullable":true,"type":"string"},)"
      R"({"metadata":{},"name":"code","nullable":true,"type":"string"},{"metadata":{},"name":)"
      R"("display","nullable":true,"type":"string"}],"type":"struct"},"type":"array"}},)"
      R"({"metadata":{},"name":"text","nullable":true,"type":"string"}],"type":"struct"})");
  EXPECT_TRUE(profile_columns(Profile::kUkCore, "Observation").empty());
  EXPECT_TRUE(profile_columns(Profile::kBaseR4, "Patient").empty());

  std::string untouched = "{\"a\":1";
  append_profile_members(untouched, Profile::kBaseR4, "Patient", kUkPatient, nullptr, "test");
  append_profile_members(untouched, Profile::kUkCore, "Observation", kUkPatient, nullptr, "test");
  EXPECT_EQ(untouched, "{\"a\":1");
}

// The first matching identifier and extension count; codings keep system, code and display.
TEST(Profile, UkCorePatientColumnsFollowUpstreamExtraction) {
  const JsonValue columns = uk_core_columns(kUkPatient);
  EXPECT_EQ(columns.dump(), JsonValue::parse(R"({
    "nhs_number": "9000000009",
    "ethnic_category": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategory",
      "code": "A", "display": "British, Mixed British"}], "text": "British"},
    "birth_sex": {"coding": [{"system": null, "code": "F", "display": null}], "text": null},
    "death_notification_status": {"coding": [{"system": "https://fhir.hl7.org.uk/CodeSystem/UKCore-DeathNotificationStatus",
      "code": "2", "display": "Formal"}], "text": null},
    "interpreter_required": true,
    "residential_status": {"coding": [], "text": "UK resident"}})")
                                .dump());
}

TEST(Profile, UkCoreColumnsAreNullWhenTheirSourceIsAbsentOrEmpty) {
  const JsonValue none = uk_core_columns(R"({"resourceType":"Patient","id":"p2"})");
  for (const char* column :
       {"nhs_number", "ethnic_category", "birth_sex", "death_notification_status",
        "interpreter_required", "residential_status"}) {
    ASSERT_NE(none.find(column), nullptr) << column;
    EXPECT_TRUE(none.find(column)->is_null()) << column;
  }
  // A first match without its value gives null, as upstream; an empty concept is null.
  const JsonValue empty = uk_core_columns(R"({"resourceType":"Patient",
    "identifier": [{"system": "https://fhir.nhs.uk/Id/nhs-number"},
                   {"system": "https://fhir.nhs.uk/Id/nhs-number", "value": "9000000017"}],
    "extension": [
      {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory",
       "valueCodeableConcept": {}},
      {"url": "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-DeathNotificationStatus",
       "extension": [{"url": "systemEffectiveDate", "valueDateTime": "2024-01-01"}]},
      {"url": "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"}]})");
  for (const char* column :
       {"nhs_number", "ethnic_category", "death_notification_status", "interpreter_required"}) {
    EXPECT_TRUE(empty.find(column)->is_null()) << column << " " << empty.dump();
  }
}

// A clock that moves only when the pacer sleeps or the test says so.
struct FakeClock {
  PagePacer::Clock::time_point now{};
  std::vector<PagePacer::Clock::duration> sleeps;

  PagePacer pacer() {
    return PagePacer([this] { return now; },
                     [this](PagePacer::Clock::duration d) {
                       sleeps.push_back(d);
                       now += d;
                     });
  }
};

TEST(PagePacer, WaitsTheDelayAfterEachPageOfATableButNotBeforeItsFirst) {
  FakeClock clock;
  PagePacer pacer = clock.pacer();
  const auto page = [&](std::string_view table, std::chrono::milliseconds delay,
                        PagePacer::Clock::duration takes) {
    return pacer.fetch(table, delay, [&] {
      clock.now += takes;
      return 1;
    });
  };
  EXPECT_EQ(page("Patient", 1000ms, 200ms), 1);
  EXPECT_TRUE(clock.sleeps.empty());
  page("Patient", 1000ms, 200ms);  // the delay runs from when the previous page arrived
  EXPECT_THAT(clock.sleeps, ElementsAre(1000ms));
  page("Observation", 1000ms, 10ms);  // another table: its first page
  EXPECT_THAT(clock.sleeps, ElementsAre(1000ms));
  clock.now += 600ms;  // time spent elsewhere counts towards the delay
  page("Patient", 1000ms, 10ms);
  EXPECT_THAT(clock.sleeps, ElementsAre(1000ms, 390ms));
  clock.now += 5s;
  page("Patient", 1000ms, 10ms);
  page("Observation", 0ms, 10ms);  // no delay: no wait
  EXPECT_THAT(clock.sleeps, ElementsAre(1000ms, 390ms));
}

TEST(PagePacer, AFailedRequestCountsAsAPage) {
  FakeClock clock;
  PagePacer pacer = clock.pacer();
  EXPECT_THROW(
      pacer.fetch("Patient", 250ms, []() -> int { throw SourceError("the server went away"); }),
      SourceError);
  pacer.fetch("Patient", 250ms, [] { return 0; });
  EXPECT_THAT(clock.sleeps, ElementsAre(250ms));
}

}  // namespace
}  // namespace lakeflow::fhir
