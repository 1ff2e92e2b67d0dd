"""A small shop source in Python: customers (cdc), orders (cdc_with_deletes), events (append) and
products (snapshot), generated deterministically in memory. Written as an upstream connector is:
plain dicts out, offsets as dicts, `max_records_per_batch` honoured, nothing converted.

Connection options: `records` (rows per table, default 40), `fail` (a method name whose call
raises, to test error reporting), `bad` (a table whose read breaks the interface), `bad_value` (a table whose third record holds a
value its schema cannot take)."""

import datetime
import decimal

try:
    from pyspark.sql.types import (ArrayType, BooleanType, DecimalType, DoubleType, LongType,
                                   StringType, StructField, StructType, TimestampType)
except ImportError:
    from lakeflow.types import (ArrayType, BooleanType, DecimalType, DoubleType, LongType,
                                StringType, StructField, StructType, TimestampType)

ADDRESS = StructType([StructField("city", StringType()), StructField("zip", StringType())])
SCHEMAS = {
    "customers": StructType([
        StructField("id", LongType(), False),
        StructField("name", StringType()),
        StructField("address", ADDRESS),
        StructField("tags", ArrayType(StringType())),
        StructField("vip", BooleanType()),
        StructField("updated_at", TimestampType()),
    ]),
    "orders": StructType([
        StructField("id", LongType(), False),
        StructField("customer_id", LongType()),
        StructField("total", DecimalType(10, 2)),
        StructField("status", StringType()),
        StructField("updated_at", TimestampType()),
    ]),
    "events": StructType([
        StructField("seq", LongType(), False),
        StructField("kind", StringType()),
        StructField("value", DoubleType()),
    ]),
    "products": StructType([
        StructField("sku", StringType(), False),
        StructField("price", DecimalType(10, 2)),
    ]),
}
METADATA = {
    "customers": {"primary_keys": ["id"], "cursor_field": "updated_at", "ingestion_type": "cdc"},
    "orders": {"primary_keys": ["id"], "cursor_field": "updated_at",
               "ingestion_type": "cdc_with_deletes"},
    "events": {"primary_keys": ["seq"], "cursor_field": "seq", "ingestion_type": "append"},
    "products": {"primary_keys": ["sku"], "ingestion_type": "snapshot"},
}
EPOCH = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def stamp(i):
    return (EPOCH + datetime.timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShopConnector:
    def __init__(self, options):
        self.options = options
        self.n = int(options.get("records", "40"))
        if self.options.get("fail") == "__init__":
            raise RuntimeError("cannot reach the shop")

    def _check(self, method, table=None):
        if self.options.get("fail") == method:
            raise RuntimeError("the shop refused %s" % method)
        if table is not None and table not in SCHEMAS:
            raise ValueError("unknown table %s" % table)

    def list_tables(self):
        self._check("list_tables")
        return list(SCHEMAS)

    def get_table_schema(self, table_name, table_options):
        self._check("get_table_schema", table_name)
        if self.options.get("bad") == table_name:
            return {"not": "a schema"}
        return SCHEMAS[table_name]

    def read_table_metadata(self, table_name, table_options):
        self._check("read_table_metadata", table_name)
        return dict(METADATA[table_name])

    def _rows(self, table):
        n = self.n
        if table == "customers":
            return [{"id": i, "name": "customer %d" % i,
                     "address": {"city": "City %d" % (i % 5), "zip": "%05d" % i} if i % 4 else None,
                     "tags": ["t%d" % (i % 3)] if i % 2 else [], "vip": i % 7 == 0,
                     "updated_at": stamp(i)} for i in range(1, n + 1)]
        if table == "orders":
            return [{"id": i, "customer_id": 1 + i % max(n, 1),
                     "total": decimal.Decimal(i * 1234) / 100, "status": "open",
                     "updated_at": EPOCH + datetime.timedelta(minutes=i)}
                    for i in range(1, n + 1)]
        if table == "events":
            return [{"seq": i, "kind": "click" if i % 2 else "view", "value": i / 4}
                    for i in range(1, n + 1)]
        return [{"sku": "SKU-%03d" % i, "price": "%d.99" % i} for i in range(1, 11)]

    def read_table(self, table_name, start_offset, table_options):
        self._check("read_table", table_name)
        if self.options.get("bad") == table_name:
            return iter([{"seq": 1}, ["not", "a", "dict"]]), {"seq": 2}
        rows = self._rows(table_name)
        if self.options.get("bad_value") == table_name:
            rows[2][list(rows[2])[0]] = "not a number"
        if table_name == "products":
            return iter(rows), None
        return self._incremental(rows, METADATA[table_name]["cursor_field"], start_offset,
                                 table_options)

    def read_table_deletes(self, table_name, start_offset, table_options):
        self._check("read_table_deletes", table_name)
        if table_name != "orders":
            raise NotImplementedError("only orders has deletes")
        tombstones = [{"id": i, "updated_at": stamp(self.n + i)} for i in range(3, self.n + 1, 10)]
        return self._incremental(tombstones, "updated_at", start_offset, table_options)

    @staticmethod
    def _incremental(rows, cursor_field, start_offset, table_options):
        limit = int(table_options.get("max_records_per_batch", "1000"))
        since = (start_offset or {}).get("cursor")
        key = (lambda r: str(r[cursor_field])) if cursor_field != "seq" else (
            lambda r: r["seq"])
        if isinstance(since, str) and cursor_field == "seq":
            since = int(since)
        newer = [r for r in rows if since is None or key(r) > since]
        batch = newer[:limit]
        if not batch:
            return iter([]), (start_offset or {})
        return iter(batch), {"cursor": key(batch[-1])}
