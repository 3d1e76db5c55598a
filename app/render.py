"""Plain-text rendering of the plan for the console (the wizard has its own widgets)."""

from __future__ import annotations

import io
import textwrap
from typing import Any

from gapmend.core import shown
from gapmend.core.inspect import cell_merge, picks, soft_deletes
from gapmend.core.plan.model import Decision, Plan, QueuedJob, RowClass
from gapmend.core.plan.selection import Selection
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

COLUMNS = [
    ("friday ins", RowClass.FRIDAY_INSERT),
    ("prod ins", RowClass.PRODUCTION_INSERT),
    ("fri upd", RowClass.FRIDAY_UPDATE),
    ("prod upd", RowClass.PRODUCTION_UPDATE),
    ("conflicts", RowClass.CONFLICT),
    ("mergeable", RowClass.MERGE),
    ("fri del", RowClass.FRIDAY_DELETE),
    ("prod del", RowClass.PRODUCTION_DELETE),
]


def short(value: Any, width: int | None = 24) -> str:
    return shown.cut(shown.value(value), width)


def render_plan(plan: Plan, detail: bool = True, wide: bool = False, width: int | None = None,
                color: bool = False) -> str:
    """The plan as text; conflicting values are cut at 60 characters unless `wide`.
    `width`: the terminal's (None: not a terminal, every table on one line); the counts
    are a table where it fits, else a block per table. `color`: decisions, conflicts and
    orphans in colour (a terminal that did not set NO_COLOR)."""
    lines = _summary(plan) + _counts(plan, width, color) + _notes(plan)
    if detail:
        lines += _references(plan) + _tables(plan, None if wide else 60)
    return "\n".join(_fitted(lines, width))


def _fitted(lines: list[str], width: int | None) -> list[str]:
    """`lines` wrapped at words to `width` (None: as they are), a wrapped line's rest
    indented under its start; a line in colour is Rich's, already fitted."""
    if width is None:
        return lines
    out: list[str] = []
    for line in lines:
        if len(line) <= width or "\x1b" in line:
            out.append(line)
            continue
        indent = " " * (len(line) - len(line.lstrip()) + 2)
        out.extend(textwrap.wrap(line, width, subsequent_indent=indent, break_on_hyphens=False) or [""])
    return out


def _summary(plan: Plan) -> list[str]:
    """The mode, the databases and their roles, and a line per table."""
    lines = [f"gapmend plan — mode: {plan.mode}; inspected in {plan.elapsed_s:.2f} s"]
    if not plan.mode.startswith("three-way"):
        lines.append("  without a snapshot nothing says which side changed which column: rows both sides may "
                     "have changed stay conflicts, none is merged by column")
    settled = sum(g.count(RowClass.MERGE) for g in plan.tables)
    if settled:
        rows = "1 row" if settled == 1 else f"{settled} rows"
        lines.append(f"  {rows} both sides changed, in different columns, {'keeps' if settled == 1 else 'keep'} "
                     "production's values (a row production changed is not updated); a cell merge would settle "
                     f"{'it' if settled == 1 else 'them'}: restore --merge-cells, "
                     "or `gapmend resolve TABLE [KEY...] --take merge`")
    for role, url in plan.connections.items():
        if url:
            lines.append(f"  {role:<10} {url}")
    lines.extend("  " + facts.line() for facts in plan.roles)
    lines.extend(f"  check the roles: {f.message} (confirm with `gapmend roles --confirm` once checked)"
                 for f in plan.role_findings)
    return lines


DECISION_STYLE = {Decision.APPROVE: "green", Decision.SKIP: "dim", Decision.PENDING: "bold yellow"}


def _counts(plan: Plan, width: int | None, color: bool) -> list[str]:
    """A line per table of the counts, through Rich: a table where `width` holds it (or
    anywhere when None), else a block per table."""
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, header_style="bold")
    for name, justify in [("table", "left"), ("key", "left"), ("boundary", "right"), ("conf", "left"),
                          *((n, "right") for n, _ in COLUMNS), ("collide", "right"), ("orphan", "right"),
                          ("ids taken", "right"), ("decision", "left")]:
        table.add_column(name, justify=justify, no_wrap=True)   # type: ignore[arg-type]
    for name in plan.order:
        g = plan.table(name)
        cells = [g.table, g.key_kind, "-" if g.boundary.value is None else str(g.boundary.value), g.boundary.confidence,
                 *(_n(g.count(cls), "red" if cls is RowClass.CONFLICT else None) for _, cls in COLUMNS),
                 _n(len(g.collisions)), _n(len(g.orphans), "red"), _n(g.ids_taken),
                 Text(g.decision.value, DECISION_STYLE.get(g.decision, ""))]
        table.add_row(*cells)
    natural = Console(width=10_000).measure(table).maximum
    if width is not None and natural > width:
        return ["", *_blocks(plan, width, color)]
    return ["", *_printed(table, natural if width is None else width, color)]


