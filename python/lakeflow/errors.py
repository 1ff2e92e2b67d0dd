"""The exceptions lakeflow raises. Each carries the message the C++ core wrote (naming the
connector, table, option or field path, and what to do) and, as ``code``, the core's error code.

They also derive from the built-in exception a Python caller would catch for the same problem
(ValueError for bad options, unknown tables and records that do not convert), so code written for
upstream's connectors keeps working.
"""


class LakeflowError(Exception):
    """Base of every lakeflow error."""

    code = "internal"


class UsageError(LakeflowError, ValueError):
    code = "usage"


class ConfigError(LakeflowError, ValueError):
    """A bad connector or table option, spec or offset."""

    code = "config"


class UnknownTableError(LakeflowError, ValueError):
    """A table name the connector does not serve."""

    code = "unknown_table"


class SchemaError(LakeflowError, ValueError):
    """A bad schema, or table metadata that does not resolve in the schema."""

    code = "schema"


class SourceError(LakeflowError, RuntimeError):
    """The source failed or answered something unusable; a later retry may succeed."""

    code = "source"


class AccessError(LakeflowError, PermissionError):
    """Credentials rejected, or a permission denied."""

    code = "access"


class ConversionError(LakeflowError, ValueError):
    """A record does not convert to its table's schema. ``table``, ``record_index`` and
    ``field_path`` (``name[2].given[0]``) say which value."""

    code = "data"

    def __init__(self, message, table=None, record_index=None, field_path=None,
                 expected_type=None, reason=None):
        super().__init__(message)
        self.table = table
        self.record_index = record_index
        self.field_path = field_path
        self.expected_type = expected_type
        self.reason = reason


class UnsupportedError(LakeflowError, NotImplementedError):
    """An optional method the connector does not implement (read_table_deletes)."""

    code = "not_implemented"


class ConflictError(LakeflowError, RuntimeError):
    """Another writer committed to a table this one was writing."""

    code = "conflict"


class InternalError(LakeflowError, RuntimeError):
    code = "internal"


# The class for each error code of the C++ core (lakeflow/error.h).
BY_CODE = {cls.code: cls for cls in (
    UsageError, ConfigError, UnknownTableError, SchemaError, SourceError, AccessError,
    ConversionError, UnsupportedError, ConflictError, InternalError)}
