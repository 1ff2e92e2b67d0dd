// The table option `profile`: the implementation guide whose extracted columns a table gets on top
// of its R4 columns, with upstream's profile names and column semantics.
//
//   base_r4  (default) the FHIR R4 columns only.
//   uk_core  UK Core (https://fhir.hl7.org.uk): Patient gets six more columns, extracted from its
//            identifiers and extensions. Other types have no UK Core columns (as upstream, they
//            fall back to base_r4).
//
// UK Core Patient columns, after the connector's columns, each null when its source is absent:
//   nhs_number                 string   `value` of the first identifier whose system is
//                                       https://fhir.nhs.uk/Id/nhs-number
//   ethnic_category            CC       the first extension with url .../Extension-UKCore-
//                                       EthnicCategory: its valueCodeableConcept
//   birth_sex                  CC       .../Extension-UKCore-BirthSex: valueCodeableConcept
//   death_notification_status  CC       .../Extension-UKCore-DeathNotificationStatus: the
//                                       valueCodeableConcept of its first sub-extension with url
//                                       deathNotificationStatus
//   interpreter_required       boolean  http://hl7.org/fhir/StructureDefinition/patient-
//                                       interpreterRequired: valueBoolean
//   residential_status         CC       .../Extension-UKCore-ResidentialStatus:
//                                       valueCodeableConcept
// (`...` is https://fhir.hl7.org.uk/StructureDefinition.) CC is upstream's reduced
// CodeableConcept, struct<coding: array<struct<system, code, display: string>>, text: string>:
// codings that are empty or not objects are left out, a concept without codings has an empty
// list, and an empty concept is null. The first match counts even when it lacks the value (as
// upstream: then the column is null).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/types.h"

namespace lakeflow::fhir {

enum class Profile : std::uint8_t { kBaseR4, kUkCore };

inline constexpr std::string_view kProfileOption = "profile";

// `base_r4` or `uk_core` (exact, as upstream). Throws ConfigError naming the option, the value and
// the profiles.
Profile parse_profile(std::string_view value);

// The columns `profile` adds to `table`'s schema: none, or uk_core's six for Patient.
std::vector<StructField> profile_columns(Profile profile, std::string_view table);

// Appends `,"<column>":<value>` for each of profile_columns(profile, table), extracted from
// `resource` (a JSON object inside a buffer readable up to `readable_end`, at least 64 bytes past
// the resource's end). Values are the resource's own JSON text, so they convert by the same rules
// as every other column. Throws SourceError naming `url` when the resource is not valid JSON.
void append_profile_members(std::string& record, Profile profile, std::string_view table,
                            std::string_view resource, const char* readable_end,
                            std::string_view url);

}  // namespace lakeflow::fhir
