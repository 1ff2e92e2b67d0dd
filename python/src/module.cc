// The `lakeflow._lakeflow` extension: lakeflow's C++ connectors, called from Python.
//
// The Python layer (python/lakeflow/__init__.py) gives it upstream's method names and turns
// schemas and offsets into Python objects; this module moves offsets as JSON text and records as
// Python dicts (read_table) or Arrow record batches (read_table_arrow). Every call into a
// connector runs with the GIL released, so Python threads (Spark's Python workers) read in
// parallel. lakeflow::Error becomes the exception of lakeflow.errors for its code, with the same
// message.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>
#include <simdjson.h>

#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "columnar/arrow_c_data.h"
#include "columnar/record_converter.h"
#include "core/plugin_loader.h"
#include "lakeflow/connector.h"
#include "lakeflow/error.h"
#include "lakeflow/registry.h"

namespace py = pybind11;

namespace lakeflow::python {
namespace {

// --- Errors
// ---------------------------------------------------------------------------------------

void set_python_error(const Error& e) {
  py::module_ errors = py::module_::import("lakeflow.errors");
  py::object cls = errors.attr("BY_CODE").attr("get")(std::string(to_string(e.code())),
                                                      errors.attr("LakeflowError"));
  py::object exc;
  if (const auto* conversion = dynamic_cast<const ConversionError*>(&e)) {
    exc = cls(e.what(), conversion->table(), conversion->record_index(), conversion->field_path(),
              conversion->expected_type(), conversion->reason());
  } else {
    exc = cls(e.what());
  }
  PyErr_SetObject(cls.ptr(), exc.ptr());
}

// --- Arguments
// --------------------------------------------------------------------------------------

// A dict of string keys to string values (connection or table options, as upstream passes them).
Options to_options(const py::handle& value, const char* what) {
  Options options;
  if (value.is_none()) return options;
  if (!py::isinstance<py::dict>(value)) {
    throw py::type_error(std::string(what) + " must be a dict of strings, got " +
                         std::string(py::str(value.get_type().attr("__name__"))));
  }
  for (const auto& [key, item] : value.cast<py::dict>()) {
    if (!py::isinstance<py::str>(key)) {
      throw py::type_error(std::string(what) + " keys must be strings, got " +
                           std::string(py::repr(key)));
    }
    if (!py::isinstance<py::str>(item)) {
      throw py::type_error(std::string(what) + "['" + key.cast<std::string>() +
                           "'] must be a string (option values are strings), got " +
                           std::string(py::str(item.get_type().attr("__name__"))));
    }
    options.set(key.cast<std::string>(), item.cast<std::string>());
  }
  return options;
}

// None (the first call of a batch read) and `{}` both mean "from the start".
Offset to_offset(const std::optional<std::string>& json) {
  if (!json.has_value()) return Offset{};
  Offset offset = Offset::parse(*json);
  return offset.is_null() ? Offset{} : offset;
}

py::object from_offset(const Offset& offset) {
  if (offset.is_null()) return py::none();
  return py::str(offset.to_json());
}

// --- Records as Python objects
// ----------------------------------------------------------------------

py::object to_python(simdjson::dom::element e) {
  using simdjson::dom::element_type;
  switch (e.type()) {
    case element_type::OBJECT: {
      py::dict d;
      for (simdjson::dom::key_value_pair field : e.get_object()) {
        d[py::str(field.key.data(), field.key.size())] = to_python(field.value);
      }
      return d;
    }
    case element_type::ARRAY: {
      py::list l;
      for (simdjson::dom::element item : e.get_array()) l.append(to_python(item));
      return l;
    }
    case element_type::INT64:
      return py::int_(e.get_int64().value_unsafe());
    case element_type::UINT64:
      return py::reinterpret_steal<py::object>(
          PyLong_FromUnsignedLongLong(e.get_uint64().value_unsafe()));
    case element_type::DOUBLE:
      return py::float_(e.get_double().value_unsafe());
    case element_type::STRING: {
      std::string_view s = e.get_string().value_unsafe();
      return py::str(s.data(), s.size());
    }
    case element_type::BOOL:
      return py::bool_(e.get_bool().value_unsafe());
    case element_type::NULL_VALUE:
      break;
  }
  return py::none();
}

// The records of one read call, one dict each, batch by batch as the connector produces them.
class RecordIterator {
 public:
  RecordIterator(std::shared_ptr<LakeflowConnect> connector, std::string table,
                 RecordStream records)
      : connector_(std::move(connector)), table_(std::move(table)), records_(std::move(records)) {}

  py::object next() {
    while (index_ >= batch_.size()) {
      bool more = false;
      {
        py::gil_scoped_release release;
        more = records_.next(batch_);
      }
      index_ = 0;
      if (!more) throw py::stop_iteration();
    }
    const std::size_t i = index_++;
    ++seen_;
    std::string_view text = batch_[i];
    simdjson::dom::element root;
    simdjson::error_code error =
        parser_.parse(text.data(), text.size(), /*realloc_if_needed=*/false).get(root);
    if (error == simdjson::SUCCESS) return to_python(root);
    // simdjson refuses integers beyond 64 bits; Python's own reader keeps them exact.
    try {
      return py::module_::import("json").attr("loads")(py::str(text.data(), text.size()));
    } catch (const py::error_already_set&) {
      throw SourceError("table '" + table_ + "': record " + std::to_string(seen_ - 1) +
                        " from the connector is not JSON (" + simdjson::error_message(error) + ")");
    }
  }

