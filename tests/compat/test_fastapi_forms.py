"""FastAPI's form and file tutorials and their tests (request_forms, request_files,
request_forms_and_files, request_form_models, security's OAuth2PasswordRequestForm), imports
changed. Error messages are tether's own; the shapes (status, ``type``, ``loc``) are the peer's.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel

from tether import Depends, File, Form, HTTPException, UploadFile
from tether import Tether as FastAPI
from tether.security import OAuth2PasswordRequestForm
from tether.testclient import TestClient

app = FastAPI()


@app.post("/login/")
async def login(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> Any:
    return {"username": username}


@app.post("/files/")
async def create_file(file: Annotated[bytes | None, File()] = None) -> Any:
    if not file:
        return {"message": "No file sent"}
    return {"file_size": len(file)}


@app.post("/uploadfile/")
async def create_upload_file(file: UploadFile | None = None) -> Any:
    if not file:
        return {"message": "No upload file sent"}
    return {"filename": file.filename}


@app.post("/multi/")
async def create_files(
    files: Annotated[list[bytes], File(description="Multiple files as bytes")],
    uploads: Annotated[list[UploadFile], File()],
) -> Any:
    return {"file_sizes": [len(f) for f in files], "filenames": [u.filename for u in uploads]}


@app.post("/mixed/")
async def create_mixed(
    file: Annotated[bytes, File()],
    fileb: Annotated[UploadFile, File()],
    token: Annotated[str, Form()],
) -> Any:
    return {"file_size": len(file), "token": token, "fileb_content_type": fileb.content_type}


class FormData(BaseModel):
    username: str
    password: str
    tags: list[str] = []


@app.post("/model/")
async def model_login(data: Annotated[FormData, Form()]) -> FormData:
    return data


@app.post("/token")
async def token(form_data: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Any:
    if form_data.password != "secret":
        raise HTTPException(status_code=400, detail="Incorrect username or password")
    return {"access_token": form_data.username, "token_type": "bearer", "scopes": form_data.scopes}


client = TestClient(app)


def test_post_body_form() -> None:
    response = client.post("/login/", data={"username": "Foo", "password": "secret"})
    assert response.status_code == 200
    assert response.json() == {"username": "Foo"}


def test_post_body_form_missing_fields() -> None:
    response = client.post("/login/", data={"username": "Foo"})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("missing", ["body", "password"])
    response = client.post("/login/")
    assert [e["loc"] for e in response.json()["detail"]] == [
        ["body", "username"],
        ["body", "password"],
    ]


def test_post_body_json_is_not_a_form() -> None:
    response = client.post("/login/", json={"username": "Foo", "password": "secret"})
    assert response.status_code == 422


def test_files_as_bytes_and_upload_files() -> None:
    assert client.post("/files/").json() == {"message": "No file sent"}
    assert client.post("/uploadfile/").json() == {"message": "No upload file sent"}
    sent = {"file": ("main.py", b"<file content>" * 3)}
    assert client.post("/files/", files=sent).json() == {"file_size": 42}
    assert client.post("/uploadfile/", files=sent).json() == {"filename": "main.py"}


def test_multiple_files() -> None:
    files = [
        ("files", ("a.txt", b"aa")),
        ("files", ("b.txt", b"bbb")),
        ("uploads", ("c.txt", b"c")),
        ("uploads", ("d.txt", b"dddd")),
    ]
    response = client.post("/multi/", files=files)
    assert response.json() == {"file_sizes": [2, 3], "filenames": ["c.txt", "d.txt"]}


def test_files_and_fields_together() -> None:
    response = client.post(
        "/mixed/",
        data={"token": "foo"},
        files={"file": ("a.txt", b"<file>"), "fileb": ("b.txt", b"<b>", "text/plain")},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {"file_size": 6, "token": "foo", "fileb_content_type": "text/plain"}
    response = client.post("/mixed/", data={"token": "foo"})
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "file"], ["body", "fileb"]]


def test_form_model() -> None:
    response = client.post(
        "/model/", data={"username": "Foo", "password": "secret", "tags": ["a", "b"]}
    )
    assert response.json() == {"username": "Foo", "password": "secret", "tags": ["a", "b"]}
    response = client.post("/model/", data={"username": "Foo"})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "password"]]


def test_oauth2_password_request_form() -> None:
    response = client.post(
        "/token", data={"username": "johndoe", "password": "secret", "scope": "me items"}
    )
    assert response.json() == {
        "access_token": "johndoe",
        "token_type": "bearer",
        "scopes": ["me", "items"],
    }
    assert client.post("/token", data={"username": "johndoe", "password": "x"}).status_code == 400
    wrong_grant = {"username": "johndoe", "password": "secret", "grant_type": "implicit"}
    response = client.post("/token", data=wrong_grant)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "grant_type"]


def test_openapi_of_forms_and_files() -> None:
    paths = client.get("/openapi.json").json()["paths"]
    login_body = paths["/login/"]["post"]["requestBody"]
    assert login_body == {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"$ref": "#/components/schemas/Body_login_login__post"}
            }
        },
    }
    assert list(paths["/mixed/"]["post"]["requestBody"]["content"]) == ["multipart/form-data"]
    model_body = paths["/model/"]["post"]["requestBody"]["content"]
    assert model_body == {
        "application/x-www-form-urlencoded": {"schema": {"$ref": "#/components/schemas/FormData"}}
    }
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["Body_create_upload_file_uploadfile__post"]["properties"]["file"] == {
        "anyOf": [
            {"type": "string", "contentMediaType": "application/octet-stream"},
            {"type": "null"},
        ],
        "title": "File",
    }
    assert "Body_token_token_post" in schemas
