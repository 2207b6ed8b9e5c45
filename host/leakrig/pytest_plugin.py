"""pytest plugin for HIL tests: the same tests against a virtual board
(default) or a real board on a port (--port)."""
import pytest


def pytest_addoption(parser):
    group = parser.getgroup("leakrig", "leakrig hardware-in-the-loop")
    group.addoption("--port", default=None,
                    help="run against the board on this port or pyserial URL instead of a virtual board")
    group.addoption("--board", default="sim", help="board definition to deploy (default: sim)")
    group.addoption("--no-deploy", action="store_true",
                    help="use the firmware already on the board (--port only)")


class DUT:
    """The device under test: a port with the firmware deployed on it."""

    def __init__(self, port, board, virtual=None):
        self.port = port
        self.board = board
        self.virtual = virtual  # the VirtualBoard when simulated, else None

    def link(self):
        from .link import BoardLink
        return BoardLink(self.port)


@pytest.fixture(scope="module")
def dut(request):
    port = request.config.getoption("--port")
    board = request.config.getoption("--board")
    from .deploy import deploy
    if port:
        if not request.config.getoption("--no-deploy"):
            deploy(port, board, progress=lambda s: None)
        yield DUT(port, board)
        return
    from .sim.rig import build_virtual_board
    vb = build_virtual_board(board, "nominal")
    vb.start()
    try:
        deploy(vb.port, board, config={"rate_hz": 10.0}, progress=lambda s: None)
        yield DUT(vb.port, board, virtual=vb)
    finally:
        vb.stop()
