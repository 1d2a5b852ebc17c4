"""Entry point of the seedbot Docker action.

Wires the real GitHub client and baseline store into `seedbot.action.run`, and
turns every failure into an `::error::` line, a job-summary entry, a `verdict`
output of `error` and an exit code: 2 for invalid input, 1 for other failures.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import traceback
from pathlib import Path
from typing import Mapping
from urllib.parse import urlsplit

# The image copies the repository to /app; running from a checkout works the same way.
sys.path.insert(0, str(Path(__file__).resolve().parent))

from seedbot.action import ActionSettings, append_summary, make_store, run, write_outputs  # noqa: E402
from seedbot.errors import SeedbotError  # noqa: E402
from seedbot.github import GitHubClient  # noqa: E402
from seedbot.log import escape_data, logger, setup_logging  # noqa: E402


def main(environ: Mapping[str, str] = os.environ) -> int:
    setup_logging(actions=True)
    summary_path = Path(environ["GITHUB_STEP_SUMMARY"]) if environ.get("GITHUB_STEP_SUMMARY") else None
    output_path = Path(environ["GITHUB_OUTPUT"]) if environ.get("GITHUB_OUTPUT") else None
    try:
        settings = ActionSettings.from_environ(environ)
        # GitHubClient masks the token before its first request, so it is masked once.
        client = GitHubClient(settings.token, settings.repository, settings.api_url, throttle=not _is_loopback(settings.api_url))
        try:
            return run(settings, client=client, store=make_store(settings, client))
        finally:
            client.close()
    except SeedbotError as error:
        _report_failure(str(error), summary_path, output_path)
        return error.exit_code
    except Exception as error:  # a bug: keep the traceback in the log
        traceback.print_exc(file=sys.stderr)
        _report_failure(f"unexpected {type(error).__name__}: {error}", summary_path, output_path)
        return 1


def _is_loopback(url: str) -> bool:
    """Return whether the API is on this machine (a local fake or proxy).

    PyGithub 2.10 spaces requests (0.25 s apart, writes 1 s apart) to respect GitHub's
    secondary rate limits. A server on loopback is not GitHub, so the spacing is off there.
    """
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _report_failure(message: str, summary_path: Path | None, output_path: Path | None) -> None:
    print(f"::error title=seedbot::{escape_data(message)}", flush=True)
    logger.debug("failure reported: %s", message)
    try:
        append_summary(summary_path, f"### seedbot failed\n\n````text\n{message}\n````")
        write_outputs(output_path, {"verdict": "error"})
    except OSError as error:
        print(f"::warning::cannot write the job summary or outputs: {escape_data(str(error))}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
