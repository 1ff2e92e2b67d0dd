"""A PySpark Python Data Source serving any lakeflow connector.

    from lakeflow.spark import LakeflowDataSource
    spark.dataSource.register(LakeflowDataSource)
    df = (spark.read.format("lakeflow")
          .option("connector", "fhir").option("base_url", "https://...")
          .option("tableName", "Patient").load())
    stream = (spark.readStream.format("lakeflow").option("connector", "example")
              .option("username", "u").option("password", "p")
              .option("tableName", "orders").load())

Options are those of upstream's Spark adapter: ``tableName``; ``isDeleteFlow`` ("true": the
table's deleted rows, read_table_deletes); the metadata virtual table ``_community_table_metadata``
with ``tableNameList`` (a JSON list) and ``tableConfigs`` (a JSON object of per-table options);
plus ``connector`` (the lakeflow connector's name, see ``lakeflow.connectors()``) and the
connector's own options. An option the connector's spec declares as a connection parameter goes
to the connector's constructor, every other one is a table option (checked against the spec's
external_options_allowlist, as Unity Catalog's connection would), so an upstream-style pipeline
(``ingest(spark, spec)``) can point at this source.

Batch reads read the whole table (read_table from the start until the offset repeats) in one
partition; lakeflow's connectors have no partitioned reads. Streaming reads are Spark's simple
stream reader over the connector's own offsets: each micro-batch is one read_table call, its
end offset checkpointed by Spark; a replay of a batch reads from its start offset again.

Rows are converted by lakeflow's C++ converter (the same rules as ``lakeflow run``). With pyarrow
importable they are yielded as Arrow record batches; otherwise as tuples of Python values.
"""

import datetime
import decimal
import base64
import json

import lakeflow

try:
    from pyspark.sql.datasource import (DataSource, DataSourceReader, InputPartition,
                                        SimpleDataSourceStreamReader)
    HAVE_PYSPARK = True
except ImportError:  # the classes still work without Spark: tests drive them as Spark would
    HAVE_PYSPARK = False

    class DataSource:
        def __init__(self, options):
            self.options = options

    class DataSourceReader:
        pass

    class SimpleDataSourceStreamReader:
        pass

    class InputPartition:
        def __init__(self, value):
            self.value = value

METADATA_TABLE = "_community_table_metadata"
METADATA_SCHEMA = ("tableName string not null, primary_keys array<string>, "
                   "cursor_field string, ingestion_type string")
# Options this source reads itself; the connector never sees them.
SOURCE_OPTIONS = ("connector", "tableName", "tableNameList", "tableConfigs", "isDeleteFlow")


class _Options:
    """The Spark options split into the connector's name, its connection options and the table
    options."""

    def __init__(self, options):
        options = dict(options)
        self.connector = options.get("connector")
        if not self.connector:
            raise ValueError("option 'connector' is required: the lakeflow connector to read "
                             "(one of %s)" % ", ".join(lakeflow.connectors()))
        self.table = options.get("tableName")
        if not self.table:
            raise ValueError("option 'tableName' is required: the table to read")
        if self.table.startswith("_community_") and self.table != METADATA_TABLE:
            raise ValueError("unknown virtual table %r; the virtual table is %s"
                             % (self.table, METADATA_TABLE))
        self.deletes = options.get("isDeleteFlow", "false").lower() == "true"
        parameters = set(lakeflow._core().connection_parameters(self.connector))
        rest = {k: v for k, v in options.items() if k not in SOURCE_OPTIONS}
        self.connection = {k: v for k, v in rest.items() if k in parameters}
        self.table_options = {k: v for k, v in rest.items() if k not in parameters}
        self.table_list = _json_option(options, "tableNameList", list)
        self.table_configs = _json_option(options, "tableConfigs", dict)

    def connect(self):
        return lakeflow.connect(self.connector, self.connection)


def _json_option(options, name, kind):
    text = options.get(name)
    if text is None:
        return kind()
    value = json.loads(text)
    if not isinstance(value, kind):
        raise ValueError("option %r must be a JSON-encoded %s" % (name, kind.__name__))
    return value


