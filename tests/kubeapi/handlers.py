"""Turn one HTTP request into one API response: routing, authn/authz, verbs and watch."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from . import errors, kinds, protobuf
from .auth import Authenticator, Principal
from .certs import subject_of
from .cluster import Cluster, ListQuery
from .errors import ApiError
from .kinds import Kind
from .selectors import Matcher, matcher, parse_field_selector, parse_label_selector
from .store import Event, check_watch_rv
from .tables import to_table, wants_table

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_BODY_TYPES = "application/json, application/yaml, application/vnd.kubernetes.protobuf"
_NON_RESOURCE_OK = {"/version", "/api", "/apis", "/healthz", "/livez", "/readyz"}


@dataclass
class Request:
    """What the transport hands over: the raw HTTP request and the TLS peer certificate."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes = b""
    peer_cert: bytes | None = None


@dataclass
class RequestInfo:
    """What the request addresses, like apiserver's RequestInfo."""

    verb: str
    is_resource: bool = False
    group: str = ""
    version: str = ""
    resource: str | None = None
    subresource: str | None = None
    namespace: str | None = None
    name: str | None = None


@dataclass
class Response:
    """A JSON response, or a stream of watch lines when `stream` is set."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    stream: Iterator[bytes] | None = None
    content_type: str = "application/json"
    user: str | None = None


_COLLECTION_VERBS = {"list", "watch", "create", "deletecollection"}


@dataclass
class _Call:
    """One resource request after routing and authorisation."""

    req: Request
    info: RequestInfo
    kind: Kind
    namespace: str | None

    @property
    def name(self) -> str:
        """The object name from the URL ("" for collections)."""
        return self.info.name or ""

    @property
    def manager(self) -> str:
        """The field manager for writes."""
        return field_manager(self.req.query, self.req.headers.get("User-Agent"))

    @property
    def dry_run(self) -> bool:
        """?dryRun=All; anything else is a 400 like the real server."""
        value = self.req.query.get("dryRun")
        if not value:
            return False
        if value != "All":
            raise errors.bad_request(
                f'dryRun: Unsupported value: "{value}": supported values: "All"'
            )
        return True


def parse_bool(value: str | None) -> bool:
    """strconv.ParseBool as the query parameter decoder uses it."""
    if value is None or value == "":
        return False
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise errors.bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax')


def request_info(method: str, path: str, query: Mapping[str, str]) -> RequestInfo:
    """Split an API path into group/version/namespace/resource/name and pick the verb."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"] and len(parts) >= 2:
        group, version, rest = "", parts[1], parts[2:]
    elif parts[:1] == ["apis"] and len(parts) >= 3:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return RequestInfo(verb=method.lower())
    if not rest:
        return RequestInfo(verb=method.lower(), group=group, version=version)
    watch_prefix = rest[0] == "watch"
    if watch_prefix:
        rest = rest[1:]
    info = RequestInfo(verb="", is_resource=True, group=group, version=version)
    if rest and rest[0] == "namespaces" and len(rest) > 1:
        info.namespace = rest[1]
        # namespaces/<ns>/<resource>... unless the third part is a namespace subresource.
        if len(rest) > 2 and rest[2] not in ("status", "finalize"):
            rest = rest[2:]
    if not rest:
        return RequestInfo(verb=method.lower())
    info.resource = rest[0]
    if len(rest) > 1:
        info.name = rest[1]
    if len(rest) > 2:
        info.subresource = "/".join(rest[2:])
    collection = info.name is None
    watch = watch_prefix or parse_bool(query.get("watch"))
    info.verb = {
        "GET": "watch" if watch and collection else ("list" if collection else "get"),
        "HEAD": "list" if collection else "get",
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "deletecollection" if collection else "delete",
    }.get(method, method.lower())
    return info


def field_manager(query: Mapping[str, str], user_agent: str | None) -> str:
    """?fieldManager=, else the User-Agent up to its first '/', at most 128 characters."""
    manager = query.get("fieldManager")
    if manager:
        return manager
    return (user_agent or "").split("/", 1)[0][:128]


