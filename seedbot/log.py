"""The `seedbot` logger, with GitHub Actions workflow commands when running in Actions."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Iterator, Mapping

logger = logging.getLogger("seedbot")


def in_actions(environ: Mapping[str, str] | None = None) -> bool:
    environ = os.environ if environ is None else environ
    return environ.get("GITHUB_ACTIONS") == "true"


def escape_data(text: str) -> str:
    """Escape a workflow-command message the way the Actions runner expects."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


class ActionsFormatter(logging.Formatter):
    """Turn ERROR, WARNING and DEBUG records into ::error::, ::warning:: and ::debug:: lines."""

    prefixes = {logging.ERROR: "::error::", logging.CRITICAL: "::error::", logging.WARNING: "::warning::", logging.DEBUG: "::debug::"}

    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        prefix = self.prefixes.get(record.levelno)
        return prefix + escape_data(message) if prefix else message


def setup_logging(*, quiet: bool = False, verbose: bool = False, actions: bool | None = None) -> None:
    """Configure the seedbot logger once, writing to stderr."""
    actions = in_actions() if actions is None else actions
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(ActionsFormatter("%(message)s") if actions else logging.Formatter("seedbot: %(message)s"))
    logger.handlers[:] = [handler]
    logger.propagate = False
    if verbose:
        logger.setLevel(logging.DEBUG)
    elif quiet:
        logger.setLevel(logging.WARNING)
    else:
        logger.setLevel(logging.INFO)


def add_mask(secret: str, *, actions: bool | None = None) -> None:
    """Ask the Actions runner to mask `secret` in every later log line."""
    actions = in_actions() if actions is None else actions
    if actions and secret:
        print(f"::add-mask::{secret}", file=sys.stdout, flush=True)


@contextlib.contextmanager
def group(title: str, *, actions: bool | None = None) -> Iterator[None]:
    """Fold the enclosed log lines into a collapsible group in Actions logs."""
    actions = in_actions() if actions is None else actions
    if actions:
        print(f"::group::{escape_data(title)}", file=sys.stderr, flush=True)
    try:
        yield
    finally:
        if actions:
            print("::endgroup::", file=sys.stderr, flush=True)
