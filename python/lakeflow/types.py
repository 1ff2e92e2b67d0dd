"""Spark SQL data types with PySpark's class names, constructors and JSON.

A connector written against upstream's interface declares its schemas with
``pyspark.sql.types``; where PySpark is not installed, ``from lakeflow.types import ...`` gives the
same classes: the same constructors and attributes, and ``.json()`` / ``fromJson`` byte for byte
what PySpark produces and reads (compact, keys sorted, non-ASCII escaped), so a schema moves
between lakeflow's C++ core, PySpark and Spark unchanged.

lakeflow accepts PySpark's own type objects wherever it takes a schema: it reads any object's
``.json()``.
"""

import json as _json

__all__ = [
    "DataType", "StringType", "BinaryType", "BooleanType", "DateType", "TimestampType",
    "TimestampNTZType", "DecimalType", "DoubleType", "FloatType", "ByteType", "IntegerType",
    "LongType", "ShortType", "VariantType", "ArrayType", "MapType", "StructField", "StructType",
    "parse_json",
]


class DataType:
    """Base of every type. Equal when of the same class with the same attributes."""

    def __repr__(self):
        return type(self).__name__ + "()"

    def __hash__(self):
        return hash(str(self))

    def __eq__(self, other):
        return isinstance(other, type(self)) and self.__dict__ == other.__dict__

    def __ne__(self, other):
        return not self.__eq__(other)

    @classmethod
    def typeName(cls):
        return cls.__name__[:-4].lower()

    def simpleString(self):
        return self.typeName()

    def jsonValue(self):
        return self.typeName()

    def json(self):
        return _json.dumps(self.jsonValue(), separators=(",", ":"), sort_keys=True)


class _Atomic(DataType):
    """A type without parameters: every instance equals every other."""

    _sql_name = None

    def simpleString(self):
        return self._sql_name or self.typeName()


class StringType(_Atomic):
    pass


class BinaryType(_Atomic):
    pass


class BooleanType(_Atomic):
    pass


class DateType(_Atomic):
    pass


class TimestampType(_Atomic):
    pass


class TimestampNTZType(_Atomic):
    _sql_name = "timestamp_ntz"

    @classmethod
    def typeName(cls):
        return "timestamp_ntz"


class DoubleType(_Atomic):
    pass


class FloatType(_Atomic):
    pass


class ByteType(_Atomic):
    _sql_name = "tinyint"


class ShortType(_Atomic):
    _sql_name = "smallint"


class IntegerType(_Atomic):
    _sql_name = "int"


class LongType(_Atomic):
    _sql_name = "bigint"


class VariantType(_Atomic):
    pass


class DecimalType(DataType):
    """Fixed precision (at most 38 digits) and scale; DecimalType() is decimal(10,0)."""

    def __init__(self, precision=10, scale=0):
        self.precision = precision
        self.scale = scale
        self.hasPrecisionInfo = True

    def simpleString(self):
        return "decimal(%d,%d)" % (self.precision, self.scale)

    def jsonValue(self):
        return "decimal(%d,%d)" % (self.precision, self.scale)

    def __repr__(self):
        return "DecimalType(%d,%d)" % (self.precision, self.scale)


class ArrayType(DataType):
    def __init__(self, elementType, containsNull=True):
        if not isinstance(elementType, DataType):
            raise TypeError("elementType %r should be an instance of DataType" % (elementType,))
        self.elementType = elementType
        self.containsNull = containsNull

    def simpleString(self):
        return "array<%s>" % self.elementType.simpleString()

    def __repr__(self):
        return "ArrayType(%r, %s)" % (self.elementType, self.containsNull)

    def jsonValue(self):
        return {"type": self.typeName(), "elementType": self.elementType.jsonValue(),
                "containsNull": self.containsNull}

    @classmethod
    def fromJson(cls, json):
        return ArrayType(_from_json_value(json["elementType"]), json["containsNull"])


class MapType(DataType):
    def __init__(self, keyType, valueType, valueContainsNull=True):
        for what, t in (("keyType", keyType), ("valueType", valueType)):
            if not isinstance(t, DataType):
                raise TypeError("%s %r should be an instance of DataType" % (what, t))
        self.keyType = keyType
        self.valueType = valueType
        self.valueContainsNull = valueContainsNull

    def simpleString(self):
        return "map<%s,%s>" % (self.keyType.simpleString(), self.valueType.simpleString())

    def __repr__(self):
        return "MapType(%r, %r, %s)" % (self.keyType, self.valueType, self.valueContainsNull)

    def jsonValue(self):
        return {"type": self.typeName(), "keyType": self.keyType.jsonValue(),
                "valueType": self.valueType.jsonValue(),
                "valueContainsNull": self.valueContainsNull}

    @classmethod
    def fromJson(cls, json):
        return MapType(_from_json_value(json["keyType"]), _from_json_value(json["valueType"]),
                       json["valueContainsNull"])


