"""Form models read from a form body (``Annotated[Model, Form()]``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel

from tether import File, Form, Tether, UploadFile
from tether.testclient import TestClient


class Signup(BaseModel):
    username: str
    tags: list[str] = ["a", "b"]


class Profile(BaseModel):
    name: str
    age: int


def test_an_error_input_is_what_was_sent_without_defaults() -> None:
    app = Tether()

    @app.post("/signup")
    def signup(form: Annotated[Signup, Form()]) -> Signup:
        return form

    client = TestClient(app)
    response = client.post("/signup")
    assert response.status_code == 422
    assert response.json()["detail"] == [
        {"type": "missing", "loc": ["body", "username"], "msg": "Field required", "input": {}}
    ]
    response = client.post("/signup", data={"username": "ann"})
    assert response.json() == {"username": "ann", "tags": ["a", "b"]}


def test_an_optional_form_model_not_sent_takes_its_default() -> None:
    app = Tether()

    @app.post("/profiles")
    def create(
        token: Annotated[str, Form()], profile: Annotated[Profile | None, Form()] = None
    ) -> dict[str, object]:
        return {"token": token, "profile": profile}

    client = TestClient(app)
    response = client.post("/profiles", data={"token": "t"})
    assert response.json() == {"token": "t", "profile": None}
    response = client.post("/profiles", data={"token": "t", "name": "Ann", "age": "3"})
    assert response.json() == {"token": "t", "profile": {"name": "Ann", "age": 3}}
    # One of the model's fields sent (even empty) means the model was meant: it is validated.
    response = client.post("/profiles", data={"token": "t", "name": ""})
    assert response.status_code == 422
    assert [error["loc"] for error in response.json()["detail"]] == [
        ["body", "name"],
        ["body", "age"],
    ]


def test_form_models_beside_other_fields_are_all_of_references() -> None:
    app = Tether()

    @app.post("/profiles")
    def create(
        token: Annotated[str, Form()],
        signup: Annotated[Signup, Form()],
        profile: Annotated[Profile | None, Form()] = None,
    ) -> str:
        return token

    schemas = TestClient(app).get("/openapi.json").json()["components"]["schemas"]
    body = schemas["Body_create_profiles_post"]
    assert body["properties"] == {"token": {"title": "Token", "type": "string"}}
    assert body["required"] == ["token"]
    assert body["allOf"] == [
        {"$ref": "#/components/schemas/Signup"},
        {"$ref": "#/components/schemas/Profile"},
    ]
    assert schemas["Profile"]["required"] == ["name", "age"]


FACTORY_CALLS: list[int] = []


def ten() -> str:
    FACTORY_CALLS.append(1)
    return "10"


def test_a_form_field_default_is_validated_when_asked() -> None:
    app = Tether()

    @app.post("/")
    def read(
        value: Annotated[int, Form(default_factory=ten, validate_default=True)],
        plain: Annotated[int, Form()] = "5",  # type: ignore[assignment]
    ) -> list[object]:
        return [value, plain]

    client = TestClient(app)
    FACTORY_CALLS.clear()
    assert client.post("/").json() == [10, "5"]  # only the asked one is validated
    assert FACTORY_CALLS == [1]
    assert client.post("/", data={"value": "3"}).json() == [3, "5"]
    assert FACTORY_CALLS == [1]


def _part(name: str, filename: str, content: bytes) -> bytes:
    return (
        b"--boundary\r\n"
        + f'Content-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'.encode()
        + b"Content-Type: application/octet-stream\r\n\r\n"
        + content
        + b"\r\n"
    )


def test_an_empty_file_input_is_no_file() -> None:
    app = Tether()

    @app.post("/")
    def read(
        file: Annotated[bytes | None, File()] = None,
        files: Annotated[list[UploadFile] | None, File()] = None,
    ) -> dict[str, object]:
        sizes = None if files is None else [upload.size for upload in files]
        return {"file": None if file is None else len(file), "files": sizes}

    client = TestClient(app)
    headers = {"content-type": "multipart/form-data; boundary=boundary"}

    def post(*parts: bytes) -> Any:
        return client.post("/", content=b"".join(parts) + b"--boundary--\r\n", headers=headers)

    # What a browser sends for file inputs left empty: no file at all.
    unselected = post(_part("file", "", b""), _part("files", "", b""))
    assert unselected.json() == {"file": None, "files": None}
    # An empty filename with content, or an empty file that has a name, is a file.
    named = post(_part("file", "", b"hello"), _part("files", "a.txt", b""), _part("files", "", b""))
    assert named.json() == {"file": 5, "files": [0]}
