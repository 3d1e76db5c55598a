import pytest


@pytest.fixture(params=[True, False], ids=["server-side", "batches"])
def server_side(request: pytest.FixtureRequest) -> bool:
    """The two ways rows travel: copied inside the server, or read and written by gapmend."""
    return bool(request.param)
