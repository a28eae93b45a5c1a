"""Status errors shaped like kube-apiserver's `k8s.io/apimachinery/pkg/api/errors`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

RFC1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
# The double space after "'my-name'," is real: Go's RegexError joins examples as "'a',  or 'b', ".
RFC1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)
EXPIRED_CONTINUE_MSG = (
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list."
)
UNSUPPORTED_PATCH_MSG = (
    "the body of the request was in an unknown format - accepted media types include: "
    "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, "
    "application/strategic-merge-patch+json"
)


class GoLiteral(str):
    """A value already formatted the Go way (printed unquoted in field errors)."""


def go_quote(value: Any) -> str:
    """Render a value the way Go's field.Error prints it (strings quoted, others as JSON)."""
    if isinstance(value, GoLiteral):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[]string{" + ", ".join(json.dumps(v) for v in value) + "}"
    return str(value)


@dataclass(frozen=True)
class FieldError:
    """One validation failure, like apimachinery's field.Error."""

    reason: str  # FieldValueInvalid, FieldValueRequired, FieldValueForbidden, ...
    field: str
    detail: str = ""
    value: Any = None

    @classmethod
    def invalid(cls, path: str, value: Any, detail: str) -> FieldError:
        """An `Invalid value` error."""
        return cls("FieldValueInvalid", path, detail, value)

    @classmethod
    def required(cls, path: str, detail: str = "") -> FieldError:
        """A `Required value` error."""
        return cls("FieldValueRequired", path, detail)

    @classmethod
    def forbidden(cls, path: str, detail: str) -> FieldError:
        """A `Forbidden` error."""
        return cls("FieldValueForbidden", path, detail)

    @classmethod
    def too_long(cls, path: str, max_len: int) -> FieldError:
        """A `Too long` error (the value itself is never printed)."""
        return cls("FieldValueTooLong", path, f"may not be more than {max_len} bytes")

    def body(self) -> str:
        """The message without the field path, as in StatusCause.message."""
        if self.reason == "FieldValueInvalid":
            text = f"Invalid value: {go_quote(self.value)}"
        else:
            text = {
                "FieldValueRequired": "Required value",
                "FieldValueForbidden": "Forbidden",
                "FieldValueTooLong": "Too long",
            }.get(self.reason, self.reason)
        return f"{text}: {self.detail}" if self.detail else text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"


