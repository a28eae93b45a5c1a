"""Decode the protobuf bodies kubectl sends (`create secret|namespace|sa`, `auth can-i`)."""

from __future__ import annotations

import base64
from typing import Any

MAGIC = b"k8s\x00"
PROTOBUF = "application/vnd.kubernetes.protobuf"


class ProtobufError(ValueError):
    """A body that is not a k8s protobuf envelope we understand."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf):
            raise ProtobufError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """(field number, value) pairs; value is an int (varint) or bytes (length-delimited)."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    while pos < len(buf):
        tag, pos = _varint(buf, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ProtobufError("truncated field")
            out.append((number, buf[pos : pos + length]))
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return out


def _text(value: int | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _map_entry(value: int | bytes) -> tuple[str, bytes]:
    key, val = "", b""
    for number, item in fields(value if isinstance(value, bytes) else b""):
        if number == 1:
            key = _text(item)
        elif number == 2 and isinstance(item, bytes):
            val = item
    return key, val


def _object_meta(buf: bytes) -> dict[str, Any]:
    meta: dict[str, Any] = {}
    names = {1: "name", 2: "generateName", 3: "namespace", 5: "uid", 6: "resourceVersion"}
    for number, value in fields(buf):
        if number in names and _text(value):
            meta[names[number]] = _text(value)
        elif number in (11, 12):
            key, val = _map_entry(value)
            meta.setdefault("labels" if number == 11 else "annotations", {})[key] = val.decode()
        elif number == 14:
            meta.setdefault("finalizers", []).append(_text(value))
    return meta


def _secret(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Secret"}
    for number, value in fields(buf):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
        elif number == 2:
            key, val = _map_entry(value)
            # JSON carries []byte as base64, so the rest of the fake sees the usual form.
            obj.setdefault("data", {})[key] = base64.b64encode(val).decode()
        elif number == 3:
            obj["type"] = _text(value)
        elif number == 4:
            key, val = _map_entry(value)
            obj.setdefault("stringData", {})[key] = val.decode()
        elif number == 5:
            obj["immutable"] = bool(value)
    return obj


def _namespace(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace"}
    for number, value in fields(buf):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
        elif number == 2 and isinstance(value, bytes):
            finalizers = [_text(v) for n, v in fields(value) if n == 1]
            if finalizers:
                obj["spec"] = {"finalizers": finalizers}
    return obj


def _service_account(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "ServiceAccount"}
    reference_names = {1: "kind", 2: "namespace", 3: "name", 4: "uid", 5: "apiVersion"}
    for number, value in fields(buf):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
        elif number == 2 and isinstance(value, bytes):
            obj.setdefault("secrets", []).append(_attributes(value, reference_names))
        elif number == 3 and isinstance(value, bytes):
            obj.setdefault("imagePullSecrets", []).append(_attributes(value, {1: "name"}))
        elif number == 4:
            obj["automountServiceAccountToken"] = bool(value)
    return obj


def _attributes(buf: bytes, names: dict[int, str]) -> dict[str, str]:
    return {names[n]: _text(v) for n, v in fields(buf) if n in names and _text(v)}


def _ssar(buf: bytes) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "metadata": {},
        "spec": {},
    }
    resource_names = {
        1: "namespace",
        2: "verb",
        3: "group",
        4: "version",
        5: "resource",
        6: "subresource",
        7: "name",
    }
    for number, value in fields(buf):
        if number == 1 and isinstance(value, bytes):
            obj["metadata"] = _object_meta(value)
        elif number == 2 and isinstance(value, bytes):
            for sub, attrs in fields(value):
                if sub == 1 and isinstance(attrs, bytes):
                    obj["spec"]["resourceAttributes"] = _attributes(attrs, resource_names)
                elif sub == 2 and isinstance(attrs, bytes):
                    obj["spec"]["nonResourceAttributes"] = _attributes(
                        attrs, {1: "path", 2: "verb"}
                    )
    return obj


def decode(body: bytes) -> dict[str, Any]:
    """Turn a `k8s\\0` + runtime.Unknown body into the JSON-shaped object it carries."""
    if not body.startswith(MAGIC):
        raise ProtobufError("missing k8s protobuf prefix")
    api_version = kind = ""
    raw = b""
    for number, value in fields(body[len(MAGIC) :]):
        if number == 1 and isinstance(value, bytes):
            for sub, item in fields(value):
                if sub == 1:
                    api_version = _text(item)
                elif sub == 2:
                    kind = _text(item)
        elif number == 2 and isinstance(value, bytes):
            raw = value
    decoders = {"Secret": _secret, "Namespace": _namespace, "ServiceAccount": _service_account}
    if api_version == "v1" and kind in decoders:
        return decoders[kind](raw)
    if (api_version, kind) == ("authorization.k8s.io/v1", "SelfSubjectAccessReview"):
        return _ssar(raw)
    raise ProtobufError(f"protobuf decoding of {api_version} {kind} is not implemented")


def encode_for_tests(api_version: str, kind: str, raw: bytes) -> bytes:
    """Build an envelope (lets tests exercise the decoder without kubectl)."""

    def field(number: int, payload: bytes) -> bytes:
        return _encode_varint(number << 3 | 2) + _encode_varint(len(payload)) + payload

    type_meta = field(1, api_version.encode()) + field(2, kind.encode())
    return MAGIC + field(1, type_meta) + field(2, raw) + field(3, b"") + field(4, b"")


def _encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_field(number: int, payload: bytes | str) -> bytes:
    """One length-delimited field (for tests building Secret/SSAR messages)."""
    data = payload.encode() if isinstance(payload, str) else payload
    return _encode_varint(number << 3 | 2) + _encode_varint(len(data)) + data
