"""The lines of NDJSON files as tables, in Python: the same source as lakeflow's C++ ndjson
connector, for comparing the two (make bench). Options: `path` (a directory of *.ndjson files) and
`schema` (Spark schema JSON). Tables are append-only; the offset counts lines read."""

import json
import os

try:
    from pyspark.sql.types import _parse_datatype_json_string as parse_schema
except ImportError:
    from lakeflow.types import parse_json as parse_schema


class NdjsonLinesConnector:
    def __init__(self, options):
        self.path = options["path"]
        self.schema = parse_schema(options["schema"])

    def list_tables(self):
        return sorted(f[:-7] for f in os.listdir(self.path) if f.endswith(".ndjson"))

    def get_table_schema(self, table_name, table_options):
        return self.schema

    def read_table_metadata(self, table_name, table_options):
        return {"primary_keys": [], "ingestion_type": "append"}

    def read_table(self, table_name, start_offset, table_options):
        start = int((start_offset or {}).get("line", 0))
        limit = int(table_options.get("max_records_per_batch", "100000"))
        with open(os.path.join(self.path, table_name + ".ndjson")) as f:
            lines = [line for i, line in enumerate(f) if start <= i < start + limit]
        if not lines:
            return iter([]), (start_offset or {})
        return (json.loads(line) for line in lines), {"line": start + len(lines)}
