"""read_table_arrow(): records converted by the C++ converter, handed over through the Arrow
PyCapsule interface (`__arrow_c_stream__`), with the same offset protocol as read_table."""

import json
import os
import tempfile
import unittest

import lakeflow
from lakeflow import types

from arrow_c import StreamError, read_stream

SCHEMA = types.StructType([
    types.StructField("id", types.LongType(), False),
    types.StructField("name", types.StringType()),
    types.StructField("score", types.DoubleType()),
    types.StructField("active", types.BooleanType()),
    types.StructField("seen", types.TimestampType()),
    types.StructField("tags", types.ArrayType(types.StringType())),
])


class ArrowTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def connect(self, lines):
        with open(os.path.join(self.dir.name, "t.ndjson"), "w") as f:
            f.write("\n".join(lines) + "\n")
        return lakeflow.connect("ndjson", {"path": self.dir.name, "schema": SCHEMA.json()})

    def test_Stream_HoldsConvertedColumns(self):
        conn = self.connect([
            json.dumps({"id": 1, "name": "Ada", "score": "2.5", "active": "TRUE",
                        "seen": "2024-01-02T03:04:05Z", "tags": ["x"]}),
            json.dumps({"id": "2", "name": {"a": 1}, "score": None, "active": False}),
        ])
        stream, offset = conn.read_table_arrow("t", {}, {})
        self.assertIsInstance(offset, dict)
        tree, batches = read_stream(stream)
        self.assertEqual(tree[1], "+s")
        self.assertEqual([(n, f) for n, f, _ in tree[2]], [
            ("id", "l"), ("name", "u"), ("score", "g"), ("active", "b"), ("seen", "tsu:UTC"),
            ("tags", "+l")])
        self.assertEqual(sum(b["__length__"] for b in batches), 2)
        self.assertEqual(batches[0]["id"], [1, 2])
        self.assertEqual(batches[0]["name"], ["Ada", '{"a":1}'])  # compact JSON, not a repr
        self.assertEqual(batches[0]["score"], [2.5, None])
        self.assertEqual(batches[0]["active"], [True, False])

    def test_Stream_FollowsTheOffsetProtocol(self):
        conn = self.connect([json.dumps({"id": i}) for i in range(5)])
        offset, rows = {}, 0
        for _ in range(10):
            stream, end = conn.read_table_arrow("t", offset, {"max_records_per_batch": "2"})
            rows += sum(b["__length__"] for b in read_stream(stream)[1])
            if end == offset:
                break
            offset = end
        self.assertEqual(rows, 5)

    def test_BadRecord_FailsTheStreamNamingTableRecordAndField(self):
        conn = self.connect([json.dumps({"id": 1}), json.dumps({"id": 2, "score": "high"})])
        stream, _ = conn.read_table_arrow("t", {}, {})
        with self.assertRaises(StreamError) as caught:
            read_stream(stream)
        message = str(caught.exception)
        self.assertIn("'t'", message)
        self.assertIn("score", message)
        self.assertIn("record 1", message)

    def test_Stream_IsExportedOnce(self):
        conn = self.connect([json.dumps({"id": 1})])
        stream, _ = conn.read_table_arrow("t", {}, {})
        stream.__arrow_c_stream__()
        with self.assertRaises(ValueError):
            stream.__arrow_c_stream__()

    def test_Pyarrow_ReadsTheStream(self):
        try:
            import pyarrow
        except ImportError:
            self.skipTest("pyarrow is not importable here; arrow_c.py reads the stream instead")
        conn = self.connect([json.dumps({"id": 7, "name": "x"})])
        stream, _ = conn.read_table_arrow("t", {}, {})
        table = pyarrow.RecordBatchReader.from_stream(stream).read_all()
        self.assertEqual(table.column("id").to_pylist(), [7])


if __name__ == "__main__":
    unittest.main()
