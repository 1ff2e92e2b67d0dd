"""lakeflow.connect(): C++ connectors behind upstream's LakeflowConnect method names."""

import json
import os
import tempfile
import unittest

import lakeflow
from lakeflow import errors, types

SCHEMA = types.StructType([
    types.StructField("id", types.LongType(), False),
    types.StructField("name", types.StringType()),
    types.StructField("score", types.DoubleType()),
])


def write_ndjson(directory, name, records):
    path = os.path.join(directory, name + ".ndjson")
    with open(path, "w") as f:
        for r in records:
            f.write((r if isinstance(r, str) else json.dumps(r)) + "\n")
    return path


class ConnectTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        write_ndjson(self.dir.name, "people", [
            {"id": 1, "name": "Ada", "score": 1.5},
            {"id": 2, "name": "Grace", "score": None, "extra": [1, {"a": True}]},
            '{"id": 36893488147419103232, "name": "big"}',
        ])
        self.conn = lakeflow.connect("ndjson", {"path": self.dir.name, "schema": SCHEMA.json()})

    def test_Connectors_ListsTheBuiltInConnectors(self):
        names = lakeflow.connectors()
        self.assertEqual(names, sorted(names))
        for name in ("example", "ndjson", "fhir"):
            self.assertIn(name, names)

    def test_Methods_HaveUpstreamsNamesAndResults(self):
        self.assertEqual(self.conn.list_tables(), ["people"])
        schema = self.conn.get_table_schema("people", {})
        self.assertEqual(schema.json(), SCHEMA.json())
        metadata = self.conn.read_table_metadata("people", {})
        self.assertEqual(metadata["ingestion_type"], "append")

    def test_ReadTable_ReturnsRecordsAsTheConnectorGaveThem(self):
        records, offset = self.conn.read_table("people", {}, {})
        self.assertIsInstance(offset, dict)
        rows = list(records)
        self.assertEqual(rows[0], {"id": 1, "name": "Ada", "score": 1.5})
        self.assertEqual(rows[1]["extra"], [1, {"a": True}])  # not converted to the schema
        self.assertIsNone(rows[1]["score"])
        self.assertEqual(rows[2]["id"], 36893488147419103232)  # beyond 64 bits, exact

    def test_ReadTable_StopsWhenTheOffsetRepeats(self):
        offset, calls, total = {}, 0, 0
        while True:
            records, end = self.conn.read_table("people", offset, {"max_records_per_batch": "2"})
            total += len(list(records))
            calls += 1
            if end == offset:
                break
            offset = end
            self.assertLess(calls, 10)
        self.assertEqual(total, 3)
        self.assertGreaterEqual(calls, 3)
        json.dumps(offset)  # offsets are JSON-serializable dicts

    def test_ReadTable_NoneStartIsTheFirstCall(self):
        records, _ = self.conn.read_table("people", None, {})
        self.assertEqual(len(list(records)), 3)

    def test_UnknownTable_RaisesWithTheTablesServed(self):
        for call in (lambda: self.conn.get_table_schema("nope", {}),
                     lambda: self.conn.read_table_metadata("nope", {}),
                     lambda: self.conn.read_table("nope", {}, {})):
            with self.assertRaises(errors.UnknownTableError) as caught:
                call()
            self.assertIsInstance(caught.exception, ValueError)
            self.assertIn("nope", str(caught.exception))
            self.assertIn("people", str(caught.exception))

    def test_BadOptions_RaiseConfigErrorNamingTheOption(self):
        with self.assertRaises(errors.ConfigError) as caught:
            lakeflow.connect("ndjson", {"path": self.dir.name, "colour": "blue"})
        self.assertIn("colour", str(caught.exception))
        with self.assertRaises(errors.ConfigError) as caught:
            self.conn.read_table("people", {}, {"max_records_per_batch": "lots"})
        self.assertIn("max_records_per_batch", str(caught.exception))
        with self.assertRaises(errors.ConfigError):
            lakeflow.connect("no_such_connector", {})

    def test_NonStringOptionValue_IsATypeErrorNamingTheKey(self):
        with self.assertRaises(TypeError) as caught:
            self.conn.read_table("people", {}, {"max_records_per_batch": 2})
        self.assertIn("max_records_per_batch", str(caught.exception))
        with self.assertRaises(TypeError):
            self.conn.read_table("people", "not an offset", {})

    def test_ReadTableDeletes_UnsupportedIsNotImplementedError(self):
        with self.assertRaises(NotImplementedError):
            self.conn.read_table_deletes("people", {}, {})

    def test_ExampleConnector_ReadsEveryTable(self):
        conn = lakeflow.connect("example", {"username": "u", "password": "p"})
        for table in conn.list_tables():
            metadata = conn.read_table_metadata(table, {})
            schema = conn.get_table_schema(table, {})
            records, offset = conn.read_table(table, {}, {})
            rows = list(records)
            self.assertTrue(rows, table)
            for key in metadata["primary_keys"]:
                self.assertIn(key, schema.names)
                self.assertTrue(all(r.get(key) is not None for r in rows))
            if metadata["ingestion_type"] == "snapshot":
                self.assertTrue(offset is None or isinstance(offset, dict))
        deleted, _ = conn.read_table_deletes("orders", {}, {})
        for row in deleted:
            self.assertIn("id", row)


if __name__ == "__main__":
    unittest.main()
