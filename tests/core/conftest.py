import pytest
from gapmend.core.apply.restore import STAGE


@pytest.fixture(params=[True, STAGE, False], ids=["server-side", "staged", "batches"])
def server_side(request: pytest.FixtureRequest) -> bool | str:
    """The ways rows travel: copied inside the server (from crashed's database, or from
    Friday's rows staged beside production's first), or read and written by gapmend."""
    return request.param  # type: ignore[no-any-return]
