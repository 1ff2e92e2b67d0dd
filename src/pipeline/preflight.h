// The checks a pipeline passes before it lands any table, so that a mistake in the spec, the
// connection or a table's options fails the run with nothing written, instead of being found
// when its table starts, after other tables landed.
//
// For the connection: its connector is created with the connection's options (bad options,
// rejected credentials or an unreachable source fail here). For each table, in spec order:
//   * it must be one of the connector's list_tables();
//   * its schema and metadata are read with its table options (connectors check their table
//     options there, see connector.h) and planned (table_plan.h): keys, sequence and cluster
//     columns must exist;
//   * the destination must be able to write it there (Destination::check_location) and cluster it
//     by its cluster_by columns (Destination::clustering_problem, through plan_table).
// Every table is checked, and one error names every table that failed and why.
#pragma once

#include <memory>
#include <vector>

#include "destination/destination.h"
#include "pipeline/connections.h"
#include "pipeline/pipeline_spec.h"
#include "pipeline/table_plan.h"

namespace lakeflow::pipeline {

// The plans of `tables` (entries of `spec`), in their order. Throws lakeflow::Error when the
// connector cannot be created (with that error's code) or when a table fails a check: the message
// names the spec, every such table with its `file:line:column` and problem, and what to do; the
// code is that of the first table's problem (kUnknownTable, kConfig, kSchema, kAccess, ...).
// With `connector`, the connector the checks asked is handed over there when they pass (a run
// reads a table with it rather than making another: making one may take a round trip to the
// source).
std::vector<TablePlan> check_tables(const PipelineSpec& spec, const Connection& connection,
                                    const destination::Destination& destination,
                                    const std::vector<const TableSpec*>& tables,
                                    std::unique_ptr<LakeflowConnect>* connector = nullptr);

}  // namespace lakeflow::pipeline
