"""Laravel's operational tables, and what a restore should do with each by default.

Restored as plain data they hurt real users: a Friday session whose payload names user
201 logs a browser in as the production user who holds id 201 now; a queued job naming
`App\\Models\\User` 201 notifies the wrong person when the workers start (step 14); a
stale cache entry serves Friday's page. Each table is known by its name *and* the
columns Laravel's migration gives it (an application's own `jobs` table of job ads is
data, not a queue), and gets a default the plan shows with its reason. The operator can
change every default per table (`gapmend approve sessions`), except `migrations`: its
rows say which migrations ran, and Friday's would tell artisan that ones ran which did
not (or that they ran twice).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import GapmendError
from ..plan.model import Decision


@dataclass(frozen=True)
class Default:
    decision: Decision
    reason: str
    fixed: bool = False        # the operator cannot approve it


@dataclass(frozen=True)
class _Rule:
    pattern: str                        # table name, fnmatch-style
    columns: frozenset[str]             # columns Laravel's migration creates (a subset must match)
    default: Default


def _rule(pattern: str, columns: str, reason: str, fixed: bool = False,
          decision: Decision = Decision.SKIP) -> _Rule:
    return _Rule(pattern, frozenset(columns.split()), Default(decision, reason, fixed))


def _note(pattern: str, columns: str, reason: str) -> _Rule:
    """A framework table that is the users' data: left for the operator to decide
    (pending), with what to know before approving it."""
    return _rule(pattern, columns, reason, decision=Decision.PENDING)


RULES: tuple[_Rule, ...] = (
    _rule("migrations", "migration batch",
          "Laravel's record of the migrations that ran: Friday's rows would tell artisan that migrations ran "
          "which did not, or twice; never restored", fixed=True),
    _rule("sessions", "payload last_activity",
          "Laravel's sessions: they expire, and a Friday session names its user by id inside the payload, so a "
          "restored one could log a browser in as the production user who holds that id now"),
    _rule("cache", "key value expiration", "Laravel's cache: rebuilt on demand; a Friday entry would serve stale data"),
    _rule("cache_locks", "key owner expiration", "Laravel's cache locks: held by processes that are gone"),
    _rule("password_resets", "email token", "password reset tokens: they expire, and restored ones would open old "
          "reset links again"),
    _rule("password_reset_tokens", "email token", "password reset tokens: they expire, and restored ones would "
          "open old reset links again"),
    _rule("jobs", "queue payload attempts", "Laravel's queue: a Friday job names models by id inside its serialized "
          "payload, and replayed when the workers start (step 14) it would act on the production rows that hold "
          "those ids now; approve the table only after reading its jobs"),
    _rule("job_batches", "total_jobs pending_jobs", "Laravel's job batches: they belong to the queued jobs, which "
          "are not restored by default"),
    _rule("failed_jobs", "payload exception", "Laravel's failed jobs: kept for retrying, and a retried Friday job "
          "would act on the production rows that hold its models' ids now"),
    _rule("telescope_*", "", "Laravel Telescope's debugging records: not application data"),
    _rule("pulse_*", "", "Laravel Pulse's metrics: not application data"),
    _note("notifications", "notifiable_type notifiable_id data read_at", "Laravel's database notifications: the "
          "users' own; the notifiable is remapped, and the ids inside `data` once their paths are confirmed "
          "(`gapmend edges`): read them before approving"),
    _note("personal_access_tokens", "tokenable_type tokenable_id token", "Sanctum's API tokens: a Friday token is "
          "in a client's hands and works again once restored (its owner remapped); skip the table to make those "
          "clients sign in again instead"),
    _note("activity_log", "log_name subject_type causer_type properties", "spatie's activity log: history; subject "
          "and causer are remapped, the ids inside `properties` once their paths are confirmed (`gapmend edges`)"),
    _note("media", "model_type model_id disk file_name", "spatie's media library: each row names a file on a disk "
          "gapmend does not restore: check Friday's files are there before approving"),
)


def default_for(table: str, columns: Iterable[str]) -> Default | None:
    """gapmend's default for `table` (with these columns) when it is one of Laravel's
    operational tables."""
    names = set(columns)
    for rule in RULES:
        if fnmatch.fnmatchcase(table, rule.pattern) and rule.columns <= names:
            return rule.default
    return None


def decide(table: str, columns: Iterable[str], operator: str | None) -> tuple[Decision, Default | None]:
    """A table's decision and, when it is gapmend's default rather than the operator's
    word, that default (a skip, or a pending table's note). A fixed default
    (`migrations`) wins over the operator."""
    default = default_for(table, columns)
    if default is not None and (default.fixed or operator is None):
        return default.decision, default
    return Decision(operator or Decision.PENDING.value), None


def fixed_reason(table: str, columns: Iterable[str]) -> str | None:
    """Why the operator cannot approve `table`, if it has a fixed default."""
    default = default_for(table, columns)
    return default.reason if default is not None and default.fixed else None


def require_approvable(table: str, fixed: str | None) -> None:
    """`fixed`: `fixed_reason`, or the plan's (`TableGap.default_fixed`) reason."""
    if fixed is not None:
        raise FrameworkError(f"{table} cannot be approved: {fixed}")


class FrameworkError(GapmendError):
    exit_code = 2
