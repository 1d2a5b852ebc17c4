"""The GitHub REST client: comments, commit statuses, check runs and files, with bounded retries.

Built on PyGithub. Idempotent requests (GET, PATCH, PUT, DELETE) are retried inside
urllib3 by `DeadlineRetry`; POST is never replayed there, because a POST that
timed out or returned a 5xx may still have landed. `GitHubClient` retries POSTs
itself and, for comments, looks for the comment again before each new attempt.

Every public call has one deadline (`deadline_s`) that covers both retry layers
and the lookups made between POST attempts. Once a call fails because no
connection could be opened, later calls make a single attempt each, so an
unreachable API costs one deadline per run rather than one per call.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any, Callable, Iterator, NamedTuple, TypeVar

import requests
from github import Auth, Github, GithubException
from github.IssueComment import IssueComment
from urllib3.exceptions import ConnectTimeoutError, MaxRetryError, ResponseError
from urllib3.util.retry import Retry

from seedbot.errors import CommentNotPosted, ConfigError, GitHubError
from seedbot.log import add_mask, logger

DEFAULT_API_URL = "https://api.github.com"
DEFAULT_DEADLINE_S = 300.0
STATUS_DESCRIPTION_MAX = 140  # GitHub rejects longer commit-status descriptions with HTTP 422
CHECK_RUN_TEXT_MAX = 65535  # maximum length of a check run's output.summary
STATUS_CONTEXT_PREFIX = "seedbot/"
RETRY_AFTER_MAX_S = 600  # a Retry-After above this is treated as this many seconds

# Methods that urllib3 may replay: replaying them cannot create a second resource.
# PUT on the contents API is safe because the blob SHA makes a replayed write fail with 409.
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "DELETE"})
RETRY_STATUSES = frozenset({403, 429, *range(500, 600)})

T = TypeVar("T")


class CommitState(str, Enum):
    """The `state` of a commit status."""

    PENDING = "pending"
    SUCCESS = "success"
    FAILURE = "failure"
    ERROR = "error"


class FoundComment(NamedTuple):
    """A bot's issue comment whose body starts with a hidden marker."""

    id: int
    body: str
    html_url: str


@dataclass(frozen=True, kw_only=True)
class PullInfo:
    """The fields of a pull request that a run needs, read from the API at run time."""

    number: int
    head_sha: str
    head_ref: str
    base_ref: str
    draft: bool
    state: str  # "open" or "closed"
    head_repo: str | None  # "owner/name"; None when the fork was deleted
    is_fork: bool


class FileConflict(GitHubError):
    """A contents-API write whose blob SHA no longer matches the file (HTTP 409 or 422)."""


def status_context(config_name: str) -> str:
    """Return the commit-status context for a config, `seedbot/<config name>`."""
    return STATUS_CONTEXT_PREFIX + config_name


def truncate(text: str, limit: int, *, suffix: str = "…") -> str:
    """Cut `text` to at most `limit` characters, ending with `suffix` when cut."""
    if len(text) <= limit:
        return text
    return text[: limit - len(suffix)] + suffix


