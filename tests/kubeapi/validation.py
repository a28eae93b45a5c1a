"""Decoding checks, defaulting and validation per kind, with the apiserver's messages."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from .errors import ApiError, FieldError, GoLiteral, bad_request
from .kinds import Kind
from .names import (
    config_key_errors,
    dns1123_label_errors,
    dns1123_subdomain_errors,
    label_value_errors,
    qualified_name_errors,
)

MAX_SECRET_SIZE = 1024 * 1024
REDACTED = "<secret contents redacted>"
# Secret types whose data key must hold a JSON object (ValidateSecret).
DOCKER_KEYS = {
    "kubernetes.io/dockerconfigjson": ".dockerconfigjson",
    "kubernetes.io/dockercfg": ".dockercfg",
}
_B64_ALPHABET = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=")
# Kinds whose status lives behind a /status subresource, so spec writes cannot change it.
_STATUS_KINDS = {
    "namespaces",
    "pods",
    "deployments",
    "statefulsets",
    "daemonsets",
    "jobs",
    "cronjobs",
}


# -- decoding ------------------------------------------------------------------------------
def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def base64_error(value: str) -> str | None:
    """Go's StdEncoding error for a value, or None when it decodes."""
    clean = value.replace("\r", "").replace("\n", "")
    for i, ch in enumerate(clean):
        if ch not in _B64_ALPHABET:
            return f"illegal base64 data at input byte {i}"
    try:
        base64.b64decode(clean, validate=True)
    except (binascii.Error, ValueError):
        # Go reports the start of the incomplete trailing quantum.
        return f"illegal base64 data at input byte {len(clean) - (len(clean) % 4 or 4)}"
    return None


def decode_check(kind: Kind, body: Any) -> None:
    """Reject bodies the real JSON decoder would refuse, with its 400 wording."""

    def fail(reason: str) -> ApiError:
        return bad_request(
            f'{kind.kind} in version "{kind.version}" cannot be handled as a {kind.kind}: {reason}'
        )

    if not isinstance(body, dict):
        raise bad_request(
            f"the object provided is unrecognized (must be of type {kind.kind}): "
            f"couldn't get version/kind; json parse error: json: cannot unmarshal "
            f"{_go_type(body)} into Go value of type struct {{ APIVersion string "
            '"json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }'
        )
    body_kind, body_api = body.get("kind"), body.get("apiVersion")
    if body_api and body_api != kind.api_version:
        raise bad_request(
            f"the API version in the data ({body_api}) does not match the expected API "
            f"version ({kind.api_version})"
        )
    if body_kind and body_kind != kind.kind:
        raise fail(
            f"converting ({kind.version}.{body_kind}) to ({kind.group or 'core'}.{kind.kind}): "
            "unknown conversion"
        )
    meta = body.get("metadata", {})
    if meta is not None and not isinstance(meta, dict):
        raise fail(
            f"json: cannot unmarshal {_go_type(meta)} into Go struct field "
            f"{kind.kind}.metadata of type v1.ObjectMeta"
        )
    for field in ("labels", "annotations"):
        mapping = (meta or {}).get(field)
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            raise fail(
                f"json: cannot unmarshal {_go_type(mapping)} into Go struct field "
                f"ObjectMeta.metadata.{field} of type map[string]string"
            )
        for value in mapping.values():
            if not isinstance(value, str) and value is not None:
                raise fail(
                    f"json: cannot unmarshal {_go_type(value)} into Go struct field "
                    f"ObjectMeta.metadata.{field} of type string"
                )
    if kind.resource == "secrets":
        _decode_check_secret(body, fail)


def _decode_check_secret(body: dict[str, Any], fail: Any) -> None:
    for field, what in (("data", "[]uint8"), ("stringData", "string")):
        mapping = body.get(field)
        if mapping is None:
            continue
        if not isinstance(mapping, dict):
            raise fail(
                f"json: cannot unmarshal {_go_type(mapping)} into Go struct field "
                f"Secret.{field} of type map[string]{what}"
            )
        for value in mapping.values():
            if value is None:
                continue
            if not isinstance(value, str):
                raise fail(
                    f"json: cannot unmarshal {_go_type(value)} into Go struct field "
                    f"Secret.{field} of type {'[]uint8' if field == 'data' else 'string'}"
                )
            if field == "data":
                error = base64_error(value)
                if error:
                    raise fail(error)


