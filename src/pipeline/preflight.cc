#include "pipeline/preflight.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/registry.h"

namespace lakeflow::pipeline {
namespace {

struct Problem {
  const TableSpec* table;
  ErrorCode code;
  std::string message;
};

std::string served_tables(const std::vector<std::string>& served) {
  constexpr std::size_t kMaxListed = 30;
  std::string list;
  for (std::size_t i = 0; i < served.size() && i < kMaxListed; ++i) {
    if (i > 0) list += ", ";
    list += served[i];
  }
  if (served.size() > kMaxListed)
    list += fmt::format(", ... ({} more)", served.size() - kMaxListed);
  return list.empty() ? "no table" : list;
}

}  // namespace

std::vector<TablePlan> check_tables(const PipelineSpec& spec, const Connection& connection,
                                    const destination::Destination& destination,
                                    const std::vector<const TableSpec*>& tables,
                                    std::unique_ptr<LakeflowConnect>* checked) {
  std::unique_ptr<LakeflowConnect> connector;
  std::vector<std::string> served;
  try {
    connector = ConnectorRegistry::instance().create(connection.connector, connection.options);
    served = connector->list_tables();
  } catch (const std::exception& e) {
    throw Error(code_of(e),
                fmt::format("connection '{}' ({}, connector '{}') cannot be used, so no table of "
                            "{} was run: {}",
                            connection.name, connection.location, connection.connector,
                            spec.file_name, e.what()));
  }

  std::vector<TablePlan> plans;
  std::vector<Problem> problems;
  bool unknown = false;
  for (const TableSpec* table : tables) {
    if (std::find(served.begin(), served.end(), table->source_table) == served.end()) {
      problems.push_back({table, ErrorCode::kUnknownTable,
                          fmt::format("connector '{}' has no table '{}' (names are case-sensitive)",
                                      connection.connector, table->source_table)});
      unknown = true;
      continue;
    }
    try {
      const StructType schema =
          connector->get_table_schema(table->source_table, table->table_options);
      const TableMetadata metadata =
          connector->read_table_metadata(table->source_table, table->table_options);
      plans.push_back(plan_table(*table, metadata, schema, destination));
    } catch (const std::exception& e) {
      problems.push_back({table, code_of(e), e.what()});
      continue;
    }
    if (auto problem = destination.check_location(spec.table_path(*table))) {
      problems.push_back({table, problem->code, std::move(problem->message)});
    }
  }
  if (problems.empty()) {
    if (checked != nullptr) *checked = std::move(connector);
    return plans;
  }

  std::string message =
      fmt::format("{}: {} of {} tables cannot run, so no table was run:", spec.file_name,
                  problems.size(), tables.size());
  for (const Problem& problem : problems) {
    message +=
        fmt::format(" [table '{}' ({}) at {}] {}", problem.table->source_table,
                    problem.table->destination_name(), problem.table->location, problem.message);
    if (!message.ends_with('.')) message += '.';
  }
  if (unknown) {
    message += fmt::format(" Connection '{}' serves: {}.", connection.name, served_tables(served));
  }
  message += fmt::format(" Fix these entries of {} (or leave them out with --tables) and rerun.",
                         spec.file_name);
  throw Error(problems.front().code, std::move(message));
}

}  // namespace lakeflow::pipeline
