"""One command to a board and its answer, for the thin commands (config,
calibrate, monitor keys): an error frame becomes one clear line."""
from .errors import LinkError, UserError
from .link import BoardLink


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


def ask(port, text, timeout=5.0):
    """Open the port, send one command, return the reply's fields."""
    with BoardLink(port) as link:
        return check(link.command(text, timeout=timeout), text)
