// What a FHIR server says it offers: its CapabilityStatement (GET [base]/metadata).
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace lakeflow::fhir {

struct ResourceCapability {
  bool search = false;        // interaction search-type
  bool type_history = false;  // interaction history-type: GET [type]/_history?_since=
  // `_lastUpdated` is among the type's searchParam (or the server-wide rest.searchParam).
  bool last_updated_param = false;
};

struct ServerCapabilities {
  std::string fhir_version;  // e.g. "4.0.1"
  std::string software;      // software.name (and version), for messages
  // rest[mode=server].resource[], by type.
  std::map<std::string, ResourceCapability, std::less<>> resources;
  // Whether the statement lists search parameters at all. When it does, a type without
  // `_lastUpdated` among them cannot be read incrementally; when it does not, search-type is all
  // there is to go on.
  bool lists_search_params = false;

  // Whether `type` can be read incrementally: search-type, and `_lastUpdated` unless the statement
  // lists no search parameters.
  bool incremental_search(std::string_view type) const;
};

// Reads a CapabilityStatement. Throws SourceError naming `base_url` when the body is not one, or
// when its fhirVersion is not R4 (4.0.x).
ServerCapabilities parse_capability_statement(std::string_view body, std::string_view base_url);

}  // namespace lakeflow::fhir
