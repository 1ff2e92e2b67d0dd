#include "fhir_capability.h"

#include <fmt/format.h>

#include "lakeflow/error.h"
#include "lakeflow/json.h"

namespace lakeflow::fhir {
namespace {

std::string string_member(const JsonValue& object, std::string_view key) {
  const JsonValue* value = object.find(key);
  return value != nullptr && value->is_string() ? value->as_string() : std::string();
}

bool lists_last_updated(const JsonValue& holder, bool& lists_any) {
  const JsonValue* params = holder.find("searchParam");
  if (params == nullptr || !params->is_array()) return false;
  bool found = false;
  for (const JsonValue& param : params->as_array()) {
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
  JsonValue statement;
  try {
    statement = JsonValue::parse(body, "CapabilityStatement");
  } catch (const Error&) {
    throw fail("the body is not JSON");
  }
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
  if (const JsonValue* software = statement.find("software"); software && software->is_object()) {
    capabilities.software = string_member(*software, "name");
    const std::string version = string_member(*software, "version");
    if (!version.empty()) capabilities.software += " " + version;
  }
  const JsonValue* rest = statement.find("rest");
  if (rest == nullptr || !rest->is_array()) throw fail("it has no rest[] entry");
  for (const JsonValue& entry : rest->as_array()) {
    if (!entry.is_object() || string_member(entry, "mode") != "server") continue;
    const bool server_wide = lists_last_updated(entry, capabilities.lists_search_params);
    const JsonValue* resources = entry.find("resource");
    if (resources == nullptr || !resources->is_array()) continue;
    for (const JsonValue& resource : resources->as_array()) {
      if (!resource.is_object()) continue;
      const std::string type = string_member(resource, "type");
      if (type.empty()) continue;
      ResourceCapability& capability = capabilities.resources[type];
      capability.last_updated_param =
          server_wide || lists_last_updated(resource, capabilities.lists_search_params);
      const JsonValue* interactions = resource.find("interaction");
      if (interactions == nullptr || !interactions->is_array()) continue;
      for (const JsonValue& interaction : interactions->as_array()) {
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
