"""Name, label key and label value checks with apimachinery's exact error strings."""

from __future__ import annotations

import re

from .errors import RFC1123_LABEL_MSG, RFC1123_SUBDOMAIN_MSG

_LABEL_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_SUBDOMAIN_RE = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_QNAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QNAME_RE = re.compile(_QNAME_FMT)
_LABEL_VALUE_FMT = f"({_QNAME_FMT})?"
_LABEL_VALUE_RE = re.compile(_LABEL_VALUE_FMT)
_CONFIG_KEY_RE = re.compile(r"[-._a-zA-Z0-9]+")


def regex_error(msg: str, fmt: str, *examples: str) -> str:
    """Go's validation.RegexError, including its odd `'a',  or 'b', ` joining."""
    if not examples:
        return f"{msg} (regex used for validation is '{fmt}')"
    parts = " or ".join(f"'{e}', " for e in examples)
    return f"{msg} (e.g. {parts}regex used for validation is '{fmt}')"


def max_len_error(n: int) -> str:
    """Go's validation.MaxLenError."""
    return f"must be no more than {n} characters"


def dns1123_label_errors(value: str) -> list[str]:
    """IsDNS1123Label."""
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_RE.fullmatch(value):
        errs.append(RFC1123_LABEL_MSG)
    return errs


def dns1123_subdomain_errors(value: str) -> list[str]:
    """IsDNS1123Subdomain."""
    errs = []
    if len(value) > 253:
        errs.append(max_len_error(253))
    if not _SUBDOMAIN_RE.fullmatch(value):
        errs.append(RFC1123_SUBDOMAIN_MSG)
    return errs


def qualified_name_errors(value: str) -> list[str]:
    """IsQualifiedName: label and annotation keys like `example.com/MyName`."""
    qname_msg = regex_error(
        "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
        "an alphanumeric character",
        _QNAME_FMT,
        "MyName",
        "my.name",
        "123-abc",
    )
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            errs.extend("prefix part " + m for m in dns1123_subdomain_errors(prefix))
    else:
        return [
            "a qualified name "
            + qname_msg
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part " + max_len_error(63))
    if not _QNAME_RE.fullmatch(name):
        errs.append("name part " + qname_msg)
    return errs


def label_value_errors(value: str) -> list[str]:
    """IsValidLabelValue."""
    errs = []
    if len(value) > 63:
        errs.append(max_len_error(63))
    if not _LABEL_VALUE_RE.fullmatch(value):
        errs.append(
            regex_error(
                "a valid label must be an empty string or consist of alphanumeric characters, "
                "'-', '_' or '.', and must start and end with an alphanumeric character",
                _LABEL_VALUE_FMT,
                "MyValue",
                "my_value",
                "12345",
            )
        )
    return errs


def config_key_errors(key: str) -> list[str]:
    """IsConfigMapKey, used for Secret data keys."""
    errs = []
    if len(key) > 253:
        errs.append(max_len_error(253))
    if not _CONFIG_KEY_RE.fullmatch(key):
        errs.append(
            regex_error(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                "[-._a-zA-Z0-9]+",
                "key.name",
                "KEY_NAME",
                "key-name",
            )
        )
    if key in (".", ".."):
        errs.append(f"must not be '{key}'")
    elif key.startswith(".."):
        errs.append("must not start with '..'")
    return errs
