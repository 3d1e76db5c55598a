import pytest


@pytest.fixture(params=[False, True], ids=["in-place", "staged"])
def staged(request: pytest.FixtureRequest) -> bool:
    """The two places the server reads Friday's rows from: crashed's own tables (where
    production's connection can name them), or staging tables beside production's that
    the restore fills first (another server, another dialect, no SELECT grant)."""
    return request.param  # type: ignore[no-any-return]
