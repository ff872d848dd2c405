"""The wire contract of a module under test: JSON-RPC 2.0 over stdio, one object per line.

This is the public, language-neutral contract (schemas: ``schemas/wire/*.schema.json``;
the vendor guide explains it). Both ends of the Python implementation use this module: the
bench's process transport (:mod:`conformance.adapters.process`) and the generic component
server (:mod:`conformance.adapters.serve`). It imports nothing heavy, so the server starts
fast.

Encoding rules
    - one JSON-RPC message per line, UTF-8, ``\\n``-terminated, no line breaks inside;
    - arrays are JSON arrays; booleans are ``true``/``false``; integer signals (int, enum,
      flags) are JSON integers; float signals may be written with or without a fraction;
    - NaN and ±inf never travel: the bench writes a non-finite float input as ``null`` (an
      invalid reading also carries its validity flag, e.g. ``cell_voltage_valid``), and a
      module's reply must never contain ``null``;
    - a float32 value is written with the shortest digits that read back as the same
      float32 (``3.7``, not ``3.700000047683716``), a float64 value likewise as a float64;
    - the encoder is orjson when it is installed (numpy arrays serialised natively), else
      the standard library;
    - ``obsa.step_series`` to a module whose hello says ``"packed": true`` carries its
      columns as packed arrays instead, no number as text (:func:`pack`, :func:`unpack`).
"""

from __future__ import annotations

import json
import math
from typing import Any

PROTOCOL = "1.0"
"""Version of the wire contract; ``obsa.hello`` states it in both directions."""

MAX_LINE_BYTES = 16 * 1024 * 1024
"""Longest accepted message; a longer line is a protocol error (a flood, not a reply)."""

# JSON-RPC 2.0 error codes, and the contract's own (-32000 .. -32099 are implementation's)
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
MODULE_ERROR = -32000
"""The module's code failed (raised, returned nothing usable); ``data`` may say where."""

try:  # orjson: ~10x faster, numpy-aware, and writes NaN as null (what the contract says)
    import orjson as _orjson
except ImportError:  # pragma: no cover - exercised when orjson is not installed
    _orjson = None  # type: ignore[assignment]


