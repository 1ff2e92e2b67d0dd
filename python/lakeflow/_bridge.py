"""Serves a Python connector to lakeflow's C++ pipeline, one connector instance per process.

``lakeflow run`` (any lakeflow program) names a Python connector as
``python:package.module:ClassName`` and runs this file with the system's Python (LAKEFLOW_PYTHON,
else ``python3``): ``python3 -c <this file> <fd>``. It imports nothing from lakeflow, so it runs on
any Python 3.8+, and the connector may import ``lakeflow.types`` or ``pyspark.sql.types``.

The protocol, over the socket at file descriptor <fd> (the connector's own prints go to stderr):
a request is one JSON line ``{"method": ..., ...}``; an answer is one JSON line ``{"ok": value}``
or ``{"error": {"type", "message", "where"}}``. ``read_table`` and ``read_table_deletes`` answer
``{"ok": end_offset}`` as soon as the connector returns (the offset is taken then, before the
records are iterated, as PySpark's stream reader takes it), then the records in frames
``R <count> <bytes>\\n`` followed by <count> compact JSON texts each ending in a newline, then
``E\\n``; an error while iterating ends the frames with an ``{"error": ...}`` line instead.
"""

import base64
import datetime
import decimal
import importlib
import json
import os
import socket
import sys
import traceback

REQUIRED = ("list_tables", "get_table_schema", "read_table_metadata", "read_table")
FRAME_RECORDS = 2000
FRAME_BYTES = 1 << 20


def _default(value):
    """JSON for values upstream's parse_value accepts beside JSON's own."""
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError("%s is not JSON-serializable" % type(value).__name__)


_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                           default=_default).encode


class ConnectorError(Exception):
    """A connector broke the interface (wrong type returned, missing method)."""


def _where(tb):
    frames = traceback.extract_tb(tb)
    if not frames:
        return ""
    f = frames[-1]
    return "%s:%d in %s" % (f.filename, f.lineno, f.name)


