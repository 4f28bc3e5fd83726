"""``Depends``/``Security`` compare and hash by value; a type alias carries its markers."""

from typing import Annotated

from typing_extensions import TypeAliasType

from tether.applications import Tether
from tether.params import Depends, Security
from tether.testclient import TestClient


def dependency() -> int:
    return 7


def test_depends_and_security_compare_and_hash_by_their_options() -> None:
    assert Depends(dependency) == Depends(dependency)
    assert hash(Depends(dependency)) == hash(Depends(dependency))
    assert Depends(dependency) != Depends(dependency, scope="function")
    assert hash(Depends(dependency, scope="function")) == hash(
        Depends(dependency, scope="function")
    )
    assert Depends(dependency) != Depends(dependency, use_cache=False)
    assert hash(Security(dependency, scopes=["a"])) == hash(Security(dependency, scopes=["a"]))
    assert Security(dependency, scopes=["a"]) != Security(dependency, scopes=["b"])
    assert Security(dependency) != Depends(dependency)
    assert len({Depends(dependency), Depends(dependency)}) == 1


Seven = TypeAliasType("Seven", Annotated[int, Depends(dependency)], type_params=())


def test_a_type_alias_of_an_annotated_dependency_is_resolved() -> None:
    app = Tether()

    @app.get("/")
    async def read(value: Seven) -> int:  # type: ignore[valid-type]
        return value  # type: ignore[no-any-return]

    assert TestClient(app).get("/").json() == 7
