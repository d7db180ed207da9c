"""Errors churnkit raises on purpose, each with the exit code the CLI returns.

Exit codes (documented in the README):
  0 success, 1 unexpected bug, 2 usage (bad option), 3 data validation,
  4 input/output (unreadable file, full disk), 5 model (bundle missing, tampered, mismatched).
"""

from __future__ import annotations


class ChurnkitError(Exception):
    """Base class: a problem a user can fix, reported as one line."""

    exit_code = 1


class UsageError(ChurnkitError):
    """A bad command-line option or argument."""

    exit_code = 2


class DataError(ChurnkitError):
    """Input data break the data contract."""

    exit_code = 3


class StorageError(ChurnkitError):
    """A file could not be read or written (corrupt, wrong encoding, disk full)."""

    exit_code = 4


class ModelError(ChurnkitError):
    """A model bundle is missing, tampered with, or does not fit the data."""

    exit_code = 5
