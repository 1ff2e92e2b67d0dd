// Helpers the simulated source, its spec reader and its coverage and drift trackers share.
// Internal to the HTTP toolkit.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "lakeflow/http/simulator.h"
#include "lakeflow/json.h"

namespace lakeflow::http::simulator_internal {

// `/a/{b}/c` -> {"a", "{b}", "c"}.
std::vector<std::string> split_path(std::string_view path);
// The path of an absolute URL, without its query.
std::string path_of(std::string_view url);
// The value at a dotted path of objects, or null.
const JsonValue* get_field(const JsonValue& record, std::string_view path);
void set_field(JsonValue& record, std::string_view path, JsonValue value);
// The records of a response body: the array at the endpoint's records_key, a top-level array, or
// the object itself for an endpoint that addresses one record.
std::vector<const JsonValue*> records_of(const JsonValue& body, const Endpoint& endpoint);
// Every corpus/*.json by file stem; empty when the folder does not exist.
std::map<std::string, JsonValue, std::less<>> load_corpus(const std::filesystem::path& dir);

}  // namespace lakeflow::http::simulator_internal
