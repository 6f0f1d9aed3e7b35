"""Errors that reach the user as one line and a documented exit code, never a traceback."""

from __future__ import annotations

# Exit codes, documented in README ("Exit codes") and relied on by CI jobs.
EXIT_OK = 0
EXIT_FINDINGS = 1  # failing findings at or above --fail-on
EXIT_USAGE = 2  # bad arguments, bad input file, bad config, unusable cache
EXIT_COLLECTION = 3  # a collection failed or was partial
EXIT_IO = 4  # an output could not be written: full disk, unwritable file or directory


class PostureError(Exception):
    """An error the user can act on. ``str(error)`` is the one line they see."""

    exit_code = EXIT_USAGE


class InputError(PostureError):
    """A file or argument the user gave is wrong (malformed, truncated, wrong kind)."""


class ConfigError(PostureError):
    """The configuration file or a setting is invalid."""


class StoreError(PostureError):
    """The cache cannot be used: not SQLite, corrupt, from a newer version, unwritable."""


class CollectionError(PostureError):
    exit_code = EXIT_COLLECTION


class OutputError(PostureError):
    """Writing a result failed (disk full, permission denied, the device went away): a
    failure of the machine, not of the user's input, so CI can tell the two apart."""

    exit_code = EXIT_IO
