"""The protobuf envelope kubectl uses for `create secret` and `auth can-i`."""

from __future__ import annotations

import pytest

from .clients import raw_request
from .protobuf import PROTOBUF, ProtobufError, decode, encode_field, encode_for_tests
from .server import KubeApiServer


def _secret_message() -> bytes:
    meta = (
        encode_field(1, "regcred")
        + encode_field(3, "default")
        + encode_field(4, "")
        + encode_field(11, encode_field(1, "team") + encode_field(2, "a"))
    )
    data_entry = encode_field(1, ".dockerconfigjson") + encode_field(2, b'{"auths":{}}')
    return (
        encode_field(1, meta)
        + encode_field(2, data_entry)
        + encode_field(3, "kubernetes.io/dockerconfigjson")
    )


def test_it_decodes_a_secret() -> None:
    secret = decode(encode_for_tests("v1", "Secret", _secret_message()))

    assert secret == {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "regcred", "namespace": "default", "labels": {"team": "a"}},
        "data": {".dockerconfigjson": "eyJhdXRocyI6e319"},
        "type": "kubernetes.io/dockerconfigjson",
    }


def test_it_decodes_a_self_subject_access_review() -> None:
    attrs = encode_field(1, "default") + encode_field(2, "create") + encode_field(5, "secrets")
    body = encode_for_tests(
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        encode_field(2, encode_field(1, attrs)),
    )

    review = decode(body)

    assert review["spec"] == {
        "resourceAttributes": {"namespace": "default", "verb": "create", "resource": "secrets"}
    }


def test_it_refuses_a_body_without_the_magic_prefix() -> None:
    with pytest.raises(ProtobufError):
        decode(b"\x0a\x00")


def test_a_protobuf_create_is_answered_in_json(kubeapi: KubeApiServer) -> None:
    response = raw_request(
        kubeapi,
        "POST",
        "/api/v1/namespaces/default/secrets?fieldManager=kubectl-create&fieldValidation=Strict",
        encode_for_tests("v1", "Secret", _secret_message()),
        headers={"Content-Type": PROTOBUF, "Accept": f"{PROTOBUF},application/json"},
    )

    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["metadata"]["labels"] == {"team": "a"}


def test_an_unsupported_protobuf_kind_gives_415(kubeapi: KubeApiServer) -> None:
    response = raw_request(
        kubeapi,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        encode_for_tests("apps/v1", "Deployment", b""),
        headers={"Content-Type": PROTOBUF},
    )

    assert response.status == 415
