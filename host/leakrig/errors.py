"""Errors a user can cause. The CLI prints them as one line and exits
non-zero; anything else is a bug and keeps its traceback."""


class UserError(Exception):
    exit_code = 2


class LinkError(UserError):
    """The port cannot be opened, went away, or the board does not answer."""
    exit_code = 3


class BoardCrashed(UserError):
    """The firmware crashed (a crash event) during a run that otherwise ended."""
    exit_code = 4