def _plain(value: Any) -> Any:
    """``value`` with numpy arrays/scalars as Python values and non-finite floats as None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy array or scalar
        return _plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _encode_std(message: Any) -> bytes:
    try:
        text = json.dumps(message, separators=(",", ":"), allow_nan=False,
                          default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v))
    except ValueError:  # a non-finite float somewhere: map it to null and retry
        text = json.dumps(_plain(message), separators=(",", ":"), allow_nan=False,
                          default=str)
    return text.encode() + b"\n"


if _orjson is not None:
    _OPTIONS = _orjson.OPT_SERIALIZE_NUMPY | _orjson.OPT_APPEND_NEWLINE
    _dumps = _orjson.dumps

    def _listed(value: Any) -> Any:
        # what orjson leaves to its caller: an array that is not C-contiguous (a column of
        # a vector's samples: written as its contiguous copy, so a float32 column reads as
        # a float32 row does), a numpy scalar of a kind it does not serialise
        flags = getattr(value, "flags", None)
        dimensions: int = getattr(value, "ndim", 0)
        if flags is not None and dimensions > 0 and not flags.c_contiguous:
            return value.copy(order="C")
        if hasattr(value, "tolist"):
            return value.tolist()
        raise TypeError

    def encode(message: Any) -> bytes:
        """One message as a line of bytes (NaN/inf → null, numpy → JSON)."""
        try:
            return _dumps(message, default=_listed, option=_OPTIONS)
        except TypeError:  # a value orjson does not know (a set...)
            return _encode_std(message)

    decode = _orjson.loads

    def encoded(value: Any) -> Any:
        """``value`` encoded once, to be placed in messages that :func:`encode` writes:
        an input that stays the same over many steps (a sensor snapshot between two
        samples) is not formatted again at every step."""
        try:
            return _orjson.Fragment(_dumps(value, default=_listed,
                                           option=_orjson.OPT_SERIALIZE_NUMPY))
        except TypeError:  # as in encode(): a value orjson does not know travels as is
            return value
else:  # pragma: no cover
    encode = _encode_std
    decode = json.loads

    def encoded(value: Any) -> Any:
        return value

DecodeError = ValueError
"""What :func:`decode` raises on a line that is not JSON (orjson's error subclasses it)."""


def request(id_: int, method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "method": method, "params": params}


def result(id_: Any, value: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": id_, "result": value}


def error(id_: Any, code: int, message: str, data: Any = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        err["data"] = data
    return {"jsonrpc": "2.0", "id": id_, "error": err}


def schema(name: str) -> dict[str, Any]:
    """A schema of the contract, ``schemas/wire/<name>.schema.json`` (request, response)."""
    from ..paths import schemas_dir

    text = (schemas_dir() / "wire" / f"{name}.schema.json").read_text(encoding="utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def problem(document: Any, name: str, definition: str | None = None) -> str | None:
    """Why ``document`` does not match a contract schema (or one of its ``$defs``), or None.

    Used where a message is rare and its exact shape matters (``obsa.hello``, errors); the
    per-step replies are checked by the compiled output checks instead."""
    import jsonschema

    root = schema(name)
    target = root if definition is None else {**root, "$ref": f"#/$defs/{definition}"}
    if definition is not None:
        target = {k: v for k, v in target.items() if k in ("$schema", "$id", "$defs", "$ref")}
    errors = sorted(jsonschema.Draft202012Validator(target).iter_errors(document),
                    key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    e = errors[0]
    where = "/".join(str(p) for p in e.absolute_path) or "the message"
    return f"{where}: {e.message}"


# --------------------------------------------------------------------------- packed arrays
PACKED_DTYPES = {"f8": "<f8", "f4": "<f4", "i8": "<i8", "b1": "|b1"}
"""The element types of a packed array (``obsa.step_series`` with ``"encoding":
"packed"``): little-endian float64, float32, int64, and bool as one byte 0 or 1."""


class PackedError(ValueError):
    """A packed array that breaks the contract; the message says what was expected."""


def pack(values: Any) -> dict[str, Any]:
    """``values`` (a numpy array, or what numpy makes one of) as a packed array:
    ``{"dtype", "shape", "data"}``, the data the little-endian bytes in C order, in hex
    (two digits a byte: a C module needs no library for it, and it reads 4× faster here
    than base64)
    A float array other than float32 travels as float64, an integer array as int64."""
    import numpy as np

    array = np.asarray(values)
    kind = array.dtype.kind
    if kind == "b":
        code = "b1"
    elif kind in "iu":
        code = "i8"
        if array.dtype == np.uint64 and array.size and int(array.max()) > 2 ** 63 - 1:
            raise PackedError("cannot pack an integer above 2**63 - 1 as i8")
    elif kind == "f":
        code = "f4" if array.dtype.itemsize == 4 else "f8"
    else:
        raise PackedError(f"cannot pack an array of dtype {array.dtype}")
    raw = np.ascontiguousarray(array, dtype=PACKED_DTYPES[code]).tobytes()
    return {"dtype": code, "shape": list(array.shape),
            "data": raw.hex()}


def unpack(value: Any, dtypes: tuple[str, ...], shape: tuple[int, ...]) -> Any:
    """The read-only numpy array of packed array ``value`` (native byte order), which must
    have one of ``dtypes`` and the ``shape`` given (a length of -1 there: any); raise
    :class:`PackedError` saying what is wrong."""
    import numpy as np

    if type(value) is not dict or set(value) != {"dtype", "shape", "data"}:
        found = sorted(value) if type(value) is dict else type(value).__name__
        raise PackedError(f"expected a packed array {{'dtype', 'shape', 'data'}}, found {found}")
    code, dims, data = value["dtype"], value["shape"], value["data"]
    if code not in dtypes:
        raise PackedError(f"expected dtype {' or '.join(map(repr, dtypes))}, found {code!r}")
    if type(dims) is not list or len(dims) != len(shape) or \
            not all(type(d) is int and d >= 0 and (d == want or want < 0)
                    for d, want in zip(dims, shape, strict=False)):
        wanted = [("any" if d < 0 else d) for d in shape]
        raise PackedError(f"expected shape {wanted}, found {dims!r}")
    if type(data) is not str:
        raise PackedError(f"expected 'data' as a string of hex digits, found "
                          f"{type(data).__name__}")
    dtype = np.dtype(PACKED_DTYPES[code])
    size = dtype.itemsize * math.prod(dims)  # exact: a huge shape only fails the length
    if len(data) != 2 * size:
        raise PackedError(f"expected {size} bytes of data ({2 * size} hex digits) for shape "
                          f"{dims} of {code}, found {len(data)} digits")
    try:
        raw = bytes.fromhex(data)
    except ValueError:
        raw = b""
    if len(raw) != size:  # (fromhex skips spaces: a space is no digit)
        raise PackedError("'data' is not hex digits, two a byte") from None
    if code == "b1":
        octets = np.frombuffer(raw, dtype=np.uint8)
        wrong = np.flatnonzero(octets > 1)
        if wrong.size:
            raise PackedError(f"a b1 item is a byte 0 or 1, found {int(octets[wrong[0]])} at "
                              f"flat index {int(wrong[0])}")
    array: Any = np.frombuffer(raw, dtype=dtype).reshape(dims)
    if not dtype.isnative:
        array = array.astype(dtype.newbyteorder("="))
        array.flags.writeable = False
    return array


def signal_type(type_: str, dimension: str | None) -> str:
    """The type word of a signal in ``obsa.hello``: 'float', 'bool[]', 'flags'..."""
    return f"{type_}[]" if dimension else type_
