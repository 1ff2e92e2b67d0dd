"""lakeflow.spark: the PySpark Python Data Source.

PySpark is not installable on the project's machines, so most tests here drive the data source's
classes through the call sequence Spark uses (documented per test), without Spark: they check the
classes, not Spark. test_RealSpark_* run the source in a local SparkSession when PySpark is
importable and skip otherwise."""

import datetime
import decimal
import json
import os
import pickle
import tempfile
import unittest

import lakeflow
from lakeflow import errors, types
from lakeflow.spark import LakeflowDataSource

SCHEMA = types.StructType([
    types.StructField("id", types.LongType(), False),
    types.StructField("at", types.TimestampType()),
    types.StructField("price", types.DecimalType(10, 2)),
    types.StructField("score", types.DoubleType()),
    types.StructField("tags", types.ArrayType(types.StringType())),
    types.StructField("where", types.StructType([types.StructField("city", types.StringType())])),
])


class SparkSourceTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        with open(os.path.join(self.dir.name, "items.ndjson"), "w") as f:
            for i in range(1, 6):
                f.write(json.dumps({"id": i, "at": "2024-01-0%dT00:00:00Z" % i,
                                    "price": "%d.50" % i, "score": i / 2, "tags": ["a"],
                                    "where": {"city": "c%d" % i}}) + "\n")
        self.options = {"connector": "ndjson", "path": self.dir.name, "schema": SCHEMA.json(),
                        "tableName": "items"}

    def test_Name_IsLakeflow(self):
        self.assertEqual(LakeflowDataSource.name(), "lakeflow")

    def test_BatchRead_FollowsSparksCallSequence(self):
        # Spark: DataSource(options) on the driver; schema(); reader(schema); partitions(); the
        # reader and each partition pickled to an executor; read(partition) there.
        source = LakeflowDataSource(dict(self.options, max_records_per_batch="2"))
        schema = source.schema()
        self.assertEqual(schema.json(), SCHEMA.json())
        reader = source.reader(schema)
        partitions = pickle.loads(pickle.dumps(reader.partitions()))
        reader = pickle.loads(pickle.dumps(reader))
        rows = [row for p in partitions for row in reader.read(p)]
        self.assertEqual(len(rows), 5)  # the whole table, over several read calls
        self.assertEqual(rows[0], (1, datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc),
                                   decimal.Decimal("1.50"), 0.5, ["a"], ("c1",)))

    def test_StreamRead_FollowsSparksCallSequence(self):
        # Spark's simple stream reader: initialOffset(); then per micro-batch read(start) returning
        # (rows, end), the end offset serialized to JSON in the offset log; a batch is planned only
        # when end != start; commit(end) after it lands; on restart readBetweenOffsets(start, end)
        # replays a batch.
        source = LakeflowDataSource(dict(self.options, max_records_per_batch="2"))
        reader = source.simpleStreamReader(source.schema())
        start = reader.initialOffset()
        batches = []
        for _ in range(10):
            rows, end = reader.read(start)
            end = json.loads(json.dumps(end))
            if end == start:
                break
            batches.append((start, end, list(rows)))
            reader.commit(end)
            start = end
        self.assertEqual([len(b[2]) for b in batches], [2, 2, 1])
        first_start, first_end, first_rows = batches[0]
        self.assertEqual(list(reader.readBetweenOffsets(first_start, first_end)), first_rows)

    def test_DeleteFlow_ReadsDeletedRows(self):
        options = {"connector": "example", "username": "u", "password": "p",
                   "tableName": "orders", "isDeleteFlow": "true"}
        source = LakeflowDataSource(options)
        reader = source.simpleStreamReader(source.schema())
        rows, end = reader.read(reader.initialOffset())
        rows = list(rows)
        self.assertTrue(rows)
        self.assertTrue(all(r[0] is not None for r in rows))  # primary key present

    def test_MetadataVirtualTable_ListsEachTablesMetadata(self):
        options = {"connector": "example", "username": "u", "password": "p",
                   "tableName": "_community_table_metadata",
                   "tableNameList": json.dumps(["orders", "products"]),
                   "tableConfigs": json.dumps({"orders": {"page_size": "5"}})}
        source = LakeflowDataSource(options)
        self.assertIn("primary_keys array<string>", source.schema())
        reader = source.reader(source.schema())
        rows = [r for p in reader.partitions() for r in reader.read(p)]
        self.assertEqual(rows, [("orders", ["id"], "updated_at", "cdc_with_deletes"),
                                ("products", ["id"], None, "snapshot")])

    def test_BadOptions_FailWhenTheSourceIsDefined(self):
        with self.assertRaises(ValueError):
            LakeflowDataSource({"tableName": "items"})  # no connector
        with self.assertRaises(ValueError):
            LakeflowDataSource(dict(self.options, tableName="_community_nope"))
        with self.assertRaises(errors.ConfigError) as caught:
            LakeflowDataSource(dict(self.options, colour="blue")).schema()
        self.assertIn("colour", str(caught.exception))

    def test_RealSpark_ReadsTheTable(self):
        try:
            from pyspark.sql import SparkSession
        except ImportError:
            self.skipTest("PySpark is not importable here (no PyPI on this machine); the tests "
                          "above drive the classes through Spark's call sequence instead")
        spark = SparkSession.builder.master("local[1]").getOrCreate()
        self.addCleanup(spark.stop)
        spark.dataSource.register(LakeflowDataSource)
        reader = spark.read.format("lakeflow")
        for key, value in self.options.items():
            reader = reader.option(key, value)
        self.assertEqual(reader.load().count(), 5)


if __name__ == "__main__":
    unittest.main()
