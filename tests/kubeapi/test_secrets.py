"""Secrets through the real kubernetes client: CRUD, validation and error bodies."""

from __future__ import annotations

import base64
import json
import re

import pytest
from kubernetes import client

from .clients import raw_request, status_of
from .server import KubeApiServer


def dockerconfigjson(
    server: str = "registry.example.com",
    user: str = "u",
    password: str = "p",  # noqa: S107 - a throw-away test credential
) -> str:
    """The base64 `.dockerconfigjson` value kubectl would build."""
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    config = {"auths": {server: {"username": user, "password": password, "auth": auth}}}
    return base64.b64encode(json.dumps(config).encode()).decode()


def regcred(name: str = "regcred", **fields: object) -> dict[str, object]:
    """A valid image-pull Secret body."""
    body: dict[str, object] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": name},
        "type": "kubernetes.io/dockerconfigjson",
        "data": {".dockerconfigjson": dockerconfigjson()},
    }
    body.update(fields)
    return body


def test_it_creates_a_secret_with_201_and_server_set_metadata(core: client.CoreV1Api) -> None:
    created, status, headers = core.create_namespaced_secret_with_http_info("default", regcred())

    assert status == 201
    assert headers["Content-Type"] == "application/json"
    meta = created.metadata
    assert re.fullmatch(r"[0-9a-f-]{36}", meta.uid)
    assert meta.resource_version.isdigit()
    assert meta.namespace == "default"
    assert meta.generation is None
    assert meta.creation_timestamp.microsecond == 0
    assert created.type == "kubernetes.io/dockerconfigjson"


def test_it_stamps_creation_timestamp_as_rfc3339_seconds(kubeapi: KubeApiServer) -> None:
    response = raw_request(kubeapi, "POST", "/api/v1/namespaces/default/secrets", regcred())

    stamp = response.json()["metadata"]["creationTimestamp"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stamp)


