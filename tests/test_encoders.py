"""tether.encoders without pydantic loaded; the peer's rules are in tests/compat."""

import subprocess
import sys

from tether.encoders import ENCODERS_BY_TYPE, decimal_encoder, jsonable_encoder


def test_the_encoder_never_imports_pydantic() -> None:
    code = (
        "import sys, dataclasses, decimal\n"
        "from tether.encoders import jsonable_encoder\n"
        "@dataclasses.dataclass\n"
        "class A:\n    x: decimal.Decimal\n"
        "assert jsonable_encoder([A(decimal.Decimal('1.5'))]) == [{'x': 1.5}]\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_encoders_by_type_can_be_extended() -> None:
    class Money:
        def __init__(self, cents: int) -> None:
            self.cents = cents

    ENCODERS_BY_TYPE[Money] = lambda money: f"{money.cents / 100:.2f}"
    try:
        assert jsonable_encoder({"price": Money(150)}) == {"price": "1.50"}
    finally:
        del ENCODERS_BY_TYPE[Money]
    assert decimal_encoder(__import__("decimal").Decimal("10")) == 10