class LakeflowDataSource(DataSource):
    """Spark's entry point: `spark.dataSource.register(LakeflowDataSource)`, format "lakeflow"."""

    @classmethod
    def name(cls):
        return "lakeflow"

    def __init__(self, options):
        super().__init__(options)
        self._parsed = _Options(options)  # bad options fail when the DataFrame is defined

    def schema(self):
        o = self._parsed
        if o.table == METADATA_TABLE:
            return METADATA_SCHEMA
        return o.connect().get_table_schema(o.table, o.table_options)

    def reader(self, schema):
        return LakeflowBatchReader(self._parsed, schema)

    def simpleStreamReader(self, schema):
        return LakeflowStreamReader(self._parsed, schema)


def _rows(connector, o, schema, start):
    """(rows, end offset) of one read call from `start`."""
    try:
        import pyarrow
    except ImportError:
        pyarrow = None
    if pyarrow is not None:
        stream, end = connector.read_table_arrow(o.table, start, o.table_options, o.deletes)
        return iter(pyarrow.RecordBatchReader.from_stream(stream)), end
    impl = connector._impl
    start_json = None if start is None else json.dumps(start, sort_keys=True)
    rows, end = impl.read_table_rows(o.table, start_json, o.table_options, o.deletes)
    fields = _fields(schema)
    # Decimals keep their digits: JSON numbers with a fraction read as Decimal, doubles convert back.
    converted = (_python_row(json.loads(r, parse_float=decimal.Decimal), fields) for r in rows)
    return converted, (None if end is None else json.loads(end))


class LakeflowBatchReader(DataSourceReader):
    """The whole table, or the metadata virtual table, in one partition."""

    def __init__(self, options, schema):
        self._o = options
        self._schema = schema

    def partitions(self):
        return [InputPartition(0)]

    def read(self, partition):
        o = self._o
        connector = o.connect()
        if o.table == METADATA_TABLE:
            for table in o.table_list:
                m = connector.read_table_metadata(table, o.table_configs.get(table, {}))
                yield (table, m.get("primary_keys"), m.get("cursor_field"), m["ingestion_type"])
            return
        start = {}
        while True:
            rows, end = _rows(connector, o, self._schema, start)
            yield from rows
            if end is None or end == start:
                return
            start = end


class LakeflowStreamReader(SimpleDataSourceStreamReader):
    """Spark's simple stream reader over the connector's offsets: one read call a micro-batch."""

    def __init__(self, options, schema):
        self._o = options
        self._schema = schema
        self._connector = None

    def _conn(self):
        if self._connector is None:
            self._connector = self._o.connect()
        return self._connector

    def initialOffset(self):
        return {}

    def read(self, start):
        rows, end = _rows(self._conn(), self._o, self._schema, start)
        rows = list(rows)  # Spark keeps the rows of the batch it plans
        return iter(rows), (start if end is None else end)

    def readBetweenOffsets(self, start, end):
        rows, _ = _rows(self._conn(), self._o, self._schema, start)
        return rows

    def commit(self, end):
        pass


# --- Python values of converted rows (the canonical JSON of lakeflow's converter) ------------------

def _fields(schema):
    """[(name, type JSON value)] of a schema given as a StructType or a DDL/JSON string."""
    if isinstance(schema, str):
        raise TypeError("schema must be a StructType here, got the string %r" % schema)
    return [(f["name"], f["type"]) for f in json.loads(schema.json())["fields"]]


def _python_row(values, fields):
    return tuple(_python_value(values.get(name), t) for name, t in fields)


def _python_value(value, t):
    if value is None:
        return None
    if isinstance(t, dict):
        kind = t["type"]
        if kind == "struct":
            return _python_row(value, [(f["name"], f["type"]) for f in t["fields"]])
        if kind == "array":
            return [_python_value(v, t["elementType"]) for v in value]
        if kind == "map":
            integral = t["keyType"] in ("long", "integer", "short", "byte")
            return {(int(k) if integral else _python_value(k, t["keyType"])):
                    _python_value(v, t["valueType"]) for k, v in value.items()}
        return value
    if t == "timestamp":
        return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if t == "timestamp_ntz":
        return datetime.datetime.fromisoformat(value)
    if t == "date":
        return datetime.date.fromisoformat(value)
    if t.startswith("decimal"):
        return decimal.Decimal(value)
    if t in ("double", "float"):
        return float(value)
    if t == "binary":
        return bytearray(base64.b64decode(value))
    if t == "variant":
        return json.dumps(value, separators=(",", ":"))
    return value