 private:
  std::shared_ptr<LakeflowConnect> connector_;  // the stream may read through it
  std::string table_;
  RecordStream records_;
  RecordBatch batch_;
  std::size_t index_ = 0;
  std::size_t seen_ = 0;
  simdjson::dom::parser parser_;
};

// --- Records converted to the schema, as JSON rows
// --------------------------------------------------

// The rows of one read call converted by the C++ converter, one JSON text each in the canonical
// forms of ColumnBatch::row_json (the Spark data source makes Python values of them).
class RowIterator {
 public:
  RowIterator(std::shared_ptr<LakeflowConnect> connector, RecordStream records,
              RecordConverter converter)
      : connector_(std::move(connector)),
        records_(std::move(records)),
        converter_(std::move(converter)),
        columns_(converter_.make_batch()) {}

  py::str next() {
    while (index_ >= columns_.num_rows()) {
      {
        py::gil_scoped_release release;
        columns_.clear();
        index_ = 0;
        if (!records_.next(batch_)) throw py::stop_iteration();
        converter_.convert(batch_, columns_);
      }
    }
    return py::str(columns_.row_json(index_++));
  }

 private:
  std::shared_ptr<LakeflowConnect> connector_;
  RecordStream records_;
  RecordConverter converter_;
  RecordBatch batch_;
  ColumnBatch columns_;
  std::size_t index_ = 0;
};

// --- Records as Arrow record batches
// ----------------------------------------------------------------

// What an exported ArrowArrayStream owns. Its callbacks run without the GIL and touch no Python
// object, so a consumer may pull from any thread.
struct ArrowStreamState {
  std::shared_ptr<LakeflowConnect> connector;
  RecordStream records;
  RecordConverter converter;
  RecordBatch batch;
  std::string last_error;
};

ArrowStreamState* state_of(ArrowArrayStream* stream) {
  return static_cast<ArrowStreamState*>(stream->private_data);
}

int stream_get_schema(ArrowArrayStream* stream, ArrowSchema* out) {
  ArrowStreamState* state = state_of(stream);
  try {
    ColumnBatch empty = state->converter.make_batch();
    ArrowArray array;
    empty.export_to(out, &array);
    array.release(&array);
    return 0;
  } catch (const std::exception& e) {
    state->last_error = e.what();
    return EIO;
  }
}

int stream_get_next(ArrowArrayStream* stream, ArrowArray* out) {
  ArrowStreamState* state = state_of(stream);
  try {
    while (state->records.next(state->batch)) {
      ColumnBatch columns = state->converter.make_batch();
      state->converter.convert(state->batch, columns);
      if (columns.num_rows() == 0) continue;
      ArrowSchema schema;
      columns.export_to(&schema, out);
      schema.release(&schema);
      return 0;
    }
    out->release = nullptr;  // the end of the stream
    return 0;
  } catch (const std::exception& e) {
    state->last_error = e.what();
    return EIO;
  }
}

const char* stream_get_last_error(ArrowArrayStream* stream) {
  const std::string& error = state_of(stream)->last_error;
  return error.empty() ? nullptr : error.c_str();
}

void stream_release(ArrowArrayStream* stream) {
  delete state_of(stream);
  stream->private_data = nullptr;
  stream->release = nullptr;
}

// The record batches of one read call, converted to the table's schema by the C++ converter, for
// any consumer of the Arrow PyCapsule interface (pyarrow.RecordBatchReader.from_stream, polars,
// duckdb, ...). Exported once.
class ArrowStream {
 public:
  explicit ArrowStream(std::unique_ptr<ArrowStreamState> state) : state_(std::move(state)) {}

  py::capsule export_stream(const py::object& /*requested_schema*/) {
    if (state_ == nullptr) {
      throw py::value_error(
          "this Arrow stream was already exported; call read_table_arrow again to read again");
    }
    auto* stream = new ArrowArrayStream{stream_get_schema, stream_get_next, stream_get_last_error,
                                        stream_release, state_.release()};
    return py::capsule(stream, "arrow_array_stream", [](PyObject* capsule) {
      auto* s = static_cast<ArrowArrayStream*>(PyCapsule_GetPointer(capsule, "arrow_array_stream"));
      if (s == nullptr) {
        PyErr_Clear();
        return;
      }
      if (s->release != nullptr) s->release(s);
      delete s;
    });
  }

 private:
  std::unique_ptr<ArrowStreamState> state_;
};

// --- Connectors
// -------------------------------------------------------------------------------------

class Connector {
 public:
  Connector(const std::string& name, const py::object& options) {
    Options checked = to_options(options, "options");
    py::gil_scoped_release release;
    connector_ = ConnectorRegistry::instance().create(name, checked);
  }