class Server:
    def __init__(self, sock):
        self.sock = sock
        self.rfile = sock.makefile("rb")
        self.wfile = sock.makefile("wb", buffering=1 << 16)
        self.cls = None
        self.name = None
        self.connector = None

    def send(self, obj):
        self.wfile.write(json.dumps(obj, separators=(",", ":")).encode("utf-8") + b"\n")

    def error(self, exc, where=""):
        self.send({"error": {"type": type(exc).__name__, "message": str(exc), "where": where}})

    def serve(self):
        for line in self.rfile:
            request = json.loads(line)
            method = request["method"]
            try:
                handler = getattr(self, "do_" + method)
                handler(request)
            except ConnectorError as e:
                self.error(e)
            except Exception as e:  # the connector's own failure, reported with where it happened
                self.error(e, _where(e.__traceback__))
            self.wfile.flush()

    # --- requests ---------------------------------------------------------------------------------

    def do_load(self, request):
        """Imports package.module:ClassName; answers the module's directory."""
        target = request["class"]
        module_name, _, class_name = target.partition(":")
        if not module_name or not class_name:
            raise ConnectorError("'%s' is not package.module:ClassName" % target)
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name, None)
        if cls is None:
            raise ConnectorError("module %s (%s) has no class %s" % (
                module_name, getattr(module, "__file__", "?"), class_name))
        missing = [m for m in REQUIRED if not callable(getattr(cls, m, None))]
        if missing:
            raise ConnectorError(
                "%s has no method %s; a connector implements list_tables, get_table_schema, "
                "read_table_metadata and read_table (upstream's LakeflowConnect), and "
                "read_table_deletes for cdc_with_deletes tables" % (class_name, ", ".join(missing)))
        self.cls, self.name = cls, class_name
        self.send({"ok": {"module_dir": os.path.dirname(os.path.abspath(module.__file__))}})

    def do_init(self, request):
        self.connector = self.cls(request["options"])
        self.send({"ok": None})

    def do_list_tables(self, request):
        tables = self.connector.list_tables()
        if not isinstance(tables, (list, tuple)) or not all(isinstance(t, str) for t in tables):
            raise ConnectorError("%s.list_tables() returned %r; return a list of table names"
                                 % (self.name, type(tables).__name__))
        self.send({"ok": list(tables)})

    def do_get_table_schema(self, request):
        schema = self.connector.get_table_schema(request["table"], request["table_options"])
        to_json = getattr(schema, "json", None)
        if not callable(to_json) or getattr(schema, "typeName", lambda: None)() != "struct":
            raise ConnectorError(
                "%s.get_table_schema(%r) returned %s, not a StructType (pyspark.sql.types or "
                "lakeflow.types)" % (self.name, request["table"], type(schema).__name__))
        self.send({"ok": to_json()})

    def do_read_table_metadata(self, request):
        metadata = self.connector.read_table_metadata(request["table"], request["table_options"])
        if not isinstance(metadata, dict):
            raise ConnectorError("%s.read_table_metadata(%r) returned %s, not a dict"
                                 % (self.name, request["table"], type(metadata).__name__))
        self.send({"ok": metadata})

    def do_read_table(self, request):
        self.read(request, "read_table")

    def do_read_table_deletes(self, request):
        if not callable(getattr(self.connector, "read_table_deletes", None)):
            raise NotImplementedError("%s has no read_table_deletes" % self.name)
        self.read(request, "read_table_deletes")

    def read(self, request, method):
        table = request["table"]
        call = "%s.%s(%r)" % (self.name, method, table)
        result = getattr(self.connector, method)(table, request["start_offset"],
                                                 request["table_options"])
        if not isinstance(result, tuple) or len(result) != 2:
            raise ConnectorError("%s returned %s; return (iterator of dicts, offset dict)"
                                 % (call, type(result).__name__))
        records, offset = result
        if offset is not None and not isinstance(offset, dict):
            raise ConnectorError("%s returned an offset of type %s; return a dict (or None for a "
                                 "snapshot read whole)" % (call, type(offset).__name__))
        try:
            offset_json = json.dumps(offset, sort_keys=True)
        except (TypeError, ValueError) as e:
            raise ConnectorError("%s returned an offset that is not JSON: %s" % (call, e))
        self.wfile.write(b'{"ok":' + offset_json.encode("utf-8") + b"}\n")
        try:
            self.send_records(call, records)
        except ConnectorError as e:
            self.error(e)
            return
        except Exception as e:
            self.error(e, _where(e.__traceback__))
            return
        self.wfile.write(b"E\n")

    def send_records(self, call, records):
        texts, size, index = [], 0, 0
        for record in records:
            if not isinstance(record, dict):
                raise ConnectorError("%s yielded %s as record %d; records are dicts"
                                     % (call, type(record).__name__, index))
            try:
                text = _encode(record)
            except (TypeError, ValueError) as e:
                raise ConnectorError("%s: record %d is not JSON: %s" % (call, index, e))
            texts.append(text)
            size += len(text)
            index += 1
            if len(texts) >= FRAME_RECORDS or size >= FRAME_BYTES:
                self.send_frame(texts)
                texts, size = [], 0
        if texts:
            self.send_frame(texts)

    def send_frame(self, texts):
        texts.append("")
        data = "\n".join(texts).encode("utf-8")
        self.wfile.write(b"R %d %d\n" % (len(texts) - 1, len(data)))
        self.wfile.write(data)


def main(argv):
    fd = int(argv[1])
    sock = socket.socket(fileno=fd)
    # The connector's prints must not reach the protocol: standard output goes to stderr.
    sys.stdout = sys.stderr
    # The directory lakeflow was started in, so a connector package there imports.
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        Server(sock).serve()
    except (BrokenPipeError, ConnectionResetError, KeyboardInterrupt):
        pass


if __name__ == "__main__":
    main(sys.argv)
