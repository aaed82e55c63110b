"""The one exception type for mistakes a user can make or fix."""


class TinygenError(Exception):
    """An error the user can act on. The message names the fix.

    The CLI prints it on one line and exits non-zero; tracebacks are
    reserved for bugs.
    """
