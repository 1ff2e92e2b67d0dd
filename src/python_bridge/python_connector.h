// Python connectors in the C++ pipeline: a connector written against upstream's Python interface
// (a class with list_tables, get_table_schema, read_table_metadata, read_table and optionally
// read_table_deletes, returning dicts) named `python:package.module:ClassName` wherever a
// connector name goes (a connections file, `lakeflow read -c`, the conformance suite).
//
// Each connector instance is one Python process running python/lakeflow/_bridge.py (compiled
// into this library): the interpreter is LAKEFLOW_PYTHON, else `python3` on PATH; the module is
// imported from PYTHONPATH, the current directory, and the lakeflow package beside the running
// program (`<dir of the executable>/python`, where `make python` puts it) so that a connector may
// `from lakeflow.types import ...`. A process per instance (rather than an embedded interpreter):
// tables read in parallel run in parallel (no shared GIL), a connector that crashes or leaks fails
// its own read only, and the connector runs on the user's Python (a venv), not the one lakeflow
// was built against. Records cross as JSON text, which is what the converter reads anyway
// (docs/DESIGN.md, "Python", has the measurements).
//
// Options: a connector_spec.yaml beside the module is its spec (upstream's connectors ship one):
// options are checked against it and its secrets hidden. Without one, every option is passed
// through (the Python connector checks its own). Offsets are the dicts the connector returns,
// taken when read_table returns, before its records are iterated (as PySpark's stream reader
// takes them).
//
// Errors name the class and the method: an import error or a missing method is a ConfigError, an
// exception raised by the connector a SourceError (with its type, message and where it was
// raised), NotImplementedError from read_table_deletes a NotImplementedError, a wrong return type
// (a non-dict record, a schema that is not a StructType) a SourceError saying what to return.
#pragma once

#include <memory>
#include <string_view>

#include "lakeflow/connector.h"
#include "lakeflow/registry.h"

namespace lakeflow::python_bridge {

// `target` is `package.module:ClassName`.
std::unique_ptr<LakeflowConnect> make_python_connector(std::string_view target,
                                                       const Options& options);

// Adds the `python:` scheme (make_python_connector) to `registry`.
void register_python_connectors(ConnectorRegistry& registry);

// The bridge's Python source (python/lakeflow/_bridge.py), compiled in.
std::string_view bridge_source();

}  // namespace lakeflow::python_bridge
