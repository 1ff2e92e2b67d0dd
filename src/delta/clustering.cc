#include "delta/clustering.h"

#include <fmt/format.h>

#include "delta/table_features.h"
#include "lakeflow/json.h"

namespace lakeflow::delta {

namespace {

constexpr std::string_view kColumnsKey = "clusteringColumns";

std::string clustering_configuration(const std::vector<std::vector<std::string>>& columns) {
  JsonValue::Array list;
  for (const std::vector<std::string>& path : columns) {
    JsonValue::Array parts(path.begin(), path.end());
    list.emplace_back(std::move(parts));
  }
  JsonValue::Object configuration;
  configuration.emplace(std::string(kColumnsKey), JsonValue(std::move(list)));
  return JsonValue(std::move(configuration)).dump();
}

}  // namespace

std::optional<std::vector<std::vector<std::string>>> clustering_columns(const Snapshot& snapshot) {
  auto it = snapshot.domains.find(kClusteringDomain);
  if (it == snapshot.domains.end()) return std::nullopt;
  auto malformed = [&](std::string_view problem) {
    return DeltaLogError(fmt::format(
        "Delta table {}: the {} domain's configuration {}: {}; the log was written by an "
        "incompatible writer (rerun with --full-refresh to rewrite the table's data, or write to a "
        "new destination table)",
        snapshot.table_path, kClusteringDomain, problem, it->second.configuration));
  };
  JsonValue configuration;
  try {
    configuration = JsonValue::parse(it->second.configuration, kClusteringDomain);
  } catch (const Error&) {
    throw malformed("is not JSON");
  }
  const JsonValue* list = configuration.find(kColumnsKey);
  if (list == nullptr || !list->is_array()) throw malformed("has no clusteringColumns list");
  std::vector<std::vector<std::string>> columns;
  for (const JsonValue& column : list->as_array()) {
    std::vector<std::string> path;
    if (column.is_string()) {
      path.push_back(column.as_string());
    } else if (column.is_array()) {
      for (const JsonValue& part : column.as_array()) {
        if (!part.is_string()) throw malformed("names a column by something else than strings");
        path.push_back(part.as_string());
      }
    }
    if (path.empty()) throw malformed("names an empty column");
    columns.push_back(std::move(path));
  }
  return columns;
}

std::vector<Action> set_clustering_columns(Snapshot& snapshot,
                                           const std::vector<std::vector<std::string>>& columns) {
  const auto recorded = clustering_columns(snapshot);
  if (recorded ? *recorded == columns : columns.empty()) return {};
  std::vector<Action> actions;
  const ProtocolAction protocol = protocol_with_features(snapshot.protocol, {kClusteringFeature});
  if (snapshot.version < 0) {
    snapshot.protocol = protocol;
  } else if (!(protocol == snapshot.protocol)) {
    actions.emplace_back(protocol);
  }
  actions.emplace_back(
      DomainMetadataAction{std::string(kClusteringDomain), clustering_configuration(columns)});
  return actions;
}

}  // namespace lakeflow::delta