def _n(n: int, style: str | None = None) -> Text:
    return Text(str(n), style or "") if n and style else Text(str(n))


def _blocks(plan: Plan, width: int, color: bool) -> list[str]:
    """The counts for a narrow terminal: per table a line of what it is, then what each
    side did since the snapshot and what the restore meets, the zeros left out."""
    out = Text()
    for name in plan.order:
        g = plan.table(name)
        b = "-" if g.boundary.value is None else str(g.boundary.value)
        out.append(g.table, "bold")
        key = "no key" if g.key_kind == "none" else f"{g.key_kind} key"
        out.append(f"  {key}, boundary {b} ({g.boundary.confidence}) · ")
        out.append(g.decision.value, DECISION_STYLE.get(g.decision, ""))
        out.append("\n")
        friday = _said([("new", g.count(RowClass.FRIDAY_INSERT)), ("updated", g.count(RowClass.FRIDAY_UPDATE)),
                        ("deleted", g.count(RowClass.FRIDAY_DELETE))])
        production = _said([("new", g.count(RowClass.PRODUCTION_INSERT)), ("updated", g.count(RowClass.PRODUCTION_UPDATE)),
                            ("deleted", g.count(RowClass.PRODUCTION_DELETE))])
        meets = ", ".join(shown.plural(n, one, many) for n, one, many in (
            (g.count(RowClass.CONFLICT), "conflict", "conflicts"), (g.count(RowClass.MERGE), "mergeable row", None),
            (len(g.collisions), "collision", None), (len(g.orphans), "orphan", None),
            (g.ids_taken, "Friday id taken", "Friday ids taken")) if n)
        sides = " · ".join(part for part in (f"Friday {friday}" if friday else "",
                                             f"production {production}" if production else "") if part)
        out.append(f"  {sides or 'nothing since the snapshot'}\n")
        if meets:
            out.append(f"  {meets}\n", "red" if g.conflicts or g.orphans else "")
    return _printed(out, width, color)


def _said(counts: list[tuple[str, int]]) -> str:
    return ", ".join(f"{n} {what}" for what, n in counts if n)


