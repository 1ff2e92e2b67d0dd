"""lakeflow: Lakeflow Connect connectors, from Python.

    import lakeflow
    lakeflow.connectors()                         # the connectors this build holds
    conn = lakeflow.connect("example", {"port": "8080"})
    conn.list_tables()
    schema = conn.get_table_schema("orders", {})  # a pyspark StructType, or lakeflow.types'
    records, offset = conn.read_table("orders", {}, {})
    batches, offset = conn.read_table_arrow("orders", {}, {})   # Arrow PyCapsule stream

The connector object has upstream's LakeflowConnect method names and signatures; records are
JSON-compatible dicts exactly as the connector returned them (not converted), offsets are dicts
(None for a snapshot read in one call). ``read_table_arrow`` is the columnar fast path: the same
offset protocol, records converted to the table's schema by the C++ converter and handed over as
Arrow record batches through ``__arrow_c_stream__``. Errors raise lakeflow.errors exceptions with
the core's messages.
"""

import json as _json

from . import errors, types

# The C++ extension is imported on first use, so that lakeflow.types and lakeflow.errors (pure
# Python) import on any Python 3, e.g. in a Python connector that lakeflow's pipeline runs.


def _core():
    from . import _lakeflow
    return _lakeflow


def load_plugin(path):
    """Loads a connector plugin (a shared object built with the lakeflow SDK)."""
    _core().load_plugin(path)

__all__ = ["connectors", "connect", "load_plugin", "Connector", "errors", "types",
           "schema_from_json"]


def connectors():
    """The names of the connectors this build holds (and plugins loaded), sorted."""
    return _core().connectors()


def connect(name, options=None):
    """A connector by name, constructed with its connection options (a dict of strings)."""
    return Connector(name, options if options is not None else {})


def schema_from_json(text):
    """A schema from its Spark JSON: a PySpark type when PySpark is importable, else lakeflow's
    own (identical ``.json()``)."""
    try:
        from pyspark.sql.types import _parse_datatype_json_string
    except ImportError:
        return types.parse_json(text)
    return _parse_datatype_json_string(text)


def _offset_json(offset, method):
    if offset is None:
        return None
    if not isinstance(offset, dict):
        raise TypeError("%s: start_offset must be a dict or None, got %s"
                        % (method, type(offset).__name__))
    return _json.dumps(offset, sort_keys=True)


def _offset(text):
    return None if text is None else _json.loads(text)


class Connector:
    """A lakeflow connector behind upstream's LakeflowConnect interface."""

    def __init__(self, name, options):
        self.name = name
        self.options = dict(options)
        self._impl = _core().Connector(name, self.options)

    def __repr__(self):
        return "lakeflow.Connector(%r)" % self.name

    def list_tables(self):
        return self._impl.list_tables()

    def get_table_schema(self, table_name, table_options):
        return schema_from_json(self._impl.get_table_schema(table_name, table_options))

    def read_table_metadata(self, table_name, table_options):
        return self._impl.read_table_metadata(table_name, table_options)

    def read_table(self, table_name, start_offset, table_options):
        """(iterator of record dicts, end offset)."""
        records, end = self._impl.read_table(
            table_name, _offset_json(start_offset, "read_table"), table_options, False)
        return records, _offset(end)

    def read_table_deletes(self, table_name, start_offset, table_options):
        records, end = self._impl.read_table(
            table_name, _offset_json(start_offset, "read_table_deletes"), table_options, True)
        return records, _offset(end)

    def read_table_arrow(self, table_name, start_offset, table_options, deletes=False):
        """(Arrow stream, end offset): the stream implements ``__arrow_c_stream__`` (e.g.
        ``pyarrow.RecordBatchReader.from_stream(stream)``) and is read once."""
        stream, end = self._impl.read_table_arrow(
            table_name, _offset_json(start_offset, "read_table_arrow"), table_options, deletes)
        return stream, _offset(end)