class StructField(DataType):
    def __init__(self, name, dataType, nullable=True, metadata=None):
        if not isinstance(dataType, DataType):
            raise TypeError("dataType %r should be an instance of DataType" % (dataType,))
        if not isinstance(name, str):
            raise TypeError("field name %r should be a string" % (name,))
        self.name = name
        self.dataType = dataType
        self.nullable = nullable
        self.metadata = metadata or {}

    def simpleString(self):
        return "%s:%s" % (self.name, self.dataType.simpleString())

    def __repr__(self):
        return "StructField(%r, %r, %s)" % (self.name, self.dataType, self.nullable)

    def jsonValue(self):
        return {"name": self.name, "type": self.dataType.jsonValue(), "nullable": self.nullable,
                "metadata": self.metadata}

    @classmethod
    def fromJson(cls, json):
        return StructField(json["name"], _from_json_value(json["type"]), json.get("nullable", True),
                           json.get("metadata"))

    def typeName(self):
        raise TypeError("StructField has no typeName; use the typeName of its dataType")


class StructType(DataType):
    """The schema of a table: an ordered list of StructFields, iterable and indexable by position
    or name."""

    def __init__(self, fields=None):
        self.fields = list(fields) if fields else []
        for f in self.fields:
            if not isinstance(f, StructField):
                raise TypeError("fields should be a list of StructField, got %r" % (f,))
        self.names = [f.name for f in self.fields]

    def add(self, field, data_type=None, nullable=True, metadata=None):
        """Appends a field (a StructField, or name, type, nullable, metadata); returns self."""
        if isinstance(field, StructField):
            self.fields.append(field)
        else:
            if data_type is None:
                raise ValueError("add() needs a data_type when given a field name")
            if isinstance(data_type, str):
                data_type = _from_json_value(data_type)
            self.fields.append(StructField(field, data_type, nullable, metadata))
        self.names.append(self.fields[-1].name)
        return self

    def __iter__(self):
        return iter(self.fields)

    def __len__(self):
        return len(self.fields)

    def __getitem__(self, key):
        if isinstance(key, str):
            for f in self.fields:
                if f.name == key:
                    return f
            raise KeyError("No StructField named %s" % key)
        if isinstance(key, int):
            return self.fields[key]
        if isinstance(key, slice):
            return StructType(self.fields[key])
        raise TypeError("StructType keys should be strings, integers or slices")

    def fieldNames(self):
        return list(self.names)

    def simpleString(self):
        return "struct<%s>" % ",".join(f.simpleString() for f in self.fields)

    def __repr__(self):
        return "StructType([%s])" % ", ".join(repr(f) for f in self.fields)

    def jsonValue(self):
        return {"type": self.typeName(), "fields": [f.jsonValue() for f in self.fields]}

    @classmethod
    def fromJson(cls, json):
        return StructType([StructField.fromJson(f) for f in json["fields"]])


_ATOMIC = {t.typeName(): t for t in (
    StringType, BinaryType, BooleanType, DateType, TimestampType, TimestampNTZType, DoubleType,
    FloatType, ByteType, ShortType, IntegerType, LongType, VariantType)}
_NESTED = {"struct": StructType, "array": ArrayType, "map": MapType}


def _from_json_value(value):
    if isinstance(value, str):
        if value in _ATOMIC:
            return _ATOMIC[value]()
        if value == "decimal":
            return DecimalType()
        if value.startswith("decimal(") and value.endswith(")"):
            precision, _, scale = value[8:-1].partition(",")
            try:
                return DecimalType(int(precision), int(scale))
            except ValueError:
                pass
        raise ValueError("unknown data type %r" % value)
    if isinstance(value, dict) and value.get("type") in _NESTED:
        return _NESTED[value["type"]].fromJson(value)
    raise ValueError("not a data type: %r" % (value,))


def parse_json(text):
    """Reads a type from its JSON text (what ``.json()`` returns), as PySpark's
    ``_parse_datatype_json_string`` does."""
    return _from_json_value(_json.loads(text))