def _printed(renderable: Any, width: int, color: bool) -> list[str]:
    """`renderable` as Rich prints it at `width`, in colour only when asked."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=width, force_terminal=color, no_color=not color, highlight=False,
                      color_system="standard" if color else None)
    console.print(renderable)
    return buffer.getvalue().rstrip("\n").split("\n")


def _notes(plan: Plan) -> list[str]:
    """What the table of counts does not say: restored rows, framework tables, queued
    jobs, soft deletes, pending decisions, the write order, cycles and triggers."""
    lines: list[str] = []
    restored = [(g.table, g.restored) for g in plan.tables if g.restored]
    if restored:
        lines.append("")
        lines.append("already restored by a committed gapmend run (the journal), not counted above: "
                     + ", ".join(f"{name} {n}" for name, n in restored))
    defaults = [g for g in plan.tables if g.default_reason and g.has_work]
    skipped = [g for g in defaults if g.decision is Decision.SKIP]
    if skipped:
        lines.append("")
        lines.append("Laravel's operational tables, skipped by default (`gapmend approve TABLE` to restore one):")
        lines.extend(f"  {g.table}: {g.default_reason}" for g in skipped)
    noted = [g for g in defaults if g.decision is not Decision.SKIP]
    if noted:
        lines.append("")
        lines.append("Laravel's and its packages' data tables, yours to approve or skip:")
        lines.extend(f"  {g.table}: {g.default_reason}" for g in noted)
    if plan.queued_jobs:
        lines.append("Friday's queued jobs (`gapmend jobs --pick ID` replays the chosen ones only, "
                     "`gapmend approve TABLE` all of them):")
    lines.extend(f"    {job_line(plan, job)}" for job in plan.queued_jobs)
    soft = [line for g in plan.tables for line in soft_deletes.lines(g.table, g.soft_deletes, g.soft_deleted_parents)]
    if soft:
        lines.append("")
        lines.append("soft deletes (deleted_at):")
        lines.extend(f"  {line}" for line in soft)
    lines += id_column_lines(plan)
    pending = [g.table for g in plan.tables if g.has_work and g.decision is Decision.PENDING]
    if pending:
        lines.append("")
        lines.append(f"pending ({len(pending)}): " + ", ".join(pending) + " — the restore writes approved tables "
                     "only: approve or skip each (`gapmend approve`/`skip`), or restore with --approve-pending")
    lines.append("")
    lines.append("write order: " + " → ".join(plan.order))
    for cycle in plan.cycles:
        lines.append("cycle: " + " ↔ ".join(cycle) + "  (ids are allocated first, then rows written)")
    for t in plan.triggers:
        lines.append(f"trigger {t.name}: {t.timing} {t.event} on {t.table}, {t.writes} — {t.action}")
    return lines


def id_column_lines(plan: Plan) -> list[str]:
    """The columns nobody declared that can carry ids the restore moves (`census`), each
    with its evidence and the proposal: the restore refuses until each is decided."""
    if not plan.id_columns:
        return []
    lines = ["", f"undecided columns that can carry ids the restore moves ({len(plan.id_columns)}; "
                 "the restore refuses until each is decided):"]
    for f in plan.id_columns:
        lines.append(f"  {f.id}: {f.evidence()}")
        lines.append(f"    proposed: {f.proposal()}  (`{f.command()}`)")
        lines.append(f"    or {'not a key' if f.unique else 'not a reference'}: `{f.reject_command()}`")
    lines.append("  take every proposal shown: `gapmend edges --accept-suggestions`")
    return lines


def _references(plan: Plan) -> list[str]:
    """Every reference with its evidence, and how the schemas differ."""
    lines = ["", "references:"]
    for e in plan.edges:
        mark = "" if e.confirmed else "  [implied: confirm or drop with `gapmend edges`]"
        lines.append(f"  {e.kind:<11} {e.id}  — {e.evidence}{mark}")
    for e in plan.payload_edges:
        mark = "" if e.confirmed else "  [inside a value: confirm or drop with `gapmend edges`]"
        lines.append(f"  {'payload':<11} {e.id}  — {e.evidence}; {e.sampled_said()}{mark}")
    if plan.unmatched_columns:
        lines.append("  *_id columns with no table to point at: " + ", ".join(plan.unmatched_columns))
    if plan.schema_findings:
        lines.append("")
        lines.append("schema differences:")
        lines.extend("  " + f for f in plan.schema_findings)
    return lines


def _tables(plan: Plan, width: int | None) -> list[str]:
    """Per table with something to say: the boundary's evidence, conflicts, merges,
    collisions and orphans."""
    lines: list[str] = []
    for g in (plan.table(n) for n in plan.order):
        extra = []
        extra.append(f"  boundary: {g.boundary.evidence} [{g.boundary.method}, {g.boundary.confidence}]")
        if g.boundary.unconfirmed:
            extra.append(f"  only estimated: check it, then confirm it with `gapmend boundary {g.table} {g.boundary.value}` "
                         "(or set the right id); the restore refuses the table until then")
        for c in g.conflicts[:10]:
            extra.append(f"  conflict {shown.key(c.key)}: {c.reason}")
            extra.extend(f"    {col}: snapshot {short(s, width)} | friday {short(f, width)} | production {short(p, width)}"
                         for col, s, f, p in c.values[:6])
            if c.merge is not None and c.merge.friday:
                extra.append(f"    a cell merge would write {cell_merge.describe(c.merge)}; the rest keep production's")
        for m in g.merges[:10]:
            extra.append(f"  both changed {shown.key(m.key)}, in different columns: production's row stands; "
                         f"a cell merge would write {cell_merge.describe(m)}")
        if g.count(RowClass.MERGE) or any(c.merge for c in g.conflicts):
            extra.append(f"  production's rows stand; instead: `gapmend resolve {g.table} [KEY...] --take friday|merge`")
        for c in g.collisions[:10]:
            held = ", ".join(f"{col}={short(v, width)}" for col, v in zip(c.unique_columns, c.value))
            extra.append(f"  collision: Friday row {shown.key(c.key)} has {held}, held by production row "
                         f"{shown.key(c.production_key)}")
        for o in g.orphans[:10]:
            extra.append(f"  orphan: Friday row {shown.key(o.key)} references {shown.value(o.parent_key)} via {o.edge}, "
                         "which production deleted")
        if len(extra) > 1 or g.has_work:
            lines.append("")
            lines.append(f"{g.table}:")
            lines.extend(extra)
    return lines


def render_selection(chosen: Selection) -> str:
    """What a restore is about to write and leave out, for its confirmation."""
    lines = ["writes: " + (", ".join(chosen.order) or "nothing")]
    if chosen.pulled_in:
        lines.append("pulled in as parents of approved tables: " + ", ".join(chosen.pulled_in))
    if chosen.approved_now:
        lines.append("pending, approved by --approve-pending: " + ", ".join(chosen.approved_now))
    lines.extend(f"left out: {name} ({why})" for name, why in chosen.left_out.items())
    return "\n".join(lines)


def job_line(plan: Plan, job: QueuedJob) -> str:
    """One of Friday's queued jobs: what it would do, and what the restore does with it."""
    models = ", ".join(job.models) or "no model"
    return (f"{job.table} {job.id}: {job.job}, naming {models}, due {job.available_at} — "
            f"{picks.fate(plan.table(job.table), job.id)}")
