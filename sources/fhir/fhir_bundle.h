// Reading FHIR Bundles (search and history pages) without copying the resources they hold.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace lakeflow::fhir {

// One Bundle.entry. Views point into the page body (resource) or into parser-owned storage valid
// only during the callback (the other fields).
struct BundleEntry {
  std::string_view resource;  // the resource's JSON text as sent; empty when absent
  std::string_view search_mode;
  std::string_view request_method;
  std::string_view request_url;
  std::string_view response_last_modified;
  std::string_view full_url;
};

// Calls `on_entry` for each entry of the Bundle in `body` (a std::string whose capacity extends at
// least 64 bytes past its size, as HttpClient bodies do). Throws SourceError naming `url` when the
// body is not a Bundle.
void for_each_bundle_entry(const std::string& body, std::string_view url,
                           const std::function<void(const BundleEntry&)>& on_entry);

// What the connector needs from a resource: its type, id and meta.lastUpdated (copied).
struct ResourceHeader {
  std::string resource_type;
  std::string id;
  std::string last_updated;  // empty when the resource has no meta.lastUpdated
};

// Reads the header of `resource`, which lies inside a buffer readable up to `readable_end` (at
// least 64 bytes past the resource's end). Throws SourceError naming `url` for JSON that is not an
// object.
ResourceHeader read_resource_header(std::string_view resource, const char* readable_end,
                                    std::string_view url);

}  // namespace lakeflow::fhir
