"""lakeflow.types: PySpark's class names, constructors and JSON, byte for byte.

The expected strings are PySpark's `DataType.json()`: `json.dumps(jsonValue(), separators=(",",
":"), sort_keys=True)`, so keys are sorted at every level and non-ASCII text is escaped. Each is
also checked against the C++ core's writer (lakeflow._lakeflow.type_json), and against PySpark
itself when it is importable.
"""

import unittest

from lakeflow import _lakeflow
from lakeflow.types import (ArrayType, BinaryType, BooleanType, ByteType, DateType, DecimalType,
                            DoubleType, FloatType, IntegerType, LongType, MapType, ShortType,
                            StringType, StructField, StructType, TimestampNTZType, TimestampType,
                            VariantType, parse_json)

CASES = [
    (LongType(), '"long"'),
    (IntegerType(), '"integer"'),
    (ShortType(), '"short"'),
    (ByteType(), '"byte"'),
    (DoubleType(), '"double"'),
    (FloatType(), '"float"'),
    (StringType(), '"string"'),
    (BooleanType(), '"boolean"'),
    (DateType(), '"date"'),
    (TimestampType(), '"timestamp"'),
    (TimestampNTZType(), '"timestamp_ntz"'),
    (BinaryType(), '"binary"'),
    (VariantType(), '"variant"'),
    (DecimalType(), '"decimal(10,0)"'),
    (DecimalType(38, 18), '"decimal(38,18)"'),
    (ArrayType(StringType()), '{"containsNull":true,"elementType":"string","type":"array"}'),
    (ArrayType(LongType(), False), '{"containsNull":false,"elementType":"long","type":"array"}'),
    (MapType(StringType(), DoubleType(), False),
     '{"keyType":"string","type":"map","valueContainsNull":false,"valueType":"double"}'),
    (StructType([StructField("id", LongType(), False)]),
     '{"fields":[{"metadata":{},"name":"id","nullable":false,"type":"long"}],"type":"struct"}'),
    (StructType([
        StructField("name", ArrayType(StructType([
            StructField("given", ArrayType(StringType())),
            StructField("family", StringType(), True, {"comment": "Nachname", "a": [1, 2.5]}),
        ]))),
        StructField("caf\u00e9", MapType(StringType(), DecimalType(5, 2))),
    ]),
     '{"fields":[{"metadata":{},"name":"name","nullable":true,"type":{"containsNull":true,'
     '"elementType":{"fields":[{"metadata":{},"name":"given","nullable":true,"type":'
     '{"containsNull":true,"elementType":"string","type":"array"}},{"metadata":{"a":[1,2.5],'
     '"comment":"Nachname"},"name":"family","nullable":true,"type":"string"}],"type":"struct"},'
     '"type":"array"}},{"metadata":{},"name":"caf\\u00e9","nullable":true,"type":{"keyType":'
     '"string","type":"map","valueContainsNull":true,"valueType":"decimal(5,2)"}}],'
     '"type":"struct"}'),
]


class TypesTest(unittest.TestCase):
    def test_Json_IsPySparksForm(self):
        for t, expected in CASES:
            with self.subTest(type=repr(t)):
                self.assertEqual(t.json(), expected)

    def test_Json_IsTheCoreWritersForm(self):
        for t, expected in CASES:
            with self.subTest(type=repr(t)):
                self.assertEqual(_lakeflow.type_json(t.json()), expected)

    def test_FromJson_RoundTrips(self):
        for t, expected in CASES:
            with self.subTest(type=repr(t)):
                self.assertEqual(parse_json(expected), t)
                self.assertEqual(parse_json(expected).json(), expected)

    def test_StructType_BehavesAsPySparks(self):
        s = StructType().add("id", LongType(), False).add("name", "string")
        self.assertEqual(s.names, ["id", "name"])
        self.assertEqual(s["name"], StructField("name", StringType()))
        self.assertEqual(s[0].dataType, LongType())
        self.assertEqual(len(s), 2)
        self.assertEqual([f.name for f in s], ["id", "name"])
        self.assertEqual(s.simpleString(), "struct<id:bigint,name:string>")
        self.assertNotEqual(s, StructType([StructField("id", LongType())]))
        self.assertEqual(StructType.fromJson({"type": "struct", "fields": []}), StructType())
        with self.assertRaises(KeyError):
            s["missing"]

    def test_Constructors_RejectWhatPySparkRejects(self):
        with self.assertRaises(TypeError):
            ArrayType("string")
        with self.assertRaises(TypeError):
            StructField("x", "long")
        with self.assertRaises(TypeError):
            StructType(["x"])
        with self.assertRaises(ValueError):
            parse_json('"interval"')

    def test_Json_MatchesInstalledPySpark(self):
        try:
            from pyspark.sql import types as spark
        except ImportError:
            self.skipTest("PySpark is not importable here; the expected strings above are its form")
        for t, expected in CASES:
            with self.subTest(type=repr(t)):
                self.assertEqual(spark._parse_datatype_json_string(expected).json(), expected)


if __name__ == "__main__":
    unittest.main()