# -- defaulting ----------------------------------------------------------------------------
def apply_defaults(kind: Kind, obj: dict[str, Any]) -> None:
    """Defaults and normalisation the strategy applies on every write (in place)."""
    meta = obj.setdefault("metadata", {})
    for field in ("labels", "annotations"):
        if meta.get(field) == {}:
            del meta[field]
        elif meta.get(field):
            meta[field] = {k: ("" if v is None else v) for k, v in meta[field].items()}
    if kind.resource == "secrets":
        _default_secret(obj)
    elif kind.resource == "namespaces":
        name = meta.get("name", "")
        # Since 1.21 the apiserver forces this label so namespaces can be selected by name.
        meta.setdefault("labels", {})["kubernetes.io/metadata.name"] = name
    elif kind.resource in ("deployments", "statefulsets"):
        obj.setdefault("spec", {}).setdefault("replicas", 1)


def _default_secret(obj: dict[str, Any]) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.pop("stringData", None) or {}
    data = {k: ("" if v is None else v) for k, v in (obj.get("data") or {}).items()}
    for key, text in string_data.items():
        # stringData wins over data on a key clash, and is never stored or returned.
        data[key] = base64.b64encode(("" if text is None else text).encode()).decode()
    if data:
        obj["data"] = data
    else:
        obj.pop("data", None)


def reset_status_on_create(kind: Kind, obj: dict[str, Any]) -> None:
    """PrepareForCreate: status is not writable through the main resource."""
    if kind.resource == "namespaces":
        obj["spec"] = {"finalizers": ["kubernetes"]}
        obj["status"] = {"phase": "Active"}
    elif kind.resource == "pods":
        obj["status"] = {"phase": "Pending"}
    elif kind.resource in _STATUS_KINDS:
        obj["status"] = {}


def keep_status_on_update(kind: Kind, old: dict[str, Any], new: dict[str, Any]) -> None:
    """PrepareForUpdate: status (and namespace finalizers) come from the stored object."""
    if kind.resource not in _STATUS_KINDS:
        return
    if "status" in old:
        new["status"] = old["status"]
    else:
        new.pop("status", None)
    if kind.resource == "namespaces":
        new["spec"] = old.get("spec", {})


