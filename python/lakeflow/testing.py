"""The conformance suite for a Python connector: the same test classes lakeflow's C++ connectors
pass (TestListTables, TestGetTableSchema, TestReadTableMetadata, TestReadTable,
TestIncrementalRead, TestReadTableDeletes, TestInvalidTableName), run against the connector
through lakeflow's Python bridge, as `lakeflow run` runs it.

    python3 -m lakeflow.testing package.module:ClassName [--config JSON_OR_FILE]
                                [--source-dir DIR] [GTEST_ARGS...]

--config: the connection options (a JSON object, or a file holding one); without it the suite
reads DIR/configs/dev_config.json. --source-dir (default: the module's directory) also holds
configs/dev_table_config.json, the per-table options. The module must be importable (PYTHONPATH
or the current directory). Exits with the suite's status. Needs the suite binary that
`make python` builds beside this package (a build with tests).
"""

import argparse
import importlib.util
import json
import os
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python3 -m lakeflow.testing",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("connector", help="package.module:ClassName")
    parser.add_argument("--config", help="connection options: a JSON object or a file of one")
    parser.add_argument("--source-dir", help="folder of configs/ (default: the module's)")
    args, gtest_args = parser.parse_known_args(argv)
    binary = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conformance")
    if not os.access(binary, os.X_OK):
        sys.exit("lakeflow.testing: no suite binary at %s; build it with `make python` in a build "
                 "with tests" % binary)
    target = args.connector[len("python:"):] if args.connector.startswith("python:") else (
        args.connector)
    env = dict(os.environ)
    env["LAKEFLOW_TEST_CONNECTOR"] = "python:" + target
    env.setdefault("LAKEFLOW_PYTHON", sys.executable)
    if os.getcwd() not in env.get("PYTHONPATH", "").split(os.pathsep):
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), os.getcwd()) if p)
    if args.config:
        text = open(args.config).read() if os.path.exists(args.config) else args.config
        json.loads(text)  # fail here, with the JSON error, rather than in every test
        env["LAKEFLOW_TEST_CONFIG_JSON"] = text
    source_dir = args.source_dir
    if source_dir is None:
        spec = importlib.util.find_spec(target.partition(":")[0])
        if spec is not None and spec.origin:
            source_dir = os.path.dirname(spec.origin)
    if source_dir:
        env["LAKEFLOW_SOURCE_DIR"] = source_dir
    os.execve(binary, [binary, *gtest_args], env)


if __name__ == "__main__":
    main()
