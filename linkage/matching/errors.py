"""The error raised for input the matching engine cannot link."""

from linkage.errors import LinkageError


class MatchingError(LinkageError, ValueError):
    """The encoded inputs cannot be linked as given; the message says why and what to do."""
