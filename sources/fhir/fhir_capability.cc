#include "fhir_capability.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <optional>

#include "lakeflow/error.h"

namespace lakeflow::fhir {
namespace {

// The statement is read with simdjson's DOM (servers list hundreds of types with their search
// parameters). A repeated member keeps its last value, as JsonValue::parse reads it.
namespace dom = simdjson::dom;

std::optional<dom::element> member(dom::element object, std::string_view key) {
  dom::object members;
  if (object.get_object().get(members) != simdjson::SUCCESS) return std::nullopt;
  std::optional<dom::element> found;
  for (dom::key_value_pair pair : members) {
    if (pair.key == key) found = pair.value;
  }
  return found;
}

std::string string_member(dom::element object, std::string_view key) {
  std::string_view text;
  const std::optional<dom::element> value = member(object, key);
  if (!value || value->get_string().get(text) != simdjson::SUCCESS) return std::string();
  return std::string(text);
}

// The elements of the array at `key`; nullopt when there is none or it is not an array.
std::optional<dom::array> array_member(dom::element object, std::string_view key) {
  dom::array items;
  const std::optional<dom::element> value = member(object, key);
  if (!value || value->get_array().get(items) != simdjson::SUCCESS) return std::nullopt;
  return items;
}

bool lists_last_updated(dom::element holder, bool& lists_any) {
  const std::optional<dom::array> params = array_member(holder, "searchParam");
  if (!params) return false;
  bool found = false;
  for (dom::element param : *params) {
    if (!param.is_object()) continue;
    lists_any = true;
    found |= string_member(param, "name") == "_lastUpdated";
  }
  return found;
}

}  // namespace

bool ServerCapabilities::incremental_search(std::string_view type) const {
  const auto found = resources.find(type);
  if (found == resources.end() || !found->second.search) return false;
  return found->second.last_updated_param || !lists_search_params;
}

ServerCapabilities parse_capability_statement(std::string_view body, std::string_view base_url) {
  const auto fail = [&](std::string_view problem) {
    return SourceError(fmt::format(
        "fhir: GET {}/metadata did not return a usable CapabilityStatement: {}; check that "
        "base_url points at the FHIR R4 base (the URL that [base]/Patient searches under)",
        base_url, problem));
  };
  dom::parser parser;
  const simdjson::padded_string padded(body);
  dom::element statement;
  if (parser.parse(padded).get(statement) != simdjson::SUCCESS) throw fail("the body is not JSON");
  if (!statement.is_object() || string_member(statement, "resourceType") != "CapabilityStatement") {
    throw fail("resourceType is not CapabilityStatement");
  }
  ServerCapabilities capabilities;
  capabilities.fhir_version = string_member(statement, "fhirVersion");
  if (!capabilities.fhir_version.starts_with("4.0")) {
    throw SourceError(fmt::format(
        "fhir: the server at {} speaks FHIR {} (CapabilityStatement.fhirVersion); this connector "
        "reads FHIR R4 (4.0.x): point base_url at the server's R4 endpoint",
        base_url,
        capabilities.fhir_version.empty() ? "of an unstated version" : capabilities.fhir_version));
  }
  if (const std::optional<dom::element> software = member(statement, "software");
      software && software->is_object()) {
    capabilities.software = string_member(*software, "name");
    const std::string version = string_member(*software, "version");
    if (!version.empty()) capabilities.software += " " + version;
  }
  const std::optional<dom::array> rest = array_member(statement, "rest");
  if (!rest) throw fail("it has no rest[] entry");
  for (dom::element entry : *rest) {
    if (!entry.is_object() || string_member(entry, "mode") != "server") continue;
    const bool server_wide = lists_last_updated(entry, capabilities.lists_search_params);
    const std::optional<dom::array> resources = array_member(entry, "resource");
    if (!resources) continue;
    for (dom::element resource : *resources) {
      if (!resource.is_object()) continue;
      const std::string type = string_member(resource, "type");
      if (type.empty()) continue;
      ResourceCapability& capability = capabilities.resources[type];
      capability.last_updated_param =
          server_wide || lists_last_updated(resource, capabilities.lists_search_params);
      const std::optional<dom::array> interactions = array_member(resource, "interaction");
      if (!interactions) continue;
      for (dom::element interaction : *interactions) {
        if (!interaction.is_object()) continue;
        const std::string code = string_member(interaction, "code");
        if (code == "search-type") capability.search = true;
        if (code == "history-type") capability.type_history = true;
      }
    }
  }
  if (capabilities.resources.empty()) throw fail("rest[mode=server] lists no resource types");
  return capabilities;
}

}  // namespace lakeflow::fhir
