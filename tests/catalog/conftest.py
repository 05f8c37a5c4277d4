"""The `shop` fixture of the sales tests: a brand platform making signed calls."""

from tests.sales.conftest import shop  # noqa: F401 (fixture)