class DeadlineRetry(Retry):
    """A urllib3 `Retry` that stops once retrying would pass a total time budget.

    PyGithub 2.x ships `github.GithubRetry`, which this class does not extend.
    GithubRetry adds POST to the replayed methods, so a replayed comment POST can post
    the comment twice. It also has no bound on the total time spent retrying, and it
    sleeps through `time.sleep`, which tests cannot replace.

    This class retries 5xx and 429 with exponential backoff, and 403 only when GitHub
    sends `Retry-After` (a secondary rate limit). A 403 without it is a missing
    permission and is returned at once. When retries run out, `raise_on_status=False`
    makes urllib3 return the last response, so PyGithub raises a `GithubException`
    that carries the real HTTP status.
    """

    def __init__(
        self,
        *,
        deadline_s: float = DEFAULT_DEADLINE_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        started: float | None = None,
        remaining_s: Callable[[], float | None] | None = None,
        **kwargs: Any,
    ) -> None:
        """`remaining_s`, when given, returns the seconds left to the current call's
        deadline (None: no call deadline), which replaces `deadline_s` counted from
        the first failure."""
        self.deadline_s = deadline_s
        self.sleep_fn = sleep
        self.clock = clock
        self.started = started
        self.remaining_s = remaining_s
        super().__init__(**kwargs)

    @classmethod
    def for_github(
        cls,
        *,
        deadline_s: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        backoff_factor: float = 1.0,
        remaining_s: Callable[[], float | None] | None = None,
    ) -> "DeadlineRetry":
        return cls(
            deadline_s=deadline_s,
            sleep=sleep,
            clock=clock,
            remaining_s=remaining_s,
            total=20,  # the deadline usually ends retrying first
            backoff_factor=backoff_factor,
            backoff_max=30,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=IDEMPOTENT_METHODS,
            respect_retry_after_header=True,
            raise_on_status=False,
        )

    def new(self, **kw: Any) -> "DeadlineRetry":
        kw.update(
            deadline_s=self.deadline_s,
            sleep=self.sleep_fn,
            clock=self.clock,
            started=self.started,
            remaining_s=self.remaining_s,
        )
        return super().new(**kw)  # type: ignore[return-value]

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        # NOTE: a primary rate limit (403 with x-ratelimit-remaining: 0 and no Retry-After)
        # is not waited out, because its reset can be up to an hour away.
        if status_code == 403 and not has_retry_after:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def planned_wait(self, response: Any = None) -> float:
        """Return the seconds `sleep` will wait before the next attempt."""
        if response is not None and self.respect_retry_after_header:
            retry_after = self.get_retry_after(response)
            if retry_after:
                return min(retry_after, RETRY_AFTER_MAX_S)
        return self.get_backoff_time()

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):  # type: ignore[no-untyped-def,override]
        started = self.clock() if self.started is None else self.started
        new_retry = super().increment(method, url, response, error, _pool, _stacktrace)
        new_retry.started = started
        wait = new_retry.planned_wait(response)
        remaining = self.remaining_s() if self.remaining_s is not None else None
        if remaining is None:
            remaining = self.deadline_s - (self.clock() - started)
        if wait > remaining:
            reason = error or ResponseError(f"retry deadline of {self.deadline_s:g} s reached")
            raise MaxRetryError(_pool, url, reason) from reason  # type: ignore[arg-type]
        status = response.status if response is not None else type(error).__name__
        logger.info("retrying %s %s in %.1f s after %s", method, url, wait, status)
        return new_retry

    def sleep(self, response: Any = None) -> None:
        wait = self.planned_wait(response)
        if wait > 0:
            self.sleep_fn(wait)


