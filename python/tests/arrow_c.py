"""A minimal reader of the Arrow C Stream Interface through ctypes, so the tests consume
`__arrow_c_stream__` without pyarrow (which Debian does not package). It reads what the tests
check: the schema's format strings and names, and int64, float64, bool and utf8 columns."""

import ctypes


class ArrowSchema(ctypes.Structure):
    pass


ArrowSchema._fields_ = [
    ("format", ctypes.c_char_p), ("name", ctypes.c_char_p), ("metadata", ctypes.c_void_p),
    ("flags", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowSchema))),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowSchema))),
    ("private_data", ctypes.c_void_p)]


class ArrowArray(ctypes.Structure):
    pass


ArrowArray._fields_ = [
    ("length", ctypes.c_int64), ("null_count", ctypes.c_int64), ("offset", ctypes.c_int64),
    ("n_buffers", ctypes.c_int64), ("n_children", ctypes.c_int64),
    ("buffers", ctypes.POINTER(ctypes.c_void_p)),
    ("children", ctypes.POINTER(ctypes.POINTER(ArrowArray))),
    ("dictionary", ctypes.c_void_p),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArray))),
    ("private_data", ctypes.c_void_p)]


class ArrowArrayStream(ctypes.Structure):
    pass


ArrowArrayStream._fields_ = [
    ("get_schema", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream),
                                    ctypes.POINTER(ArrowSchema))),
    ("get_next", ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ArrowArrayStream),
                                  ctypes.POINTER(ArrowArray))),
    ("get_last_error", ctypes.CFUNCTYPE(ctypes.c_char_p, ctypes.POINTER(ArrowArrayStream))),
    ("release", ctypes.CFUNCTYPE(None, ctypes.POINTER(ArrowArrayStream))),
    ("private_data", ctypes.c_void_p)]

_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


class StreamError(Exception):
    pass


def _schema_tree(schema):
    children = [_schema_tree(schema.children[i].contents) for i in range(schema.n_children)]
    return (schema.name.decode() if schema.name else "", schema.format.decode(), children)


def _valid(array, i):
    bitmap = array.buffers[0]
    if not bitmap:
        return True
    byte = ctypes.cast(bitmap, ctypes.POINTER(ctypes.c_uint8))[(array.offset + i) // 8]
    return bool(byte >> ((array.offset + i) % 8) & 1)


def _values(array, fmt):
    n = array.length
    out = []
    for i in range(n):
        if not _valid(array, i):
            out.append(None)
        elif fmt == "l":
            out.append(ctypes.cast(array.buffers[1], ctypes.POINTER(ctypes.c_int64))[i])
        elif fmt == "g":
            out.append(ctypes.cast(array.buffers[1], ctypes.POINTER(ctypes.c_double))[i])
        elif fmt == "b":
            byte = ctypes.cast(array.buffers[1], ctypes.POINTER(ctypes.c_uint8))[i // 8]
            out.append(bool(byte >> (i % 8) & 1))
        elif fmt == "u":
            offsets = ctypes.cast(array.buffers[1], ctypes.POINTER(ctypes.c_int32))
            data = ctypes.cast(array.buffers[2], ctypes.c_void_p).value
            out.append(ctypes.string_at(data + offsets[i], offsets[i + 1] - offsets[i]).decode())
        else:
            out.append("<%s>" % fmt)
    return out


def read_stream(obj):
    """Consumes obj.__arrow_c_stream__(): returns (schema tree, [batch, ...]) where a batch is a
    dict column name -> list of values. Raises StreamError with the producer's last error."""
    capsule = obj.__arrow_c_stream__()
    stream = ctypes.cast(_get_pointer(capsule, b"arrow_array_stream"),
                         ctypes.POINTER(ArrowArrayStream)).contents
    schema = ArrowSchema()
    if stream.get_schema(ctypes.byref(stream), ctypes.byref(schema)) != 0:
        raise StreamError(stream.get_last_error(ctypes.byref(stream)).decode())
    tree = _schema_tree(schema)
    schema.release(ctypes.byref(schema))
    batches = []
    while True:
        array = ArrowArray()
        if stream.get_next(ctypes.byref(stream), ctypes.byref(array)) != 0:
            raise StreamError(stream.get_last_error(ctypes.byref(stream)).decode())
        if not array.release:
            break
        batch = {"__length__": array.length}
        for i, (name, fmt, _) in enumerate(tree[2]):
            batch[name] = _values(array.children[i].contents, fmt)
        array.release(ctypes.byref(array))
        batches.append(batch)
    return tree, batches
