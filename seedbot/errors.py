"""The exception tree. Every seedbot failure a user can act on is a SeedbotError."""

from __future__ import annotations


class SeedbotError(Exception):
    """Base class. The message names the failed value and the fix."""

    exit_code = 2


class ConfigError(SeedbotError):
    """Invalid `.seedbot.yml`, or invalid command-line or Action input."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class DatasetError(SeedbotError):
    """A train or eval file that cannot be read or lacks a mapped column."""


class BaselineError(SeedbotError):
    """A stored baseline that is unreadable, of an unknown schema, or missing keys."""


class BaselineNotFound(BaselineError):
    """No baseline is stored for the config name."""

    exit_code = 3


class StatisticsError(SeedbotError, ValueError):
    """Input that a statistic cannot be computed on (empty, NaN, mismatched)."""


class TemplateError(SeedbotError):
    """A comment template that fails to render or drops the hidden marker."""


class EventError(SeedbotError):
    """A GitHub event payload or Actions environment that cannot be used."""


class GitHubError(SeedbotError):
    """A GitHub API call that failed after its retries."""

    exit_code = 1


class CommentNotPosted(GitHubError):
    """The PR comment could not be created or updated."""