def test_it_returns_409_on_duplicate_secret(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("default", regcred())

    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", regcred())

    assert excinfo.value.status == 409
    assert status_of(excinfo.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'secrets "regcred" already exists',
        "reason": "AlreadyExists",
        "details": {"name": "regcred", "kind": "secrets"},
        "code": 409,
    }


def test_it_returns_404_when_creating_into_a_missing_namespace(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("nope", regcred())

    assert excinfo.value.status == 404
    body = status_of(excinfo.value)
    assert body["message"] == 'namespaces "nope" not found'
    assert body["details"] == {"name": "nope", "kind": "namespaces"}


def test_it_returns_404_for_a_missing_secret(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.read_namespaced_secret("nope", "default")

    assert excinfo.value.status == 404
    assert status_of(excinfo.value)["message"] == 'secrets "nope" not found'
    assert status_of(excinfo.value)["reason"] == "NotFound"


def test_it_merges_string_data_into_data_and_never_returns_it(core: client.CoreV1Api) -> None:
    body = {
        "metadata": {"name": "mixed"},
        "data": {
            "a": base64.b64encode(b"from-data").decode(),
            "b": base64.b64encode(b"keep").decode(),
        },
        "stringData": {"a": "from-stringData"},
    }
    created = core.create_namespaced_secret("default", body)
    read = core.read_namespaced_secret("mixed", "default")

    for secret in (created, read):
        assert secret.string_data is None
        assert base64.b64decode(secret.data["a"]) == b"from-stringData"
        assert base64.b64decode(secret.data["b"]) == b"keep"


def test_it_defaults_the_type_to_opaque(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_secret("default", {"metadata": {"name": "plain"}})

    assert created.type == "Opaque"


def test_it_refuses_to_change_a_secret_type(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("default", {"metadata": {"name": "plain"}, "data": {}})

    with pytest.raises(client.ApiException) as excinfo:
        core.replace_namespaced_secret("plain", "default", regcred("plain"))

    assert excinfo.value.status == 422
    body = status_of(excinfo.value)
    assert body["message"] == (
        'Secret "plain" is invalid: type: Invalid value: "kubernetes.io/dockerconfigjson": '
        "field is immutable"
    )
    assert body["details"]["causes"] == [
        {
            "reason": "FieldValueInvalid",
            "message": 'Invalid value: "kubernetes.io/dockerconfigjson": field is immutable',
            "field": "type",
        }
    ]


def test_it_requires_the_dockerconfigjson_key(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", regcred(data={"other": "eA=="}))

    assert excinfo.value.status == 422
    body = status_of(excinfo.value)
    assert body["reason"] == "Invalid"
    assert body["message"] == 'Secret "regcred" is invalid: data[.dockerconfigjson]: Required value'
    assert body["details"] == {
        "name": "regcred",
        "kind": "Secret",
        "causes": [
            {
                "reason": "FieldValueRequired",
                "message": "Required value",
                "field": "data[.dockerconfigjson]",
            }
        ],
    }


def test_it_accepts_dockerconfigjson_given_as_string_data(core: client.CoreV1Api) -> None:
    body = regcred(data=None, stringData={".dockerconfigjson": '{"auths":{}}'})

    created = core.create_namespaced_secret("default", body)

    assert base64.b64decode(created.data[".dockerconfigjson"]) == b'{"auths":{}}'


def test_it_rejects_dockerconfigjson_that_is_not_a_json_object(core: client.CoreV1Api) -> None:
    body = regcred(data={".dockerconfigjson": base64.b64encode(b"{oops").decode()})

    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", body)

    message = status_of(excinfo.value)["message"]
    assert message == (
        'Secret "regcred" is invalid: data[.dockerconfigjson]: Invalid value: '
        "\"<secret contents redacted>\": invalid character 'o' looking for beginning of object "
        "key string"
    )
    assert "oops" not in message


def test_it_rejects_a_json_array_as_dockerconfigjson(core: client.CoreV1Api) -> None:
    body = regcred(data={".dockerconfigjson": base64.b64encode(b"[]").decode()})

    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", body)

    assert status_of(excinfo.value)["message"] == (
        'Secret "regcred" is invalid: data[.dockerconfigjson]: Invalid value: '
        '"<secret contents redacted>": json: cannot unmarshal array into Go value of type '
        "map[string]interface {}"
    )


def test_it_requires_the_dockercfg_key_for_legacy_docker_secrets(core: client.CoreV1Api) -> None:
    body = {"metadata": {"name": "old"}, "type": "kubernetes.io/dockercfg", "data": {}}

    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", body)

    assert (
        status_of(excinfo.value)["message"]
        == 'Secret "old" is invalid: data[.dockercfg]: Required value'
    )


def test_it_rejects_an_invalid_name_listing_every_cause(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", regcred("Bad_Name", data={}))

    body = status_of(excinfo.value)
    rfc1123 = (
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
        "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
        "regex used for validation is "
        "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
    )
    assert body["message"] == (
        f'Secret "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": {rfc1123}, '
        "data[.dockerconfigjson]: Required value]"
    )
    assert [c["field"] for c in body["details"]["causes"]] == [
        "metadata.name",
        "data[.dockerconfigjson]",
    ]
    assert body["details"]["causes"][0]["reason"] == "FieldValueInvalid"


def test_it_rejects_data_that_is_not_base64(kubeapi: KubeApiServer) -> None:
    body = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"}, "data": {"k": "no!"}}

    response = raw_request(kubeapi, "POST", "/api/v1/namespaces/default/secrets", body)

    assert response.status == 400
    assert response.json()["message"] == (
        'Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 2'
    )


def test_it_rejects_bad_secret_data_keys(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret(
            "default", {"metadata": {"name": "x"}, "data": {"a b": "eA=="}}
        )

    assert status_of(excinfo.value)["details"]["causes"][0]["field"] == "data[a b]"


def test_it_updates_without_a_resource_version(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_secret("default", regcred())
    body = regcred(metadata={"name": "regcred", "labels": {"team": "a"}})

    updated = core.replace_namespaced_secret("regcred", "default", body)

    assert updated.metadata.labels == {"team": "a"}
    assert int(updated.metadata.resource_version) > int(first.metadata.resource_version)
    assert updated.metadata.uid == first.metadata.uid


def test_it_returns_409_conflict_on_a_stale_resource_version(core: client.CoreV1Api) -> None:
    first = core.create_namespaced_secret("default", regcred())
    core.patch_namespaced_secret("regcred", "default", {"metadata": {"labels": {"a": "b"}}})
    stale = regcred(
        metadata={"name": "regcred", "resourceVersion": first.metadata.resource_version}
    )

    with pytest.raises(client.ApiException) as excinfo:
        core.replace_namespaced_secret("regcred", "default", stale)

    assert excinfo.value.status == 409
    body = status_of(excinfo.value)
    assert body["reason"] == "Conflict"
    assert body["message"] == (
        'Operation cannot be fulfilled on secrets "regcred": the object has been modified; '
        "please apply your changes to the latest version and try again"
    )


def test_it_returns_404_when_updating_a_missing_secret(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.replace_namespaced_secret("regcred", "default", regcred())

    assert excinfo.value.status == 404


def test_it_returns_400_when_the_body_name_does_not_match_the_url(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret("default", regcred())

    with pytest.raises(client.ApiException) as excinfo:
        core.replace_namespaced_secret("regcred", "default", regcred("other"))

    assert excinfo.value.status == 400
    assert status_of(excinfo.value)["message"] == (
        "the name of the object (other) does not match the name on the URL (regcred)"
    )


def test_it_returns_400_when_the_body_namespace_does_not_match_the_url(
    core: client.CoreV1Api,
) -> None:
    body = regcred(metadata={"name": "regcred", "namespace": "kube-system"})

    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", body)

    assert excinfo.value.status == 400
    assert status_of(excinfo.value)["message"] == (
        "the namespace of the provided object does not match the namespace sent on the request"
    )


def test_a_no_op_update_keeps_the_resource_version(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    created = core.create_namespaced_secret("default", regcred())
    writes = len(kubeapi.history)

    again = core.replace_namespaced_secret("regcred", "default", regcred())

    assert again.metadata.resource_version == created.metadata.resource_version
    assert len(kubeapi.history) == writes


def test_it_deletes_with_a_success_status_body(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    created = core.create_namespaced_secret("default", regcred())

    response = raw_request(kubeapi, "DELETE", "/api/v1/namespaces/default/secrets/regcred")

    assert response.status == 200
    assert response.json() == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
        "details": {"name": "regcred", "kind": "secrets", "uid": created.metadata.uid},
    }
    assert kubeapi.get_object("secrets", "default", "regcred") is None


def test_it_returns_404_when_deleting_a_missing_secret(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.delete_namespaced_secret("regcred", "default")

    assert excinfo.value.status == 404


def test_it_lists_secrets_of_all_namespaces_in_key_order(kubeapi: KubeApiServer) -> None:
    for namespace, name in (("kube-system", "b"), ("default", "z"), ("default", "a")):
        kubeapi.put_object("secrets", {"metadata": {"name": name}}, namespace=namespace)

    body = raw_request(kubeapi, "GET", "/api/v1/secrets").json()

    assert body["kind"] == "SecretList"
    assert body["apiVersion"] == "v1"
    assert body["metadata"]["resourceVersion"] == kubeapi.resource_version
    keys = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in body["items"]]
    assert keys == [("default", "a"), ("default", "z"), ("kube-system", "b")]
    # The real server leaves kind/apiVersion off the items of built-in lists.
    assert "kind" not in body["items"][0]


def test_it_lists_only_the_requested_namespace(
    core: client.CoreV1Api, kubeapi: KubeApiServer
) -> None:
    kubeapi.put_object("secrets", {"metadata": {"name": "a"}}, namespace="default")
    kubeapi.put_object("secrets", {"metadata": {"name": "b"}}, namespace="kube-public")

    names = [s.metadata.name for s in core.list_namespaced_secret("kube-public").items]

    assert names == ["b"]


def test_a_dry_run_create_stores_nothing(kubeapi: KubeApiServer, core: client.CoreV1Api) -> None:
    created = core.create_namespaced_secret("default", regcred(), dry_run="All")

    assert created.metadata.uid
    assert kubeapi.get_object("secrets", "default", "regcred") is None


def test_it_forbids_changing_data_of_an_immutable_secret(core: client.CoreV1Api) -> None:
    core.create_namespaced_secret(
        "default", {"metadata": {"name": "frozen"}, "immutable": True, "data": {"a": "eA=="}}
    )

    with pytest.raises(client.ApiException) as excinfo:
        core.patch_namespaced_secret("frozen", "default", {"data": {"a": "eQ=="}})

    assert status_of(excinfo.value)["message"] == (
        'Secret "frozen" is invalid: data: Forbidden: field is immutable when `immutable` is set'
    )


def test_a_secret_can_be_posted_as_yaml(kubeapi: KubeApiServer) -> None:
    text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: fromyaml\nstringData:\n  a: b\n"

    response = raw_request(
        kubeapi,
        "POST",
        "/api/v1/namespaces/default/secrets",
        text,
        headers={"Content-Type": "application/yaml"},
    )

    assert response.status == 201
    assert response.json()["data"] == {"a": "Yg=="}


def test_a_delete_precondition_on_a_stale_uid_gives_409(kubeapi: KubeApiServer) -> None:
    kubeapi.put_object("secrets", {"metadata": {"name": "x"}}, "default")

    response = raw_request(
        kubeapi,
        "DELETE",
        "/api/v1/namespaces/default/secrets/x",
        {"preconditions": {"uid": "not-the-uid"}},
    )

    assert response.status == 409
    assert "Precondition failed: UID in precondition: not-the-uid" in response.json()["message"]
    assert kubeapi.get_object("secrets", "default", "x") is not None


def test_delete_collection_removes_only_the_selected_secrets(
    kubeapi: KubeApiServer, core: client.CoreV1Api
) -> None:
    for name, team in (("a", "x"), ("b", "x"), ("c", "y")):
        kubeapi.put_object(
            "secrets", {"metadata": {"name": name, "labels": {"team": team}}}, "default"
        )

    core.delete_collection_namespaced_secret("default", label_selector="team=x")

    assert [s["metadata"]["name"] for s in kubeapi.list_objects("secrets", "default")] == ["c"]


def test_generate_name_gets_a_random_suffix(core: client.CoreV1Api) -> None:
    created = core.create_namespaced_secret("default", {"metadata": {"generateName": "regcred-"}})

    assert re.fullmatch(r"regcred-[a-z0-9]{5}", created.metadata.name)


def test_a_missing_name_is_required(core: client.CoreV1Api) -> None:
    with pytest.raises(client.ApiException) as excinfo:
        core.create_namespaced_secret("default", {"metadata": {}})

    assert status_of(excinfo.value)["message"] == (
        'Secret "" is invalid: metadata.name: Required value: name or generateName is required'
    )