  std::vector<std::string> list_tables() {
    py::gil_scoped_release release;
    return connector_->list_tables();
  }

  std::string get_table_schema(const std::string& table, const py::object& table_options) {
    Options options = to_options(table_options, "table_options");
    py::gil_scoped_release release;
    return connector_->get_table_schema(table, options).json();
  }

  py::dict read_table_metadata(const std::string& table, const py::object& table_options) {
    Options options = to_options(table_options, "table_options");
    TableMetadata metadata;
    {
      py::gil_scoped_release release;
      metadata = connector_->read_table_metadata(table, options);
    }
    py::dict out;
    out["primary_keys"] = metadata.primary_keys;
    if (metadata.cursor_field.has_value()) out["cursor_field"] = *metadata.cursor_field;
    out["ingestion_type"] = std::string(to_string(metadata.ingestion_type));
    return out;
  }

  py::tuple read_table(const std::string& table, const std::optional<std::string>& start,
                       const py::object& table_options, bool deletes) {
    auto [records, end] = read(table, start, table_options, deletes);
    return py::make_tuple(RecordIterator(connector_, table, std::move(records)), end);
  }

  py::tuple read_table_rows(const std::string& table, const std::optional<std::string>& start,
                            const py::object& table_options, bool deletes) {
    RecordConverter converter(schema_of(table, table_options), table);
    auto [records, end] = read(table, start, table_options, deletes);
    return py::make_tuple(RowIterator(connector_, std::move(records), std::move(converter)), end);
  }

  py::tuple read_table_arrow(const std::string& table, const std::optional<std::string>& start,
                             const py::object& table_options, bool deletes) {
    StructType schema = schema_of(table, table_options);
    auto [records, end] = read(table, start, table_options, deletes);
    auto state = std::make_unique<ArrowStreamState>(ArrowStreamState{
        connector_, std::move(records), RecordConverter(schema, table), RecordBatch(), {}});
    return py::make_tuple(ArrowStream(std::move(state)), end);
  }

 private:
  StructType schema_of(const std::string& table, const py::object& table_options) {
    Options options = to_options(table_options, "table_options");
    py::gil_scoped_release release;
    return connector_->get_table_schema(table, options);
  }

  std::pair<RecordStream, py::object> read(const std::string& table,
                                           const std::optional<std::string>& start,
                                           const py::object& table_options, bool deletes) {
    Options options = to_options(table_options, "table_options");
    Offset from = to_offset(start);
    ReadResult result;
    {
      py::gil_scoped_release release;
      result = deletes ? connector_->read_table_deletes(table, from, options)
                       : connector_->read_table(table, from, options);
    }
    return {std::move(result.records), from_offset(result.end)};
  }

  std::shared_ptr<LakeflowConnect> connector_;
};

std::vector<std::string> connector_names() {
  std::vector<std::string> names;
  for (const ConnectorInfo* info : ConnectorRegistry::instance().list()) {
    names.push_back(info->name);
  }
  return names;
}

}  // namespace
}  // namespace lakeflow::python

PYBIND11_MODULE(_lakeflow, m) {
  using namespace lakeflow::python;
  m.doc() = "lakeflow's C++ connectors (use the lakeflow package, not this module)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const lakeflow::Error& e) {
      set_python_error(e);
    }
  });
  m.def("connectors", &connector_names, "The names of the registered connectors, sorted.");
  m.def(
      "connection_parameters",
      [](const std::string& name) {
        std::vector<std::string> names;
        const lakeflow::ConnectorInfo* info = lakeflow::ConnectorRegistry::instance().find(name);
        if (info == nullptr) return names;
        for (const auto& p : info->spec().parameters()) names.push_back(p.name);
        return names;
      },
      py::arg("name"),
      "The connection options a registered connector's spec declares (empty when unknown).");
  m.def(
      "load_plugin",
      [](const std::string& path) {
        lakeflow::load_plugin(path, lakeflow::ConnectorRegistry::instance());
      },
      py::arg("path"), "Loads a connector plugin (a shared object built with the lakeflow SDK).");
  m.def(
      "type_json", [](const std::string& json) { return lakeflow::parse_data_type(json).json(); },
      py::arg("json"),
      "A type's JSON as the C++ core writes it (PySpark's form), from any JSON of it.");
  py::class_<RecordIterator>(m, "RecordIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &RecordIterator::next);
  py::class_<RowIterator>(m, "RowIterator")
      .def("__iter__", [](py::object self) { return self; })
      .def("__next__", &RowIterator::next);
  py::class_<ArrowStream>(m, "ArrowStream")
      .def("__arrow_c_stream__", &ArrowStream::export_stream,
           py::arg("requested_schema") = py::none());
  py::class_<Connector>(m, "Connector")
      .def(py::init<const std::string&, const py::object&>(), py::arg("name"), py::arg("options"))
      .def("list_tables", &Connector::list_tables)
      .def("get_table_schema", &Connector::get_table_schema)
      .def("read_table_metadata", &Connector::read_table_metadata)
      .def("read_table", &Connector::read_table)
      .def("read_table_rows", &Connector::read_table_rows)
      .def("read_table_arrow", &Connector::read_table_arrow);
}