class ApiHandler:
    """Stateless glue between the transport and the cluster."""

    def __init__(
        self,
        cluster: Cluster,
        authenticator: Authenticator,
        server_address: Callable[[], str],
        stopping: threading.Event,
        bookmark_interval: Callable[[], float],
    ) -> None:
        self.cluster = cluster
        self.store = cluster.store
        self.auth = authenticator
        self._server_address = server_address
        self._stopping = stopping
        self._bookmark_interval = bookmark_interval

    # -- entry point -----------------------------------------------------------------------
    def handle(self, req: Request, info: RequestInfo) -> Response:
        """Answer one request; ApiErrors become Status responses."""
        principal: Principal | None = None
        try:
            principal = self._authenticate(req)
            if not info.is_resource:
                response = self._non_resource(req)
            else:
                response = self._resource(req, info, principal)
        except ApiError as exc:
            response = Response(exc.code, exc.status(), dict(exc.headers))
        response.user = principal.user if principal else None
        return response

    def _authenticate(self, req: Request) -> Principal:
        header = req.headers.get("Authorization") or ""
        if header.lower().startswith("bearer "):
            principal = self.auth.from_token(header[7:].strip())
            if principal is None:
                raise errors.unauthorized()
            return principal
        if req.peer_cert:
            return self.auth.from_certificate(*subject_of(req.peer_cert))
        raise errors.unauthorized()

    # -- discovery -------------------------------------------------------------------------
    def _non_resource(self, req: Request) -> Response:
        path = "/" + "/".join(p for p in req.path.split("/") if p)
        if req.method not in ("GET", "HEAD"):
            raise errors.method_not_allowed()
        if path in ("/healthz", "/livez", "/readyz"):
            return Response(200, b"ok", content_type="text/plain; charset=utf-8")
        body: Any = None
        if path == "/version":
            body = kinds.version_info()
        elif path == "/api":
            body = kinds.api_versions(self._server_address())
        elif path == "/apis":
            body = kinds.api_group_list()
        elif path == "/api/v1":
            body = kinds.resource_list("", "v1")
        elif path.startswith("/apis/"):
            parts = path.split("/")[2:]
            if len(parts) == 1:
                body = kinds.api_group(parts[0])
            elif len(parts) == 2:
                body = kinds.resource_list(parts[0], parts[1])
        if body is None:
            # /openapi/v2 and /openapi/v3 land here too: kubectl only needs them for
            # client-side validation of `create -f`/`apply`, which tests turn off.
            raise errors.page_not_found()
        return Response(200, body)

    # -- resources -------------------------------------------------------------------------
    def _resource(self, req: Request, info: RequestInfo, principal: Principal) -> Response:
        resource = info.resource or ""
        if (info.group, info.version, resource, info.name) == (
            "authorization.k8s.io",
            "v1",
            kinds.SSAR_RESOURCE,
            None,
        ):
            if req.method != "POST":
                raise errors.method_not_allowed()
            return self._self_subject_access_review(req, principal)
        kind = kinds.find_kind(info.group, info.version, resource)
        if kind is None or info.subresource is not None:
            raise errors.page_not_found()
        if not kind.namespaced and info.namespace is not None and resource != "namespaces":
            raise errors.page_not_found()
        # For namespaces/<name>, RBAC sees the name as the request's namespace.
        if not principal.can(info.verb, resource, kind.group, info.namespace):
            raise errors.forbidden(
                resource, info.name, kind.group, principal.user, info.verb, info.namespace
            )
        serve = self._VERBS.get(info.verb)
        collection = info.name is None
        if serve is None or collection != (info.verb in _COLLECTION_VERBS):
            raise errors.method_not_allowed()
        return serve(self, _Call(req, info, kind, info.namespace if kind.namespaced else None))

    def _get(self, call: _Call) -> Response:
        obj = self.cluster.get(call.kind, call.namespace, call.name)
        if wants_table(call.req.headers.get("Accept")):
            meta = {"resourceVersion": obj["metadata"]["resourceVersion"]}
            return Response(200, to_table(call.kind.resource, [obj], meta))
        return Response(200, obj)

    def _list(self, call: _Call) -> Response:
        listed = self.cluster.list(call.kind, call.namespace, self._list_query(call.req.query))
        if wants_table(call.req.headers.get("Accept")):
            table = to_table(call.kind.resource, listed["items"], listed["metadata"])
            return Response(200, table)
        return Response(200, listed)

    def _create(self, call: _Call) -> Response:
        if call.kind.namespaced and call.namespace is None:
            raise errors.method_not_allowed()
        body = self._decode_body(call.req, call.kind)
        created = self.cluster.create(
            call.kind, call.namespace, body, call.manager, dry_run=call.dry_run
        )
        return Response(201, created)

    def _update(self, call: _Call) -> Response:
        body = self._decode_body(call.req, call.kind)
        updated = self.cluster.update(
            call.kind, call.namespace, call.name, body, call.manager, dry_run=call.dry_run
        )
        return Response(200, updated)

    def _patch(self, call: _Call) -> Response:
        content_type = (call.req.headers.get("Content-Type") or "").split(";")[0].strip()
        patched = self.cluster.patch(
            call.kind,
            call.namespace,
            call.name,
            content_type,
            call.req.body,
            call.manager,
            dry_run=call.dry_run,
        )
        return Response(200, patched)

    def _delete(self, call: _Call) -> Response:
        options = self._delete_options(call.req)
        deleted = self.cluster.delete(
            call.kind, call.namespace, call.name, options, dry_run=call.dry_run
        )
        return Response(200, deleted)

    def _delete_collection(self, call: _Call) -> Response:
        if call.kind.resource == "namespaces":
            raise errors.method_not_allowed()
        query = self._list_query(call.req.query)
        return Response(200, self.cluster.delete_collection(call.kind, call.namespace, query))

    def _watch_verb(self, call: _Call) -> Response:
        table = wants_table(call.req.headers.get("Accept"))
        return self._watch(call.kind, call.namespace, call.req.query, table)

    _VERBS: dict[str, Callable[[ApiHandler, _Call], Response]] = {
        "get": _get,
        "list": _list,
        "watch": _watch_verb,
        "create": _create,
        "update": _update,
        "patch": _patch,
        "delete": _delete,
        "deletecollection": _delete_collection,
    }

    @staticmethod
    def _list_query(query: Mapping[str, str]) -> ListQuery:
        limit_text = query.get("limit") or "0"
        try:
            limit = int(limit_text)
        except ValueError:
            raise errors.bad_request(
                f'strconv.ParseInt: parsing "{limit_text}": invalid syntax'
            ) from None
        return ListQuery(
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
            limit=limit,
            continue_token=query.get("continue", ""),
            resource_version=query.get("resourceVersion", ""),
        )

    @staticmethod
    def _decode_body(req: Request, kind: Kind | None) -> Any:
        """Decode a POST/PUT body; no Content-Type means JSON (the Python client sends none)."""
        content_type = (req.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        type_name = kind.kind if kind else "SelfSubjectAccessReview"
        try:
            if content_type in ("application/json", "*/*", ""):
                return json.loads(req.body or b"null")
            if content_type in ("application/yaml", "application/x-yaml"):
                return yaml.safe_load(req.body or b"")
            if content_type == protobuf.PROTOBUF:
                return protobuf.decode(req.body)
        except protobuf.ProtobufError as exc:
            raise errors.unsupported_media_type(str(exc)) from None
        except (ValueError, yaml.YAMLError) as exc:
            raise errors.bad_request(
                f"the object provided is unrecognized (must be of type {type_name}): couldn't get "
                f"version/kind; json parse error: {exc}"
            ) from None
        raise errors.unsupported_media_type(
            "the body of the request was in an unknown format - accepted media types include: "
            + _BODY_TYPES
        )

    def _delete_options(self, req: Request) -> dict[str, Any] | None:
        if not req.body:
            return None
        try:
            options = json.loads(req.body)
        except ValueError as exc:
            raise errors.bad_request(f"couldn't decode DeleteOptions: {exc}") from None
        return options if isinstance(options, dict) else None

    # -- SelfSubjectAccessReview -----------------------------------------------------------
    def _self_subject_access_review(self, req: Request, principal: Principal) -> Response:
        body = self._decode_body(req, None)
        spec = (body or {}).get("spec") or {}
        attrs = spec.get("resourceAttributes")
        non_resource = spec.get("nonResourceAttributes")
        if bool(attrs) == bool(non_resource):
            raise errors.invalid(
                "SelfSubjectAccessReview",
                "",
                [
                    errors.FieldError.invalid(
                        "spec.resourceAttributes",
                        "null",
                        "exactly one of nonResourceAttributes or resourceAttributes must be "
                        "specified",
                    )
                ],
                "authorization.k8s.io",
            )
        if attrs:
            allowed = principal.can(
                attrs.get("verb", ""),
                attrs.get("resource", ""),
                attrs.get("group", ""),
                attrs.get("namespace") or None,
            )
        else:
            full = principal.rules.verbs is None and principal.rules.namespaces is None
            allowed = full or non_resource.get("path") in _NON_RESOURCE_OK
        status: dict[str, Any] = {"allowed": allowed}
        if allowed:
            status["reason"] = f'allowed by the fake apiserver\'s rules for "{principal.user}"'
        review = {
            "kind": "SelfSubjectAccessReview",
            "apiVersion": "authorization.k8s.io/v1",
            "metadata": {"creationTimestamp": None},
            "spec": spec,
            "status": status,
        }
        return Response(201, review)

    # -- watch -----------------------------------------------------------------------------
    def _watch(
        self, kind: Kind, namespace: str | None, query: Mapping[str, str], table: bool
    ) -> Response:
        labels = parse_label_selector(query.get("labelSelector"))
        fields = parse_field_selector(query.get("fieldSelector"), kind.field_labels)
        match = matcher(kind.resource, labels, fields, kind.field_labels)
        bookmarks = parse_bool(query.get("allowWatchBookmarks"))
        timeout_text = query.get("timeoutSeconds")
        try:
            timeout = float(timeout_text) if timeout_text else None
        except ValueError:
            raise errors.bad_request(
                f'strconv.ParseInt: parsing "{timeout_text}": invalid syntax'
            ) from None
        rv_text = query.get("resourceVersion", "")
        send_initial = query.get("sendInitialEvents")
        initial = rv_text in ("", "0") if send_initial is None else parse_bool(send_initial)
        with self.store.lock:
            epoch = self.store.epoch
            if rv_text in ("", "0"):
                start_rv = self.store.resource_version
            else:
                try:
                    start_rv = int(rv_text)
                except ValueError:
                    raise errors.bad_request(
                        f'resourceVersion: Invalid value: "{rv_text}": must be a valid integer'
                    ) from None
            snapshot = []
            if initial:
                scope = namespace if kind.namespaced else None
                snapshot = [o for o in self.store.iter_objects(kind.resource, scope) if match(o)]
            expired = None if rv_text in ("", "0") else check_watch_rv(self.store, start_rv)
        stream = _WatchStream(
            self,
            kind,
            namespace,
            match,
            start_rv,
            epoch,
            snapshot,
            expired,
            bookmarks,
            timeout,
            table,
            initial_end_bookmark=bool(send_initial) and initial and bookmarks,
        )
        return Response(200, stream=iter(stream))


class _WatchStream:
    """The newline-delimited JSON events of one watch request."""

    def __init__(
        self,
        handler: ApiHandler,
        kind: Kind,
        namespace: str | None,
        match: Matcher,
        start_rv: int,
        epoch: int,
        snapshot: list[dict[str, Any]],
        expired: ApiError | None,
        bookmarks: bool,
        timeout: float | None,
        table: bool,
        initial_end_bookmark: bool,
    ) -> None:
        self.handler = handler
        self.store = handler.store
        self.kind = kind
        self.namespace = namespace
        self.match = match
        self.last_rv = start_rv
        self.epoch = epoch
        self.snapshot = snapshot
        self.expired = expired
        self.bookmarks = bookmarks
        self.deadline = time.monotonic() + timeout if timeout else None
        self.table = table
        self.initial_end_bookmark = initial_end_bookmark
        self._headers_sent = False

    def _line(self, event_type: str, obj: dict[str, Any]) -> bytes:
        if self.table and event_type in ("ADDED", "MODIFIED", "DELETED"):
            meta = {"resourceVersion": obj["metadata"].get("resourceVersion", "")}
            # Only the first event carries column definitions, as on the real server.
            obj = to_table(self.kind.resource, [obj], meta, headers=not self._headers_sent)
            self._headers_sent = True
        return (
            json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"
        )

    def _bookmark(self, annotations: dict[str, str] | None = None) -> bytes:
        meta: dict[str, Any] = {"resourceVersion": str(self.last_rv), "creationTimestamp": None}
        if annotations:
            meta["annotations"] = annotations
        obj = {"kind": self.kind.kind, "apiVersion": self.kind.api_version, "metadata": meta}
        return (
            json.dumps({"type": "BOOKMARK", "object": obj}, separators=(",", ":")).encode() + b"\n"
        )

    def _translate(self, event: Event) -> tuple[str, dict[str, Any]] | None:
        """Map a store event to what this watcher sees, honouring selector transitions."""
        if event.resource != self.kind.resource:
            return None
        if (
            self.namespace is not None
            and self.kind.namespaced
            and event.namespace != self.namespace
        ):
            return None
        if event.type == "ADDED":
            return ("ADDED", event.obj) if self.match(event.obj) else None
        if event.type == "DELETED":
            return ("DELETED", event.obj) if self.match(event.previous or event.obj) else None
        now, before = self.match(event.obj), self.match(event.previous or {})
        if now and before:
            return "MODIFIED", event.obj
        if now:
            return "ADDED", event.obj
        if before:
            return "DELETED", event.obj
        return None

    def __iter__(self) -> Iterator[bytes]:
        if self.expired is not None:
            yield self._line("ERROR", self.expired.status())
            return
        for obj in self.snapshot:
            yield self._line("ADDED", obj)
        self.snapshot = []
        if self.initial_end_bookmark:
            yield self._bookmark({"k8s.io/initial-events-end": "true"})
        interval = self.handler._bookmark_interval()
        next_bookmark = time.monotonic() + interval
        while True:
            error: ApiError | None = None
            with self.store.lock:
                if self.handler._stopping.is_set() or self.store.epoch != self.epoch:
                    return
                if self.last_rv < self.store.watch_floor:
                    # Events this watcher had not seen yet were compacted away.
                    floor = self.store.watch_floor
                    error = ApiError(
                        410, "Expired", f"too old resource version: {self.last_rv} ({floor})"
                    )
                    events = []
                else:
                    events = self.store.events_after(self.last_rv)
                if not events and error is None:
                    wait = 0.5
                    if self.deadline is not None:
                        wait = min(wait, max(self.deadline - time.monotonic(), 0))
                    if self.bookmarks:
                        wait = min(wait, max(next_bookmark - time.monotonic(), 0))
                    # Events are picked up on the next pass, after the compaction check.
                    self.store.changed.wait(wait)
            if error is not None:
                yield self._line("ERROR", error.status())
                return
            for event in events:
                seen = self._translate(event)
                self.last_rv = event.rv
                if seen is not None:
                    yield self._line(*seen)
            now = time.monotonic()
            if self.bookmarks and now >= next_bookmark:
                yield self._bookmark()
                next_bookmark = now + self.handler._bookmark_interval()
            if self.deadline is not None and now >= self.deadline:
                return
