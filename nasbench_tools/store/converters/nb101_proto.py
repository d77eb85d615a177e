"""A small protobuf wire-format decoder for NAS-Bench-101's ``ModelMetrics`` records.

No protobuf dependency: the official ``model_metrics.proto`` (proto2) declares

* ``ModelMetrics``: ``repeated EvaluationData evaluation_data = 1``,
  ``optional int32 trainable_parameters = 2``, ``optional double total_time = 3``;
* ``EvaluationData``: ``optional double current_epoch = 1``, ``training_time = 2``,
  ``train_accuracy = 3``, ``validation_accuracy = 4``, ``test_accuracy = 5`` (doubles) and
  ``optional string checkpoint_path = 6``.

Wire types understood: 0 (varint), 1 (64-bit), 2 (length-delimited), 5 (32-bit); unknown
fields are skipped, as protobuf readers do. Malformed input raises
:class:`~nasbench_tools.errors.FormatError`.

Examples
--------
>>> import struct
>>> ev = b"\\x09" + struct.pack("<d", 54.0) + b"\\x19" + struct.pack("<d", 0.5)
>>> msg = b"\\x0a" + bytes([len(ev)]) + ev + b"\\x10" + b"\\xa0\\x9c\\x01"
>>> m = decode_model_metrics(msg)
>>> m.trainable_parameters, m.evaluation_data[0].current_epoch, m.evaluation_data[0].train_accuracy
(20000, 54.0, 0.5)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from nasbench_tools.errors import FormatError

__all__ = ["EvaluationData", "ModelMetrics", "decode_model_metrics", "read_varint"]

_DOUBLE = struct.Struct("<d")
_NAN = float("nan")

#: EvaluationData field number -> attribute (doubles) ; 6 is the checkpoint path string.
_EVAL_DOUBLES = {1: "current_epoch", 2: "training_time", 3: "train_accuracy",
                 4: "validation_accuracy", 5: "test_accuracy"}


@dataclass
class EvaluationData:
    """One evaluation during training (NaN for fields absent from the record)."""

    current_epoch: float = _NAN
    training_time: float = _NAN
    train_accuracy: float = _NAN
    validation_accuracy: float = _NAN
    test_accuracy: float = _NAN
    checkpoint_path: str = ""


@dataclass
class ModelMetrics:
    """A decoded ``ModelMetrics`` message."""

    evaluation_data: list[EvaluationData] = field(default_factory=list)
    trainable_parameters: int = 0
    total_time: float = _NAN


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; return ``(value, next position)``.

    Examples
    --------
    >>> read_varint(b"\\xac\\x02", 0)
    (300, 2)
    """
    n = len(buf)
    if pos < n and buf[pos] < 0x80:  # one-byte varint: keys and small lengths
        return buf[pos], pos + 1
    result = 0
    shift = 0
    while True:
        if pos >= n:
            raise FormatError(f"protobuf varint runs past the end of the message at byte {pos}")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise FormatError(f"protobuf varint longer than 10 bytes ending at byte {pos}")


def _skip(buf: bytes, pos: int, wire: int, end: int) -> int:
    if wire == 0:
        return read_varint(buf, pos)[1]
    if wire == 1:
        pos += 8
    elif wire == 5:
        pos += 4
    elif wire == 2:
        ln, pos = read_varint(buf, pos)
        pos += ln
    else:
        raise FormatError(f"protobuf wire type {wire} at byte {pos} not supported; allowed: "
                          "0 (varint), 1 (64-bit), 2 (length-delimited) or 5 (32-bit)")
    if pos > end:
        raise FormatError(f"protobuf field runs past the end of its message (byte {pos} > {end})")
    return pos


_CANONICAL_EVAL = struct.Struct("<xdxdxdxdxd")  # fields 1..5 as doubles, in order


def _decode_eval(buf: bytes, pos: int, end: int) -> EvaluationData:
    if (end - pos == 45 and buf[pos] == 0x09 and buf[pos + 9] == 0x11
            and buf[pos + 18] == 0x19 and buf[pos + 27] == 0x21 and buf[pos + 36] == 0x29):
        # fast path: the layout the official writer produces (five doubles, no path)
        return EvaluationData(*_CANONICAL_EVAL.unpack_from(buf, pos))
    ev = EvaluationData()
    while pos < end:
        key, pos = read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if wire == 1 and num in _EVAL_DOUBLES:
            if pos + 8 > end:
                raise FormatError(f"truncated double field {num} in EvaluationData at byte {pos}")
            setattr(ev, _EVAL_DOUBLES[num], _DOUBLE.unpack_from(buf, pos)[0])
            pos += 8
        elif wire == 2 and num == 6:
            ln, pos = read_varint(buf, pos)
            if pos + ln > end:
                raise FormatError(f"truncated checkpoint_path in EvaluationData at byte {pos}")
            ev.checkpoint_path = bytes(buf[pos:pos + ln]).decode("utf-8", "replace")
            pos += ln
        else:
            pos = _skip(buf, pos, wire, end)
    return ev


def decode_model_metrics(buf: bytes) -> ModelMetrics:
    """Decode a serialized ``ModelMetrics`` message.

    Parameters
    ----------
    buf : bytes
        The message (the base64-decoded ``raw_metrics`` of a NAS-Bench-101 record).

    Returns
    -------
    ModelMetrics

    Raises
    ------
    FormatError
        If the message is truncated or malformed.

    Examples
    --------
    >>> decode_model_metrics(b"\\x10\\x05").trainable_parameters
    5
    """
    m = ModelMetrics()
    pos, end = 0, len(buf)
    evals = m.evaluation_data
    while pos < end:
        key = buf[pos]
        if key == 0x0A and pos + 1 < end and buf[pos + 1] < 0x80:
            # evaluation_data with a one-byte length: the common case, inlined
            ln = buf[pos + 1]
            pos += 2
            if pos + ln > end:
                raise FormatError(f"truncated EvaluationData at byte {pos} (needs {ln} bytes, "
                                  f"{end - pos} left)")
            evals.append(_decode_eval(buf, pos, pos + ln))
            pos += ln
            continue
        key, pos = read_varint(buf, pos)
        num, wire = key >> 3, key & 7
        if num == 1 and wire == 2:
            ln, pos = read_varint(buf, pos)
            if pos + ln > end:
                raise FormatError(f"truncated EvaluationData at byte {pos} (needs {ln} bytes, "
                                  f"{end - pos} left)")
            m.evaluation_data.append(_decode_eval(buf, pos, pos + ln))
            pos += ln
        elif num == 2 and wire == 0:
            v, pos = read_varint(buf, pos)
            m.trainable_parameters = v - (1 << 64) if v >= 1 << 63 else v  # int32 sign rule
        elif num == 3 and wire == 1:
            if pos + 8 > end:
                raise FormatError(f"truncated total_time at byte {pos}")
            m.total_time = _DOUBLE.unpack_from(buf, pos)[0]
            pos += 8
        else:
            pos = _skip(buf, pos, wire, end)
    return m