@dataclass
class ApiError(Exception):
    """A failed API call, rendered as a `Status` body with an HTTP code."""

    code: int
    reason: str
    message: str
    details: dict[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def status(self) -> dict[str, Any]:
        """The Status object the real server would send."""
        body: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": dict(self.metadata),
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details is not None:
            body["details"] = self.details
        body["code"] = self.code
        return body

    def __str__(self) -> str:
        return f"({self.code} {self.reason}) {self.message}"


def _details(resource: str, name: str | None, group: str = "") -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    details["kind"] = resource
    return details


def qualified(resource: str, group: str = "") -> str:
    """`secrets` for the core group, `deployments.apps` for others (GroupResource.String())."""
    return f"{resource}.{group}" if group else resource


def not_found(resource: str, name: str, group: str = "") -> ApiError:
    """404 for a missing object."""
    return ApiError(
        404,
        "NotFound",
        f'{qualified(resource, group)} "{name}" not found',
        _details(resource, name, group),
    )


def page_not_found() -> ApiError:
    """404 for a path the server does not serve."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(resource: str, name: str, group: str = "") -> ApiError:
    """409 AlreadyExists on create."""
    return ApiError(
        409,
        "AlreadyExists",
        f'{qualified(resource, group)} "{name}" already exists',
        _details(resource, name, group),
    )


def conflict(resource: str, name: str, group: str = "") -> ApiError:
    """409 Conflict for a stale resourceVersion."""
    message = (
        f'Operation cannot be fulfilled on {qualified(resource, group)} "{name}": the object has '
        "been modified; please apply your changes to the latest version and try again"
    )
    return ApiError(409, "Conflict", message, _details(resource, name, group))


def invalid(kind: str, name: str, errors: list[FieldError], group: str = "") -> ApiError:
    """422 Invalid with one cause per field error, message like errors.NewInvalid."""
    texts = [str(e) for e in errors]
    joined = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = [
        {"reason": e.reason, "message": e.body(), "field": e.field} for e in errors
    ]
    # GroupKind.String(): "Secret" for core, "Deployment.apps" otherwise.
    subject = f"{kind}.{group}" if group else kind
    return ApiError(422, "Invalid", f'{subject} "{name}" is invalid: {joined}', details)


def bad_request(message: str) -> ApiError:
    """400 BadRequest without details, like errors.NewBadRequest."""
    return ApiError(400, "BadRequest", message)


def unauthorized() -> ApiError:
    """401 with the exact body an apiserver with anonymous auth off sends."""
    return ApiError(401, "Unauthorized", "Unauthorized")


def forbidden(
    resource: str, name: str | None, group: str, user: str, verb: str, namespace: str | None
) -> ApiError:
    """403 with the wording of apiserver's responsewriters.ForbiddenStatusError."""
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    reason = f'User "{user}" cannot {verb} resource "{resource}" in API group "{group}" {scope}'
    subject = qualified(resource, group)
    prefix = f'{subject} "{name}" is forbidden' if name else f"{subject} is forbidden"
    return ApiError(403, "Forbidden", f"{prefix}: {reason}", _details(resource, name, group))


def expired(message: str = EXPIRED_CONTINUE_MSG) -> ApiError:
    """410 Expired (continue token or watch resourceVersion too old)."""
    return ApiError(410, "Expired", message)


def method_not_allowed() -> ApiError:
    """405 for a verb the resource path does not accept."""
    return ApiError(
        405,
        "MethodNotAllowed",
        "the server does not allow this method on the requested resource",
        {},
    )


def unsupported_media_type(message: str = UNSUPPORTED_PATCH_MSG) -> ApiError:
    """415 for a body in a format the endpoint does not take."""
    return ApiError(415, "UnsupportedMediaType", message, {})


def json_patch_failed() -> ApiError:
    """422 for a JSON patch that does not apply.

    The real server builds this with NewGenericServerResponse(422, ..., isUnexpected=false),
    which drops the json-patch error text, so clients only see the generic sentence.
    """
    return ApiError(
        422, "Invalid", "the server rejected our request due to an error in our request", {}
    )


def internal_error(message: str) -> ApiError:
    """500 InternalError like errors.NewInternalError."""
    return ApiError(
        500,
        "InternalError",
        f"Internal error occurred: {message}",
        {"causes": [{"message": message}]},
    )


def too_many_requests(retry_after: int = 1) -> ApiError:
    """429 as sent by API Priority and Fairness, with Retry-After."""
    return ApiError(
        429,
        "TooManyRequests",
        "Too many requests, please try again later.",
        {"retryAfterSeconds": retry_after},
        headers={"Retry-After": str(retry_after)},
    )


def service_unavailable(message: str) -> ApiError:
    """503 ServiceUnavailable."""
    return ApiError(503, "ServiceUnavailable", message, {})


def for_code(code: int, message: str, retry_after: int = 1) -> ApiError:
    """A plausible Status error for an arbitrary injected HTTP code."""
    if code == 429:
        return too_many_requests(retry_after)
    if code == 500:
        return internal_error(message)
    if code == 503:
        return service_unavailable(message)
    if code == 504:
        return ApiError(504, "Timeout", f"Timeout: {message}", {})
    reasons = {
        400: "BadRequest",
        401: "Unauthorized",
        403: "Forbidden",
        404: "NotFound",
        409: "Conflict",
        410: "Expired",
        422: "Invalid",
    }
    return ApiError(code, reasons.get(code, "InternalError" if code >= 500 else ""), message)


def json_bytes(body: Any) -> bytes:
    """Compact JSON, as the apiserver writes it."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