class GitHubClient:
    """One repository's REST API, as the bot uses it."""

    def __init__(
        self,
        token: str,
        repository: str,
        api_url: str = DEFAULT_API_URL,
        *,
        deadline_s: float = DEFAULT_DEADLINE_S,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        throttle: bool = True,
        backoff_factor: float = 1.0,
        timeout_s: int = 30,
        per_page: int = 100,
    ) -> None:
        """Build the client.

        `deadline_s` bounds the time one call spends retrying, across urllib3's
        retries, the POST retries and the duplicate-comment lookups between them.
        NOTE: a request already on the wire when the deadline passes can still
        take up to `timeout_s` more. `sleep` and `clock`
        are replaceable so tests can record waits without waiting. `throttle=False`
        turns off PyGithub's client-side spacing of requests (0.25 s between any
        two, 1 s between writes), which only tests against a local server should do.
        `per_page` is the page size of listed comments (GitHub allows at most 100).
        """
        owner, _, name = repository.partition("/")
        if not owner or not name or "/" in name:
            raise ConfigError("repository", f"expected 'owner/name', got {repository!r}")
        if not token:
            raise ConfigError("token", "is empty; pass the workflow's GITHUB_TOKEN or an app token")
        add_mask(token)
        self.repository = repository
        self.api_url = api_url.rstrip("/")
        self.deadline_s = deadline_s
        self._sleep = sleep
        self._clock = clock
        # The absolute clock time at which the current public call stops retrying.
        self._call_deadline: float | None = None
        # Why an earlier call could not connect; while set, each call makes one attempt.
        self._unreachable: str | None = None
        self._retry = DeadlineRetry.for_github(
            deadline_s=deadline_s,
            sleep=sleep,
            clock=clock,
            backoff_factor=backoff_factor,
            remaining_s=self._remaining_s,
        )
        throttling: dict[str, Any] = {}
        if not throttle:
            throttling = {"seconds_between_requests": 0, "seconds_between_writes": 0}
        self._github = Github(
            base_url=self.api_url,
            auth=Auth.Token(token),
            retry=self._retry,
            per_page=per_page,
            timeout=timeout_s,
            lazy=True,  # objects are built from their URL; attribute access fetches them
            **throttling,
        )
        self._repo = self._github.get_repo(repository)
        self._default_branch: str | None = None

    def __repr__(self) -> str:
        return f"GitHubClient(repository={self.repository!r}, api_url={self.api_url!r})"

    def close(self) -> None:
        self._github.close()

    # Comments

    def find_comment(self, pr_number: int, marker: str) -> FoundComment | None:
        """Search every page of the PR's comments for a bot's comment that starts with `marker`; return the oldest."""
        with self._errors(f"listing the comments of PR #{pr_number}"):
            comment = self._find_comment(pr_number, marker)
        if comment is None:
            return None
        return FoundComment(comment.id, comment.body, comment.html_url)

    def upsert_comment(self, pr_number: int, marker: str, body: str) -> str:
        """Edit the PR comment that carries `marker`, or create it; return its html_url.

        Only a comment by a bot account (`user.type == "Bot"`) whose body starts with
        `marker` is edited, so a person's comment that quotes the marker is never
        overwritten. A body that has the marker further down gets it moved to the
        first line. Raises CommentNotPosted. A create that fails with a 5xx or a lost
        connection is retried only after a new search finds no comment with the
        marker, so a POST that landed despite the error never leaves a second comment.
        """
        if marker not in body:
            raise ValueError(f"comment body does not contain its marker {marker!r}")
        if not body.startswith(marker):
            body = marker + "\n" + body.replace(marker, "", 1)
        action = f"posting the seedbot comment on PR #{pr_number}"
        with self._errors(action, CommentNotPosted):
            existing = self._find_comment(pr_number, marker)
            if existing is not None:
                logger.info("updating existing comment %s on PR #%s", existing.id, pr_number)
                existing.edit(body)
                return existing.html_url

            def find_landed() -> str | None:
                landed = self._find_comment(pr_number, marker)
                if landed is None:
                    return None
                logger.info("comment %s on PR #%s landed despite the error; not posting again", landed.id, pr_number)
                return landed.html_url

            issue = self._repo.get_issue(pr_number)
            created = self._post(action, lambda: issue.create_comment(body).html_url, before_retry=find_landed)
            logger.info("created comment on PR #%s: %s", pr_number, created)
            return created

    def create_comment(self, pr_number: int, body: str) -> str:
        """Post a plain reply on the PR; return its html_url. Raises CommentNotPosted."""
        action = f"replying on PR #{pr_number}"
        with self._errors(action, CommentNotPosted):

            def find_landed() -> str | None:
                landed = self._find_comment(pr_number, body, exact=True)
                return None if landed is None else landed.html_url

            issue = self._repo.get_issue(pr_number)
            return self._post(action, lambda: issue.create_comment(body).html_url, before_retry=find_landed)

    def add_reaction(self, comment_id: int, content: str) -> None:
        """Add a reaction (`eyes`, `rocket`, `-1`, ...) to an issue comment."""
        with self._errors(f"adding reaction {content!r} to comment {comment_id}"):
            # GitHub returns the existing reaction for a repeated one, so replaying is safe.
            comment = IssueComment(self._repo.requester, url=f"{self._repo.url}/issues/comments/{comment_id}")
            self._post(f"reacting to comment {comment_id}", lambda: comment.create_reaction(content))

    # Statuses and check runs

    def set_status(
        self,
        sha: str,
        state: CommitState,
        context: str,
        description: str,
        target_url: str | None = None,
    ) -> None:
        """Set a commit status; `description` is cut to GitHub's 140 characters."""
        description = truncate(description, STATUS_DESCRIPTION_MAX)
        state = CommitState(state)
        logger.info("setting status %s=%s on %s", context, state.value, sha)
        optional = {"target_url": target_url} if target_url else {}
        with self._errors(f"setting commit status {context} on {sha}"):
            commit = self._repo.get_commit(sha)
            # A replayed status POST only repeats the same state, which is harmless.
            self._post(
                f"setting status {context}",
                lambda: commit.create_status(state=state.value, description=description, context=context, **optional),
            )

    def create_check_run(
        self,
        sha: str,
        name: str,
        conclusion: str,
        title: str,
        summary: str,
        details_url: str | None = None,
    ) -> bool:
        """Create a completed check run; return False when the token may not create one.

        A token without `checks: write`, or a personal access token (only GitHub Apps,
        GITHUB_TOKEN included, may create check runs), gets 403 or 404. That is logged,
        and the commit status alone carries the verdict.
        """
        output = {"title": title, "summary": truncate(summary, CHECK_RUN_TEXT_MAX)}
        optional = {"details_url": details_url} if details_url else {}
        try:
            with self._errors(f"creating check run {name!r} on {sha}"):
                self._post(
                    f"creating check run {name!r}",
                    lambda: self._repo.create_check_run(
                        name=name, head_sha=sha, status="completed", conclusion=conclusion, output=output, **optional
                    ),
                )
        except GitHubError as error:
            cause = error.__cause__
            refused = isinstance(cause, GithubException) and cause.status in (403, 404)
            if refused and _header(cause, "Retry-After") is None:
                logger.info(
                    "token cannot create check runs (HTTP %s); the commit status carries the verdict alone",
                    cause.status,
                )
                return False
            raise
        return True

    # Repository, pull requests, permissions

    def default_branch(self) -> str:
        """Return the repository's default branch (cached after the first call)."""
        if self._default_branch is None:
            with self._errors(f"reading repository {self.repository}"):
                self._default_branch = self._repo.default_branch
        return self._default_branch

    def get_pull(self, number: int) -> PullInfo:
        """Read PR `number` now, so the head SHA is current rather than the event's."""
        with self._errors(f"reading PR #{number}"):
            pull = self._repo.get_pull(number)
            head_repo = pull.head.repo.full_name if pull.head.repo is not None else None
            return PullInfo(
                number=pull.number,
                head_sha=pull.head.sha,
                head_ref=pull.head.ref,
                base_ref=pull.base.ref,
                draft=bool(pull.draft),
                state=pull.state,
                head_repo=head_repo,
                is_fork=head_repo is None or head_repo.lower() != self.repository.lower(),
            )

    def permission(self, username: str) -> str:
        """Return `username`'s permission: admin, maintain, write, triage, read or none."""
        with self._errors(f"reading the permission of {username!r}"):
            try:
                return self._repo.get_collaborator_permission(username)
            except GithubException as error:
                if error.status == 404:
                    return "none"
                raise

    # Files

    def read_file(self, path: str, ref: str) -> str | None:
        """Return the UTF-8 text of `path` at `ref`, or None when it does not exist."""
        found = self.read_file_with_sha(path, ref)
        return None if found is None else found[0]

    def read_file_with_sha(self, path: str, ref: str) -> tuple[str, str] | None:
        """Return (text, blob SHA) of `path` at `ref`, or None when the file or ref does not exist."""
        with self._errors(f"reading {path} at {ref}"):
            try:
                contents = self._repo.get_contents(path, ref=ref)
            except GithubException as error:
                if error.status == 404:
                    return None
                raise
            if isinstance(contents, list):
                raise GitHubError(f"reading {path} at {ref} failed: it is a directory; expected a file")
            return contents.decoded_content.decode("utf-8"), contents.sha

    def write_file(self, path: str, text: str, *, message: str, branch: str, sha: str | None) -> str:
        """Create (`sha=None`) or replace `path` on `branch`; return the new blob SHA.

        Raises FileConflict when `sha` is no longer the file's blob SHA, or when the
        file appeared although `sha` is None.
        """
        with self._errors(f"writing {path} on branch {branch}"):
            try:
                if sha is None:
                    result = self._repo.create_file(path, message, text, branch=branch)
                else:
                    result = self._repo.update_file(path, message, text, sha, branch=branch)
            except GithubException as error:
                if error.status == 409 or (error.status == 422 and "sha" in _message(error).lower()):
                    raise FileConflict(
                        f"writing {path} on branch {branch}: the file changed since it was read "
                        f"(HTTP {error.status}: {_message(error)}); reread it and retry"
                    ) from error
                raise
            return result["content"].sha

    def branch_head(self, branch: str) -> str | None:
        """Return the commit SHA at the tip of `branch`, or None when the branch does not exist."""
        with self._errors(f"reading branch {branch}"):
            try:
                return self._repo.get_git_ref(f"heads/{branch}").object.sha
            except GithubException as error:
                if error.status == 404:
                    return None
                raise

    def create_branch(self, branch: str, sha: str) -> bool:
        """Create `branch` at commit `sha`; return False when it already exists."""
        with self._errors(f"creating branch {branch}"):
            try:
                self._post(f"creating branch {branch}", lambda: self._repo.create_git_ref(f"refs/heads/{branch}", sha))
            except GithubException as error:
                if error.status == 422 and "already exists" in _message(error):
                    return False
                raise
        logger.info("created branch %s at %s", branch, sha)
        return True

    # Internals

    def _find_comment(self, pr_number: int, needle: str, *, exact: bool = False) -> IssueComment | None:
        """Return the oldest bot comment whose body starts with `needle` (equals it, with `exact`).

        People's comments never match, even when they quote the marker. So do bot
        comments that contain it further down, such as a failed seed's stderr that
        printed another config's marker.
        """
        matches = []
        # PaginatedList follows the Link rel="next" header, so this reads every page.
        for comment in self._repo.get_issue(pr_number).get_comments():
            body = comment.body or ""
            found = (body == needle) if exact else body.startswith(needle)
            if found and _is_bot(comment):
                matches.append(comment)
        if len(matches) > 1:
            ids = ", ".join(str(comment.id) for comment in matches)
            logger.warning("PR #%s has %d comments with the same marker (%s); using the oldest", pr_number, len(matches), ids)
        return matches[0] if matches else None

    def _post(self, action: str, post: Callable[[], T], *, before_retry: Callable[[], T | None] | None = None) -> T:
        """Run a POST, retrying 5xx, rate limits and lost connections until the deadline.

        `before_retry` runs before every new attempt; a value other than None means
        the earlier attempt landed, and that value is returned without posting again.
        """
        attempt = 0
        while True:
            try:
                return post()
            except (GithubException, requests.ConnectionError, requests.Timeout) as error:
                wait = self._post_retry_wait(error, attempt)
                remaining = self._remaining_s()
                if wait is None or wait > (self.deadline_s if remaining is None else remaining):
                    raise
                logger.info("%s failed (%s); retrying in %.1f s", action, _describe(error), wait)
                self._sleep(wait)
                attempt += 1
            if before_retry is not None:
                landed = before_retry()
                if landed is not None:
                    return landed

    def _post_retry_wait(self, error: Exception, attempt: int) -> float | None:
        backoff = min(self._retry.backoff_factor * 2**attempt, self._retry.backoff_max)
        if not isinstance(error, GithubException):
            return backoff  # connection error or timeout
        retry_after = _header(error, "Retry-After")
        if error.status in (403, 429) and retry_after is not None:
            try:
                return min(float(retry_after), RETRY_AFTER_MAX_S)
            except ValueError:
                return backoff
        if error.status == 429 or error.status >= 500:
            return backoff
        return None

    def _remaining_s(self) -> float | None:
        """Return the seconds left to the current call's deadline; negative means no retry at all."""
        if self._call_deadline is None:
            return None
        if self._unreachable is not None:
            return -1.0
        return self._call_deadline - self._clock()

    @contextlib.contextmanager
    def _errors(self, action: str, error_type: type[GitHubError] = GitHubError) -> Iterator[None]:
        """Run one public call under its deadline; turn PyGithub and connection failures into `error_type`.

        A nested use (a lookup inside an upsert) shares the outer call's deadline.
        """
        outermost = self._call_deadline is None
        if outermost:
            self._call_deadline = self._clock() + self.deadline_s
        try:
            yield
            if outermost and self._unreachable is not None:
                logger.info("the GitHub API at %s responds again", self.api_url)
                self._unreachable = None
        except GitHubError:
            raise
        except GithubException as error:
            if self._unreachable is not None:
                logger.info("the GitHub API at %s responds again", self.api_url)
                self._unreachable = None  # an HTTP response, even an error, means the server is reachable
            raise error_type(f"{action} failed: HTTP {error.status}: {_message(error)}. {self._hint(error)}") from error
        except requests.RequestException as error:
            if self._unreachable is not None:
                raise error_type(
                    f"{action} failed: the GitHub API at {self.api_url} is still unreachable ({error}). "
                    f"An earlier call could not connect for {self.deadline_s:g} s, so this call tried once. "
                    "Check that the runner can reach the API (GITHUB_API_URL), then rerun the job"
                ) from error
            if _is_connect_failure(error):
                self._unreachable = str(error)
                logger.warning("cannot connect to the GitHub API at %s; later calls in this run try once each", self.api_url)
            raise error_type(
                f"{action} failed: no usable response from {self.api_url} ({error}). "
                f"Check that the runner can reach the API (GITHUB_API_URL), then rerun the job"
            ) from error
        finally:
            if outermost:
                self._call_deadline = None

    def _hint(self, error: GithubException) -> str:
        status = error.status
        if status == 401:
            return "The token was rejected; check the `token` input and that it has not expired"
        if status in (403, 429) and (_header(error, "Retry-After") is not None or "rate limit" in _message(error).lower()):
            return f"GitHub rate-limited the token (retries stop after {self.deadline_s:g} s); rerun the job later"
        if status == 403:
            return (
                "The token lacks a permission for this call; grant it in the workflow's `permissions:` block "
                "(contents, pull-requests, issues, statuses, checks); a pull request from a fork gets a read-only token"
            )
        if status == 404:
            return f"Check that {self.repository} and the requested object exist and that the token can read them"
        if status >= 500:
            return f"GitHub kept failing for {self.deadline_s:g} s of retries; rerun the job later"
        return "GitHub rejected the request; the message above names the invalid field"


def _message(error: GithubException) -> str:
    data = error.data
    if isinstance(data, dict) and data.get("message"):
        return str(data["message"])
    return str(data) if data else "no message"


def _header(error: GithubException, name: str) -> str | None:
    headers = error.headers or {}
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _is_bot(comment: IssueComment) -> bool:
    """Return whether a bot account wrote the comment: `github-actions[bot]` or a GitHub App's `<app>[bot]`."""
    user = comment.user
    return user is not None and user.type == "Bot"


def _is_connect_failure(error: Exception) -> bool:
    """Return whether `error` means no connection could be opened (refused, unresolvable host, connect timeout)."""
    if isinstance(error, requests.ConnectTimeout):
        return True
    cause = error.args[0] if error.args else None
    reason = getattr(cause, "reason", None)
    return isinstance(reason, ConnectTimeoutError)  # NewConnectionError is a subclass in urllib3 2.x


def _describe(error: Exception) -> str:
    if isinstance(error, GithubException):
        return f"HTTP {error.status}"
    return type(error).__name__