# -- validation ----------------------------------------------------------------------------
def validate(
    kind: Kind, obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[FieldError]:
    """All validation errors for a create (old=None) or update."""
    errors = _validate_meta(kind, obj.get("metadata", {}))
    if kind.resource == "secrets":
        errors += _validate_secret(obj, old)
    elif kind.resource == "pods":
        errors += _validate_pod_spec(obj.get("spec") or {}, "spec")
    elif kind.resource in ("deployments", "statefulsets", "daemonsets"):
        errors += _validate_workload(obj)
    elif kind.resource == "jobs":
        errors += _validate_pod_spec(_dig(obj, "spec", "template", "spec"), "spec.template.spec")
    elif kind.resource == "cronjobs":
        if not (obj.get("spec") or {}).get("schedule"):
            errors.append(FieldError.required("spec.schedule"))
        errors += _validate_pod_spec(
            _dig(obj, "spec", "jobTemplate", "spec", "template", "spec"),
            "spec.jobTemplate.spec.template.spec",
        )
    return errors


def _dig(obj: dict[str, Any], *path: str) -> dict[str, Any]:
    node: Any = obj
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else {}


def _validate_meta(kind: Kind, meta: dict[str, Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    name = meta.get("name") or ""
    if not name:
        errors.append(FieldError.required("metadata.name", "name or generateName is required"))
    else:
        check = dns1123_label_errors if kind.name_is_label else dns1123_subdomain_errors
        errors += [FieldError.invalid("metadata.name", name, msg) for msg in check(name)]
    for key, value in (meta.get("labels") or {}).items():
        errors += [
            FieldError.invalid("metadata.labels", key, m) for m in qualified_name_errors(key)
        ]
        errors += [
            FieldError.invalid("metadata.labels", value, m) for m in label_value_errors(value)
        ]
    for key in meta.get("annotations") or {}:
        errors += [
            FieldError.invalid("metadata.annotations", key, m)
            for m in qualified_name_errors(key.lower())
        ]
    return errors


def _go_json_error(raw: bytes) -> str | None:
    """What Go's json.Unmarshal into map[string]interface{} says about raw, if it fails."""
    text = raw.decode("utf-8", errors="replace")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):
            return "unexpected end of JSON input"
        ch = text[exc.pos]
        if exc.msg.startswith("Expecting property name"):
            return f"invalid character '{ch}' looking for beginning of object key string"
        if exc.msg.startswith("Expecting ':'"):
            return f"invalid character '{ch}' after object key"
        if exc.msg.startswith("Extra data"):
            return f"invalid character '{ch}' after top-level value"
        if exc.msg.startswith("Expecting ','"):
            return f"invalid character '{ch}' after object key:value pair"
        return f"invalid character '{ch}' looking for beginning of value"
    if value is None or isinstance(value, dict):
        return None  # Go decodes `null` into a nil map without complaint.
    return (
        f"json: cannot unmarshal {_go_type(value)} into Go value of type map[string]interface {{}}"
    )


def _validate_secret(obj: dict[str, Any], old: dict[str, Any] | None) -> list[FieldError]:
    errors: list[FieldError] = []
    data = obj.get("data") or {}
    total = 0
    decoded: dict[str, bytes] = {}
    for key, value in data.items():
        errors += [FieldError.invalid(f"data[{key}]", key, m) for m in config_key_errors(key)]
        decoded[key] = base64.b64decode(value)
        total += len(decoded[key])
    if total > MAX_SECRET_SIZE:
        errors.append(FieldError.too_long("data", MAX_SECRET_SIZE))
    secret_type = obj.get("type", "Opaque")
    docker_key = DOCKER_KEYS.get(secret_type)
    if docker_key:
        if docker_key not in decoded:
            errors.append(FieldError.required(f"data[{docker_key}]"))
        else:
            problem = _go_json_error(decoded[docker_key])
            if problem:
                errors.append(FieldError.invalid(f"data[{docker_key}]", REDACTED, problem))
    elif secret_type == "kubernetes.io/service-account-token":
        if not (obj["metadata"].get("annotations") or {}).get("kubernetes.io/service-account.name"):
            errors.append(
                FieldError.required("metadata.annotations[kubernetes.io/service-account.name]")
            )
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in decoded and "password" not in decoded:
            errors += [FieldError.required("data[username]"), FieldError.required("data[password]")]
    elif secret_type == "kubernetes.io/ssh-auth":
        if "ssh-privatekey" not in decoded:
            errors.append(FieldError.required("data[ssh-privatekey]"))
    elif secret_type == "kubernetes.io/tls":
        for key in ("tls.crt", "tls.key"):
            if key not in decoded:
                errors.append(FieldError.required(f"data[{key}]"))
    if old is not None:
        if secret_type != old.get("type", "Opaque"):
            errors.append(FieldError.invalid("type", secret_type, "field is immutable"))
        if old.get("immutable"):
            if not obj.get("immutable"):
                errors.append(
                    FieldError.forbidden("immutable", "field is immutable when `immutable` is set")
                )
            if (old.get("data") or {}) != data:
                errors.append(
                    FieldError.forbidden("data", "field is immutable when `immutable` is set")
                )
    return errors


def _validate_pod_spec(spec: dict[str, Any], path: str) -> list[FieldError]:
    containers = spec.get("containers")
    if not containers:
        return [FieldError.required(f"{path}.containers")]
    errors: list[FieldError] = []
    for i, container in enumerate(containers):
        if not isinstance(container, dict) or not container.get("name"):
            errors.append(FieldError.required(f"{path}.containers[{i}].name"))
        if not isinstance(container, dict) or not container.get("image"):
            errors.append(FieldError.required(f"{path}.containers[{i}].image"))
    return errors


def _validate_workload(obj: dict[str, Any]) -> list[FieldError]:
    spec = obj.get("spec") or {}
    errors: list[FieldError] = []
    selector = spec.get("selector")
    template_labels = _dig(spec, "template", "metadata").get("labels") or {}
    if not selector:
        errors.append(FieldError.required("spec.selector"))
    else:
        wanted = selector.get("matchLabels") or {}
        if any(template_labels.get(k) != v for k, v in wanted.items()):
            shown = ", ".join(f'"{k}":"{v}"' for k, v in sorted(template_labels.items()))
            errors.append(
                FieldError(
                    "FieldValueInvalid",
                    "spec.template.metadata.labels",
                    "`selector` does not match template `labels`",
                    GoLiteral(f"map[string]string{{{shown}}}"),
                )
            )
    errors += _validate_pod_spec(_dig(spec, "template", "spec"), "spec.template.spec")
    return errors
