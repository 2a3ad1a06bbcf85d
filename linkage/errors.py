"""The one base class for errors a user can act on.

Every module raises a subclass with a message that says what is wrong and what to do;
the command line prints that message (never a traceback) and exits with status 2.
"""


class LinkageError(Exception):
    """An error caused by input or configuration, with a message meant for a person."""
