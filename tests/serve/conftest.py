"""The dashboard fixtures (a cache from the fixture estate, an app factory) shared with
tests/tui."""

from tests.tui.conftest import anyio_backend, cache, make_app  # noqa: F401
