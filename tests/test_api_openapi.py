"""GET /api/v1/openapi.json describes exactly the API that runs."""

from __future__ import annotations

import re

import pytest
from pydantic import BaseModel

from peuplade.account import schemas as account_schemas
from peuplade.api import schemas
from peuplade.api.openapi import api_rules, document
from peuplade.api.schemas import RequestJsonSchema
from peuplade.neighbours import schemas as neighbour_schemas
from tests.conftest import CLICHY


@pytest.fixture
def spec(client):
    r = client.get("/api/v1/openapi.json")  # public: no token
    assert r.status_code == 200
    assert r.mimetype == "application/json"
    return r.get_json()


def _refs(value):
    """Every $ref anywhere in a JSON document."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "$ref":
                yield item
            else:
                yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


REF = "#/components/schemas/{model}"


def _operations(app):
    """(OpenAPI path, method, view) of every API route."""
    for rule in api_rules(app):
        path = re.sub(r"<(?:\w+(?:\([^)]*\))?:)?(\w+)>", r"{\1}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            yield path, method.lower(), app.view_functions[rule.endpoint]


def _model_of(content: dict) -> str:
    return content["application/json"]["schema"]["$ref"].removeprefix("#/components/schemas/")


def test_document_is_openapi_3_1_with_bearer_auth(spec):
    assert spec["openapi"] == "3.1.0"
    assert spec["info"]["title"] and spec["info"]["version"] == "1"
    assert spec["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert spec["security"] == [{"bearer": []}]


def test_every_api_route_and_method_is_documented(app, spec):
    expected = {(path, method) for path, method, _view in _operations(app)}
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    assert documented == expected
    assert {
        ("/api/v1/members", "post"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/me", "get"),
        ("/api/v1/me", "patch"),
        ("/api/v1/members/{member_id}", "get"),
        ("/api/v1/neighbours", "get"),
        ("/api/v1/openapi.json", "get"),
    } <= documented


def test_public_operations_are_exactly_the_public_views(app, spec):
    for path, method, view in _operations(app):
        op = spec["paths"][path][method]
        if getattr(view, "peuplade_public", False):
            assert op["security"] == [], (path, method)
        else:
            assert "security" not in op  # the document-wide bearer requirement
            assert "401" in op["responses"], (path, method)
    public = {
        (p, m)
        for p, ops in spec["paths"].items()
        for m, op in ops.items()
        if op.get("security") == []
    }
    assert public == {
        ("/api/v1/members", "post"),
        ("/api/v1/tokens", "post"),
        ("/api/v1/confirmations", "post"),  # the e-mailed link is the credential
        ("/api/v1/openapi.json", "get"),
    }


def test_request_bodies_are_the_models_the_views_parse(app, spec):
    components = spec["components"]["schemas"]
    seen = forms = 0
    for path, method, view in _operations(app):
        op_meta = view.api_operation
        op = spec["paths"][path][method]
        if op_meta.form is not None:  # photos: multipart/form-data, never JSON
            forms += 1
            content = op["requestBody"]["content"]
            assert list(content) == ["multipart/form-data"]
            name = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
            assert name == op_meta.form.__name__
            model_schema = op_meta.form.model_json_schema(
                ref_template=REF, schema_generator=RequestJsonSchema
            )
            assert components[name] == model_schema
            for status in ("400", "413", "422"):
                assert _model_of(op["responses"][status]["content"]) == "Error"
            continue
        if op_meta.body is None:
            assert "requestBody" not in op
            continue
        seen += 1
        name = _model_of(op["requestBody"]["content"])
        assert name == op_meta.body.__name__
        model_schema = op_meta.body.model_json_schema(
            ref_template=REF, schema_generator=RequestJsonSchema
        )
        model_schema.pop("$defs", None)
        assert components[name] == model_schema
        for status in ("400", "413", "422"):
            assert _model_of(op["responses"][status]["content"]) == "Error"
    # POST /members, /tokens; PATCH /me; POST/PATCH exchanges, responses, close, thanks;
    # POST/PATCH items, POST item loans; POST/PATCH news, POST news comments,
    # POST/PATCH events, POST event rsvp; POST conversations, POST conversation messages;
    # POST notifications/read, PATCH me/notification-settings; POST reports; DELETE me
    # (the current password)
    assert seen == 25
    # POST items, exchanges, news and events /{id}/photos; PUT /me/avatar
    assert forms == 5
    assert components["PhotoForm"]["properties"]["photo"] == {
        "description": components["PhotoForm"]["properties"]["photo"]["description"],
        "format": "binary",
        "title": "Photo",
        "type": "string",
    }
    assert components["PhotoForm"]["properties"]["alt"]["maxLength"] == 200
    assert components["PhotoForm"]["required"] == ["photo"]
    assert components["RegisterBody"]["required"] == [
        "email",
        "password",
        "display_name",
        "location",
    ]
    assert components["RegisterBody"]["additionalProperties"] is False


def test_optional_fields_are_documented_as_omittable_not_nullable(spec):
    """Explicit nulls are refused (422): the document must not advertise them."""
    patch = spec["components"]["schemas"]["ProfilePatch"]
    assert "required" not in patch
    assert patch["properties"]["radius_m"]["type"] == "integer"
    assert patch["properties"]["radius_m"]["minimum"] == 200
    assert patch["properties"]["radius_m"]["maximum"] == 5000
    text = str(spec["components"]["schemas"]["RegisterBody"]) + str(patch)
    assert "'null'" not in text


def test_every_reference_resolves(spec):
    components = spec["components"]["schemas"]
    refs = set(_refs(spec))
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in components, ref


def test_neighbours_parameters_are_documented(spec):
    params = {p["name"]: p for p in spec["paths"]["/api/v1/neighbours"]["get"]["parameters"]}
    assert set(params) == {"skill", "cursor", "limit"}
    assert params["limit"]["schema"]["minimum"] == 1
    assert params["limit"]["schema"]["maximum"] == 100
    member = spec["paths"]["/api/v1/members/{member_id}"]["get"]["parameters"]
    assert len(member) == 1
    assert member[0]["name"] == "member_id"
    assert member[0]["in"] == "path" and member[0]["required"] is True
    # Larger ids are not found (404) without reaching the database.
    assert member[0]["schema"] == {"type": "integer", "format": "int32", "maximum": 2**31 - 1}


def _assert_matches(data: dict, model: type[BaseModel]) -> None:
    """The answer has exactly the documented keys, and their documented types."""
    assert set(data) == set(model.model_fields), model.__name__
    model.model_validate(data)


def test_real_answers_match_their_documented_models(api, make_member, spec):
    r = api.post(
        "/members",
        json={
            "email": "nadia@example.org",
            "password": "lampe tempête 42 cerises",
            "display_name": "Nadia",
            "location": {"lat": 48.88462, "lon": 2.32091},
        },
    )
    assert (
        _model_of(spec["paths"]["/api/v1/members"]["post"]["responses"]["202"]["content"])
        == "SignUpOut"
    )
    _assert_matches(r.get_json(), account_schemas.SignUpOut)
    r = api.post(
        "/tokens", json={"email": "nadia@example.org", "password": "lampe tempête 42 cerises"}
    )
    _assert_matches(r.get_json(), account_schemas.TokenOut)
    api.token = r.get_json()["token"]
    _assert_matches(api.get("/me").get_json(), account_schemas.MeOut)
    _assert_matches(api.post("/me/confirmation").get_json(), account_schemas.ConfirmationSentOut)
    error = api.post("/confirmations", json={"token": "pas.un.lien"}).get_json()
    _assert_matches(error, schemas.ErrorOut)
    other = make_member("Bruno", at=CLICHY)
    _assert_matches(api.get(f"/members/{other.id}").get_json(), account_schemas.MemberOut)
    page = api.get("/neighbours").get_json()
    _assert_matches(page, neighbour_schemas.NeighbourPage)
    _assert_matches(page["items"][0], neighbour_schemas.NeighbourOut)
    _assert_matches(page["items"][0]["member"], neighbour_schemas.MemberSummaryOut)
    error = api.patch("/me", json={"radius_m": 1}).get_json()
    _assert_matches(error, schemas.ErrorOut)
    assert set(error["error"]) <= set(schemas.ErrorDetail.model_fields)


def test_an_undocumented_api_route_is_refused(make_app):
    """A new API view without @operation cannot slip out of the document."""
    app = make_app()
    app.add_url_rule("/api/v1/secret", endpoint="api.secret", view_func=lambda: {})
    with app.test_request_context(), pytest.raises(RuntimeError, match=r"api\.secret"):
        document(app)


def test_the_document_speaks_the_readers_language(client):
    def summary(lang):
        spec = client.get("/api/v1/openapi.json", headers={"Accept-Language": lang}).get_json()
        return spec["paths"]["/api/v1/members"]["post"]["summary"]

    assert summary("fr") == "Créer un compte"
    assert summary("en") == "Create an account"
    assert summary("fr") == "Créer un compte"  # each language has its own copy
