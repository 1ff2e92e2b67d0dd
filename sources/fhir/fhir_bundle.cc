#include "fhir_bundle.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "lakeflow/error.h"

namespace lakeflow::fhir {
namespace {

namespace od = simdjson::ondemand;

SourceError not_a_bundle(std::string_view url, std::string_view problem) {
  return SourceError(fmt::format(
      "fhir: the response to GET {} is not a FHIR Bundle ({}); check base_url and that the "
      "server speaks FHIR R4 JSON",
      url, problem));
}

std::string_view string_or_empty(od::value value) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS) return {};
  return text;
}

}  // namespace

void for_each_bundle_entry(const std::string& body, std::string_view url,
                           const std::function<void(const BundleEntry&)>& on_entry) {
  if (body.capacity() < body.size() + simdjson::SIMDJSON_PADDING) {
    throw Error(ErrorCode::kInternal, "fhir: a Bundle body without simdjson padding");
  }
  od::parser parser;
  try {
    od::document document = parser.iterate(body.data(), body.size(), body.capacity());
    bool is_bundle = false;
    for (od::field field : document.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "resourceType") {
        const std::string_view type = string_or_empty(field.value());
        if (type != "Bundle") {
          throw not_a_bundle(url, fmt::format("resourceType is '{}'", type));
        }
        is_bundle = true;
      } else if (key == "entry") {
        for (od::value item : field.value().get_array()) {
          BundleEntry entry;
          for (od::field member : item.get_object()) {
            const std::string_view name = member.unescaped_key();
            if (name == "resource") {
              od::object resource = member.value().get_object();
              entry.resource = resource.raw_json();
            } else if (name == "fullUrl") {
              entry.full_url = string_or_empty(member.value());
            } else if (name == "search") {
              for (od::field part : member.value().get_object()) {
                const std::string_view part_name = part.unescaped_key();
                if (part_name == "mode") entry.search_mode = string_or_empty(part.value());
              }
            } else if (name == "request") {
              for (od::field part : member.value().get_object()) {
                const std::string_view part_name = part.unescaped_key();
                if (part_name == "method") entry.request_method = string_or_empty(part.value());
                if (part_name == "url") entry.request_url = string_or_empty(part.value());
              }
            } else if (name == "response") {
              for (od::field part : member.value().get_object()) {
                const std::string_view part_name = part.unescaped_key();
                if (part_name == "lastModified") {
                  entry.response_last_modified = string_or_empty(part.value());
                }
              }
            }
          }
          on_entry(entry);
        }
      }
    }
    if (!is_bundle) throw not_a_bundle(url, "no resourceType");
  } catch (const simdjson::simdjson_error& error) {
    throw not_a_bundle(url, error.what());
  }
}

ResourceHeader read_resource_header(std::string_view resource, const char* readable_end,
                                    std::string_view url) {
  ResourceHeader header;
  thread_local od::parser parser;
  try {
    od::document document = parser.iterate(
        resource.data(), resource.size(), static_cast<std::size_t>(readable_end - resource.data()));
    for (od::field field : document.get_object()) {
      const std::string_view key = field.unescaped_key();
      if (key == "resourceType") {
        header.resource_type = std::string(string_or_empty(field.value()));
      } else if (key == "id") {
        header.id = std::string(string_or_empty(field.value()));
      } else if (key == "meta") {
        od::object meta;
        if (field.value().get_object().get(meta) != simdjson::SUCCESS) continue;
        for (od::field part : meta) {
          const std::string_view part_name = part.unescaped_key();
          if (part_name == "lastUpdated") {
            header.last_updated = std::string(string_or_empty(part.value()));
          }
        }
      }
    }
  } catch (const simdjson::simdjson_error& error) {
    throw SourceError(
        fmt::format("fhir: a resource in the response to GET {} is not a JSON "
                    "object ({})",
                    url, error.what()));
  }
  return header;
}

}  // namespace lakeflow::fhir
