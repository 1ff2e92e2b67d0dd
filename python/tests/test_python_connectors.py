"""Python connectors in lakeflow's pipeline: `lakeflow run` lands the tables of a connector written
against upstream's Python interface (lakeflow_test_connectors.shop), named in a connections file
as `python:package.module:ClassName`, with conversion, exactly-once commits, SCD2, deletes and
quarantine; bad connectors get errors naming the class and the method."""

import glob
import json
import os
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
LAKEFLOW = os.environ.get("LAKEFLOW_BIN")
SHOP = "python:lakeflow_test_connectors.shop:ShopConnector"


def environment():
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + (":" + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@unittest.skipUnless(LAKEFLOW, "LAKEFLOW_BIN (the lakeflow executable) is not set; ctest sets it")
class PipelineTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def lakeflow(self, *args):
        return subprocess.run([LAKEFLOW, *args], cwd=self.dir.name, env=environment(),
                              capture_output=True, text=True)

    def write_pipeline(self, options, tables):
        with open(os.path.join(self.dir.name, "connections.yaml"), "w") as f:
            f.write("py_shop:\n  connector: %s\n  options:\n" % SHOP)
            for key, value in options.items():
                f.write("    %s: %s\n" % (key, json.dumps(value)))
        with open(os.path.join(self.dir.name, "pipeline.yaml"), "w") as f:
            f.write("connection_name: py_shop\nconnections_file: connections.yaml\n"
                    "destination_root: ./lake\nobjects:\n")
            for table, config in tables.items():
                f.write("  - table:\n      source_table: %s\n      destination_schema: shop\n"
                        % table)
                if config:
                    f.write("      table_configuration: %s\n" % json.dumps(config))

    def run_pipeline(self, *extra):
        result = self.lakeflow("run", "pipeline.yaml", "--json", *extra)
        self.assertEqual(result.returncode, 0, result.stderr)
        return {t["source_table"]: t for t in json.loads(result.stdout)}

    def delta_rows(self, table):
        rows = 0
        for log in sorted(glob.glob(os.path.join(self.dir.name, "lake/main/shop", table,
                                                 "_delta_log", "*.json"))):
            with open(log) as f:
                for line in f:
                    action = json.loads(line)
                    if "add" in action:
                        rows += json.loads(action["add"]["stats"])["numRecords"]
                    if "remove" in action:
                        rows -= json.loads(action["remove"].get("stats") or '{"numRecords":0}')[
                            "numRecords"]
        return rows

    def test_Run_LandsEveryTableExactlyOnce(self):
        self.write_pipeline({"records": "30"}, {
            "customers": None,
            "orders": {"scd_type": "SCD_TYPE_2", "max_records_per_batch": "7"},
            "events": None,
            "products": None,
        })
        first = self.run_pipeline()
        self.assertEqual(first["customers"]["inserted"], 30)
        self.assertEqual(first["orders"]["inserted"], 30)
        self.assertEqual(first["orders"]["deleted"], 3)
        self.assertGreaterEqual(first["orders"]["commits"], 5)  # batches of 7
        self.assertEqual(first["events"]["inserted"], 30)
        self.assertEqual(first["products"]["inserted"], 10)
        self.assertEqual(first["customers"]["offset"], {"cursor": "2024-01-01T00:30:00Z"})
        self.assertEqual(self.delta_rows("events"), 30)
        second = self.run_pipeline()  # offsets were committed with the data: nothing new
        for table in ("customers", "orders", "events"):
            self.assertEqual(second[table]["records"], 0, table)
        self.assertEqual(second["products"]["inserted"], 0)
        self.assertEqual(self.delta_rows("events"), 30)

    def test_Run_QuarantinesARecordThatDoesNotConvert(self):
        self.write_pipeline({"records": "10", "bad_value": "customers"}, {"customers": None})
        failed = self.lakeflow("run", "pipeline.yaml")
        self.assertNotEqual(failed.returncode, 0)
        self.assertIn("customers", failed.stderr)
        self.assertIn("id", failed.stderr)
        summary = self.run_pipeline("--on-bad-record", "quarantine")
        self.assertEqual(summary["customers"]["quarantined"], 1)
        self.assertEqual(summary["customers"]["inserted"], 9)

    def test_Read_ReportsConnectorMistakesByClassAndMethod(self):
        cases = [
            (["-c", "python:no_such_module:X", "-t", "t"], "No module named 'no_such_module'"),
            (["-c", "python:lakeflow_test_connectors.shop:Missing", "-t", "t"],
             "has no class Missing"),
            (["-c", "python:lakeflow_test_connectors.ndjson_lines:NotAConnector", "-t", "t"],
             "has no class NotAConnector"),
            (["-c", SHOP, "-t", "events", "--option", "bad=events"],
             "ShopConnector.read_table('events') yielded list as record 1; records are dicts"),
            (["-c", SHOP, "-t", "events", "--option", "fail=read_table"],
             "ShopConnector.read_table('events') raised RuntimeError: the shop refused"),
            (["-c", SHOP, "-t", "nope"], "nope"),
        ]
        for args, expected in cases:
            with self.subTest(args=args):
                result = self.lakeflow("read", *args)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(expected, result.stderr)
        schema = self.lakeflow("schema", "-c", SHOP, "-t", "events", "--option", "bad=events")
        self.assertIn("ShopConnector.get_table_schema('events') returned dict, not a StructType",
                      schema.stderr)

    def test_MissingMethod_IsNamed(self):
        package = os.path.join(self.dir.name, "half_done.py")
        with open(package, "w") as f:
            f.write("class Half:\n    def __init__(self, options): pass\n"
                    "    def list_tables(self): return ['t']\n")
        result = self.lakeflow("tables", "-c", "python:half_done:Half")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("Half has no method get_table_schema, read_table_metadata, read_table",
                      result.stderr)


if __name__ == "__main__":
    unittest.main()
