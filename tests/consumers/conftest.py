import pytest

from tests.consumers import disconnect_all


@pytest.fixture(autouse=True)
async def close_sockets_left_open():
    """Sockets a spec left open are disconnected in its own event loop (see tests/consumers/__init__.py)."""
    yield
    await disconnect_all()
