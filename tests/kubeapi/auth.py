"""Authentication (bearer tokens, x509 client certificates) and a tiny RBAC stand-in."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Rules:
    """What a principal may do; None means "any"."""

    verbs: frozenset[str] | None = None
    resources: frozenset[str] | None = None
    namespaces: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        verbs: Iterable[str] | None = None,
        resources: Iterable[str] | None = None,
        namespaces: Iterable[str] | None = None,
    ) -> Rules:
        """Build rules from any iterables (strings are taken as one item)."""

        def norm(value: Iterable[str] | None) -> frozenset[str] | None:
            if value is None:
                return None
            return frozenset([value] if isinstance(value, str) else value)

        return cls(norm(verbs), norm(resources), norm(namespaces))

    def allows(self, verb: str, resource: str, group: str, namespace: str | None) -> bool:
        """Whether a resource request is allowed.

        Like an RBAC RoleBinding, a namespace restriction grants nothing at the cluster scope.
        """
        if self.verbs is not None and verb not in self.verbs and "*" not in self.verbs:
            return False
        if self.resources is not None and not (
            {resource, f"{resource}.{group}" if group else resource, "*"} & self.resources
        ):
            return False
        if self.namespaces is not None:
            return namespace is not None and namespace in self.namespaces
        return True


NOTHING = Rules(frozenset(), frozenset(), frozenset())


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    user: str
    groups: tuple[str, ...] = ()
    rules: Rules = field(default_factory=Rules)

    def can(self, verb: str, resource: str, group: str, namespace: str | None) -> bool:
        """Authorisation for a resource request."""
        return self.rules.allows(verb, resource, group, namespace)


class Authenticator:
    """Maps bearer tokens and client certificates to principals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, Principal] = {}
        self._cert_rules: dict[int, Rules] = {}

    def add_token(self, token: str, principal: Principal) -> None:
        """Accept `token` for `principal` from now on."""
        with self._lock:
            self._tokens[token] = principal

    def remove_tokens_except(self, keep: str) -> None:
        """Forget every token but one (used by reset)."""
        with self._lock:
            self._tokens = {t: p for t, p in self._tokens.items() if t == keep}
            self._cert_rules.clear()

    def set_cert_rules(self, serial: int, rules: Rules) -> None:
        """Restrict what the certificate with this serial may do."""
        with self._lock:
            self._cert_rules[serial] = rules

    def from_token(self, token: str) -> Principal | None:
        """The principal for a bearer token, if known."""
        with self._lock:
            return self._tokens.get(token)

    def from_certificate(self, cn: str, orgs: tuple[str, ...], serial: int) -> Principal:
        """A verified client certificate: CN is the user, each O a group.

        Certificates we issued carry their own rules; any other cert signed by our CA gets
        full rights only in system:masters (as with RBAC's cluster-admin binding).
        """
        with self._lock:
            rules = self._cert_rules.get(serial)
        if rules is None:
            rules = Rules() if "system:masters" in orgs else NOTHING
        return Principal(cn, (*orgs, "system:authenticated"), rules)
