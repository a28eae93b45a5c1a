"""labelSelector and fieldSelector: the grammar, matching and the 400s for bad input."""

from __future__ import annotations

import pytest
from kubernetes import client

from .clients import status_of
from .errors import ApiError
from .selectors import parse_field_selector, parse_label_selector
from .server import KubeApiServer

LABELS = {
    "a": {"team": "a", "tier": "web"},
    "b": {"team": "b", "tier": "db"},
    "c": {"team": "c"},
    "d": {},
}


@pytest.fixture
def labelled(kubeapi: KubeApiServer) -> KubeApiServer:
    """Four secrets in `default` with different labels."""
    for name, labels in LABELS.items():
        kubeapi.put_object("secrets", {"metadata": {"name": name, "labels": labels}}, "default")
    return kubeapi


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("team=a", ["a"]),
        ("team==a", ["a"]),
        ("team!=a", ["b", "c", "d"]),  # != also matches objects without the key
        ("team in (a,b)", ["a", "b"]),
        ("team notin (a,b)", ["c", "d"]),
        ("tier", ["a", "b"]),
        ("!tier", ["c", "d"]),
        ("team,!tier", ["c"]),
        ("team in (a, c),tier=web", ["a"]),
        ("", ["a", "b", "c", "d"]),
    ],
)
def test_label_selectors_select_like_the_apiserver(
    labelled: KubeApiServer, core: client.CoreV1Api, selector: str, expected: list[str]
) -> None:
    names = [
        s.metadata.name
        for s in core.list_namespaced_secret("default", label_selector=selector).items
    ]

    assert names == expected


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("team in a", "unable to parse requirement: found 'a' expected: '('"),
        (
            "team b",
            "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt",
        ),
        ("team=a,", "found '', expected: identifier after ','"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        ("team in (a", "unable to parse requirement: found '', expected: ',' or ')'"),
    ],
)
def test_a_bad_label_selector_gives_400_with_the_parser_message(
    core: client.CoreV1Api, selector: str, message: str
) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.list_namespaced_secret("default", label_selector=selector)

    assert excinfo.value.status == 400
    assert status_of(excinfo.value)["reason"] == "BadRequest"
    assert status_of(excinfo.value)["message"] == message


def test_a_label_value_that_is_not_a_valid_label_is_rejected() -> None:
    with pytest.raises(ApiError) as excinfo:
        parse_label_selector("team=a@b")

    assert excinfo.value.message.startswith(
        'unable to parse requirement: values[0][team]: Invalid value: "a@b": a valid label must'
    )


def test_integer_comparisons_are_parsed() -> None:
    selector = parse_label_selector("size>3")

    assert selector.matches({"size": "4"})
    assert not selector.matches({"size": "3"})
    assert not selector.matches({})


def test_field_selectors_filter_secrets_by_type(
    labelled: KubeApiServer, core: client.CoreV1Api
) -> None:
    labelled.put_object(
        "secrets",
        {
            "metadata": {"name": "regcred"},
            "type": "kubernetes.io/dockerconfigjson",
            "stringData": {".dockerconfigjson": "{}"},
        },
        "kube-system",
    )

    picked = core.list_secret_for_all_namespaces(
        field_selector="type=kubernetes.io/dockerconfigjson"
    ).items
    others = core.list_secret_for_all_namespaces(
        field_selector="type!=kubernetes.io/dockerconfigjson"
    ).items
    by_name = core.list_secret_for_all_namespaces(
        field_selector="metadata.namespace==default,metadata.name=b"
    ).items

    assert [s.metadata.name for s in picked] == ["regcred"]
    assert len(others) == 4
    assert [s.metadata.name for s in by_name] == ["b"]


def test_namespaces_can_be_selected_by_phase(core: client.CoreV1Api) -> None:
    assert len(core.list_namespace(field_selector="status.phase=Active").items) == 4
    assert core.list_namespace(field_selector="status.phase=Terminating").items == []


def test_an_unsupported_field_gives_400(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.list_secret_for_all_namespaces(field_selector="foo=bar")

    assert excinfo.value.status == 400
    assert status_of(excinfo.value)["message"] == "field label not supported: foo"


def test_the_type_field_is_only_supported_for_secrets() -> None:
    with pytest.raises(ApiError, match="field label not supported: type"):
        parse_field_selector("type=x", ("metadata.name", "metadata.namespace"))


def test_a_field_selector_without_an_operator_gives_400() -> None:
    with pytest.raises(ApiError) as excinfo:
        parse_field_selector("metadata.name", ("metadata.name",))

    assert excinfo.value.code == 400
    assert (
        excinfo.value.message
        == "invalid selector: 'metadata.name'; can't understand 'metadata.name'"
    )
