"""labelSelector and fieldSelector parsing and matching, as strict as apimachinery's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .errors import FieldError, bad_request
from .names import label_value_errors, qualified_name_errors

# Token kinds, named after apimachinery's labels lexer.
ERROR, EOS, CLOSE, COMMA, NOT, DEQ, EQ, GT, IDENT, IN, LT, NEQ, NOTIN, OPEN = range(14)
_SYMBOLS = {
    ")": CLOSE,
    ",": COMMA,
    "!": NOT,
    "==": DEQ,
    "=": EQ,
    ">": GT,
    "in": IN,
    "<": LT,
    "!=": NEQ,
    "notin": NOTIN,
    "(": OPEN,
}
_SPECIAL = set("=!(),><")
_WHITESPACE = set(" \t\r\n")
_BINARY_OPERATORS = "in, notin, =, ==, !=, gt, lt"
_OPERATOR_NAMES = {IN: "in", NOTIN: "notin", EQ: "=", DEQ: "==", NEQ: "!=", GT: "gt", LT: "lt"}


class SelectorError(ValueError):
    """A selector that does not parse; the message is what the apiserver returns."""


@dataclass(frozen=True)
class Requirement:
    """One `key op values` term of a label selector."""

    key: str
    operator: str  # in, notin, =, ==, !=, gt, lt, exists, !
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        """Whether a label set satisfies this term (absent keys match != and notin)."""
        has = self.key in labels
        value = labels.get(self.key)
        if self.operator in ("in", "=", "=="):
            return has and value in self.values
        if self.operator in ("notin", "!="):
            return not has or value not in self.values
        if self.operator == "exists":
            return has
        if self.operator == "!":
            return not has
        if not has:
            return False
        try:
            have, want = int(str(value)), int(self.values[0])
        except ValueError:
            return False
        return have > want if self.operator == "gt" else have < want


def _lex(text: str) -> list[tuple[int, str]]:
    """Tokenise like labels.Lexer: special symbols greedily, everything else as words."""
    items: list[tuple[int, str]] = []
    pos, n = 0, len(text)
    while True:
        while pos < n and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= n:
            items.append((EOS, ""))
            return items
        if text[pos] in _SPECIAL:
            buffer, last = "", None
            while pos < n and text[pos] in _SPECIAL:
                candidate = buffer + text[pos]
                if candidate in _SYMBOLS:
                    buffer, last = candidate, (_SYMBOLS[candidate], candidate)
                    pos += 1
                elif last is not None:
                    break
                else:
                    buffer = candidate
                    pos += 1
            if last is None:
                items.append((ERROR, f"error expected: keyword found '{buffer}'"))
            else:
                items.append(last)
            continue
        start = pos
        while pos < n and text[pos] not in _SPECIAL and text[pos] not in _WHITESPACE:
            pos += 1
        word = text[start:pos]
        items.append((_SYMBOLS.get(word, IDENT), word))


class _LabelParser:
    """A port of apimachinery's recursive-descent label selector parser."""

    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.position = 0

    def _peek(self, values: bool) -> tuple[int, str]:
        tok, lit = self.items[self.position]
        if values and tok in (IN, NOTIN):
            tok = IDENT
        return tok, lit

    def _next(self, values: bool) -> tuple[int, str]:
        item = self._peek(values)
        self.position += 1
        return item

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self._peek(True)
            if tok in (IDENT, NOT):
                try:
                    requirements.append(self._requirement())
                except SelectorError as exc:
                    raise SelectorError(f"unable to parse requirement: {exc}") from None
                tok, lit = self._next(True)
                if tok == EOS:
                    return requirements
                if tok != COMMA:
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
                tok2, lit2 = self._peek(True)
                if tok2 not in (IDENT, NOT):
                    raise SelectorError(f"found '{lit2}', expected: identifier after ','")
            elif tok == EOS:
                return requirements
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def _requirement(self) -> Requirement:
        operator = ""
        tok, lit = self._next(True)
        if tok == NOT:
            operator = "!"
            tok, lit = self._next(True)
        if tok != IDENT:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key = lit
        key_errors = qualified_name_errors(key)
        if key_errors:
            raise SelectorError(str(FieldError.invalid("<nil>", key, "; ".join(key_errors))))
        if self._peek(True)[0] in (EOS, COMMA):
            return Requirement(key, operator or "exists")
        if operator == "!":
            # `!key` followed by more tokens: the real parser builds the requirement and then
            # trips over the leftover token in the outer loop.
            return Requirement(key, "!")
        tok, lit = self._next(False)
        if tok not in _OPERATOR_NAMES:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPERATORS}")
        op = _OPERATOR_NAMES[tok]
        values = self._set_values() if op in ("in", "notin") else self._exact_value()
        return _new_requirement(key, op, sorted(values))

    def _set_values(self) -> set[str]:
        tok, lit = self._next(True)
        if tok != OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek(True)
        if tok in (IDENT, COMMA):
            values = self._identifier_list()
            if self._next(True)[0] != CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == CLOSE:
            self._next(True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def _identifier_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self._next(True)
            if tok == IDENT:
                values.add(lit)
                tok2, lit2 = self._peek(True)
                if tok2 == COMMA:
                    continue
                if tok2 == CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == COMMA:
                if not values:
                    values.add("")
                tok2, _ = self._peek(True)
                if tok2 == CLOSE:
                    values.add("")
                    return values
                if tok2 == COMMA:
                    self._next(True)
                    values.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> set[str]:
        tok, _ = self._peek(True)
        if tok in (EOS, COMMA):
            return {""}
        tok, lit = self._next(True)
        if tok == IDENT:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def _new_requirement(key: str, op: str, values: list[str]) -> Requirement:
    """NewRequirement's value checks, reported as an aggregate like the real one."""
    errors: list[str] = []
    if op in ("gt", "lt"):
        for i, v in enumerate(values):
            try:
                int(v)
            except ValueError:
                errors.append(
                    str(
                        FieldError.invalid(
                            f"values[{i}]",
                            v,
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        )
                    )
                )
    for i, v in enumerate(values):
        msgs = label_value_errors(v)
        if msgs:
            errors.append(str(FieldError.invalid(f"values[{i}][{key}]", v, "; ".join(msgs))))
    if errors:
        raise SelectorError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
    return Requirement(key, op, tuple(values))


@dataclass(frozen=True)
class LabelSelector:
    """A parsed labelSelector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: dict[str, str] | None) -> bool:
        """Whether every requirement holds for these labels."""
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse a labelSelector query value; raises ApiError 400 like the apiserver."""
    if not text:
        return LabelSelector()
    try:
        requirements = _LabelParser(text).parse()
    except SelectorError as exc:
        raise bad_request(str(exc)) from None
    return LabelSelector(tuple(sorted(requirements, key=lambda r: r.key)))


@dataclass(frozen=True)
class FieldRequirement:
    """One `field=value` or `field!=value` term."""

    field: str
    value: str
    negate: bool


def _split_terms(text: str) -> list[str]:
    terms, current, escaped = [], [], False
    for ch in text:
        if escaped:
            current.append(ch)
            escaped = False
        elif ch == "\\":
            current.append(ch)
            escaped = True
        elif ch == ",":
            terms.append("".join(current))
            current = []
        else:
            current.append(ch)
    terms.append("".join(current))
    return terms


def _unescape(value: str) -> str:
    out, escaped = [], False
    for ch in value:
        if escaped:
            if ch not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in ",=":
            raise SelectorError(f"invalid field selector: unescaped {ch}")
        else:
            out.append(ch)
    if escaped:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


@dataclass(frozen=True)
class FieldSelector:
    """A parsed fieldSelector, checked against the fields a kind supports."""

    requirements: tuple[FieldRequirement, ...] = ()

    def matches(self, fields: dict[str, str]) -> bool:
        """Whether the object's selectable fields satisfy every term."""
        for r in self.requirements:
            equal = fields.get(r.field, "") == r.value
            if equal == r.negate:
                return False
        return True

    @property
    def empty(self) -> bool:
        """True when the selector selects everything."""
        return not self.requirements


def parse_field_selector(text: str | None, supported: tuple[str, ...]) -> FieldSelector:
    """Parse a fieldSelector; unknown fields give `field label not supported: X` (400)."""
    if not text:
        return FieldSelector()
    requirements = []
    try:
        for term in sorted(_split_terms(text)):
            if not term:
                continue
            for i in range(len(term)):
                op = next((o for o in ("!=", "==", "=") if term.startswith(o, i)), None)
                if op:
                    lhs, rhs = term[:i], term[i + len(op) :]
                    break
            else:
                raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
            requirements.append(FieldRequirement(lhs, _unescape(rhs), op == "!="))
    except SelectorError as exc:
        raise bad_request(str(exc)) from None
    for r in requirements:
        if r.field not in supported:
            raise bad_request(f"field label not supported: {r.field}")
    return FieldSelector(tuple(requirements))


def _dig(obj: dict[str, Any], dotted: str) -> str:
    value: Any = obj
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return ""
        value = value.get(part)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def object_fields(resource: str, obj: dict[str, Any], supported: tuple[str, ...]) -> dict[str, str]:
    """The selectable field values of a stored object."""
    fields = {name: _dig(obj, name) for name in supported}
    if resource == "secrets":
        fields["type"] = obj.get("type") or "Opaque"
    return fields


Matcher = Callable[[dict[str, Any]], bool]


def matcher(
    resource: str, labels: LabelSelector, fields: FieldSelector, supported: tuple[str, ...]
) -> Matcher:
    """One predicate combining both selectors for a resource."""
    if labels.empty and fields.empty:
        return lambda obj: True

    def match(obj: dict[str, Any]) -> bool:
        if not labels.matches(obj.get("metadata", {}).get("labels")):
            return False
        return fields.empty or fields.matches(object_fields(resource, obj, supported))

    return match
