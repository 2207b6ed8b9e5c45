"""One command to a board and its answer, for the thin commands (config,
calibrate, monitor keys): an error frame becomes one clear line."""
import os

from .errors import LinkError, UserError
from .link import BoardLink


def answer_timeout(seconds):
    """How long to wait for a board's answer: `seconds`, or
    $LEAKRIG_ANSWER_TIMEOUT where a link or a host is slow (a rig served
    over the network, a busy test machine)."""
    env = os.environ.get("LEAKRIG_ANSWER_TIMEOUT")
    try:
        return float(env) if env else seconds
    except ValueError:
        raise UserError("LEAKRIG_ANSWER_TIMEOUT=%r is not a number of seconds" % env)


class BoardRefused(UserError):
    """The board answered with an X frame."""


def check(reply, text):
    """The reply's fields without cmd/id; BoardRefused for an error frame."""
    if reply.kind == "X":
        raise BoardRefused("the board refused %r: %s (%s)"
                           % (text, reply.fields.get("msg", "?"), reply.fields.get("err", "?")))
    if reply.kind != "R":
        raise LinkError("unexpected %s frame in answer to %r" % (reply.kind, text))
    return {k: v for k, v in reply.fields.items() if k not in ("cmd", "id")}


def ask(port, text, timeout=None):
    """Open the port, send one command, return the reply's fields."""
    with BoardLink(port) as link:
        return check(link.command(text, timeout=timeout or answer_timeout(5.0)), text)
