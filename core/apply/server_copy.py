"""The restore done by the database server: every rule is a set-based statement.

When production's connection can read the crashed tables itself — SQLite files
(crashed ATTACHed to production's connection) or two databases on one MariaDB server
(the common case: the crashed dump loaded beside production) — every table with an
integer key is restored with a handful of set-based statements:

1. a **work table** per table holds each Friday row's fate: ``old_id``, ``new_id``,
   ``action`` (insert, link, skip, done) and why; it is filled with one
   ``INSERT … SELECT`` of Friday's ids past the boundary, joined to the journal so rows
   an earlier run restored are ``done``;
2. collisions (a production row holding a Friday row's unique value) and orphans (a
   snapshot-range parent production deleted) are multi-table ``UPDATE``s; skips then
   travel along references (cycles, self-references) until an ``UPDATE`` pass changes
   nothing;
3. new ids come from ``ROW_NUMBER()`` in id order, after production's and Friday's
   highest id; ids past production's highest are kept (see `restore`);
4. the rows are copied with one ``INSERT … SELECT`` per table that joins the work
   tables of every referenced table (``CASE`` picks the mapped id where a reference
   points past its parent's boundary), and the journal lines with another;
5. every written reference is checked with an anti-join before the commit.

Tables with any other key (pivots; string, date and UUID keys; a morph pivot's key of
references beside a type; other unique keys beside it; none at all) follow the same
way one step later: their Friday rows, found by the scan and spooled by the restore,
are staged in a work table of their own with a fate column and the key's journal
spelling (`journal.encode_template`: made by gapmend, its references left as holes
that SQL fills once mapped); orphans, unrestored parents and collisions on every key
as written are ``UPDATE``s, the rows go in with one ``INSERT … SELECT`` that maps their
references like step 4, and their journal and reference check are SQL too. A
reference held in a string column is read as the id it spells (`Dialect.held_id`) and
written back as a string. Tables without a primary key are staged the same way, their
whole row standing for the key.

When production's connection cannot name crashed's tables (another server, or no
``SELECT`` grant), Friday's rows past each boundary are first **staged**: copied in id
order, in chunks of multi-row INSERTs, into staging tables beside production's, which
then stand in for crashed's in every statement above.

Friday's **updates** take the same road: their rows are staged in a work table whose
fate starts as ``update`` (copied by the server, joining crashed's table with their keys,
where the key is one integer and crashed's tables are read in place; else read by key
from crashed in chunks, through Python); the orphan and unrestored-parent rules skip them, references past a
boundary are mapped in place from the parent's work table, and one ``UPDATE … FROM``
writes them, one ``INSERT … SELECT`` journals them (`UpdateRules.apply_updates`).

Memory is therefore flat in the size of the gap. The work tables, named
``gapmend_w<run>_<n>`` (``reflect`` ignores ``gapmend_*``), are created before the
transaction (DDL commits on MariaDB) and dropped afterwards; the rows in them are written
inside the restore's transaction and roll back with it. They are TEMPORARY where one
statement may name a TEMPORARY table twice, as a self-reference needs
(`Dialect.reopens_temporary`: SQLite, and MariaDB since 10.2; MySQL refuses), and
Friday's rows are not staged (InnoDB's temporary tablespace keeps its size until a
restart); else real tables. The plan runs the same rules on TEMPORARY work tables in its
read-only session (`preview`).
"""

from __future__ import annotations

import threading
from functools import cached_property
from typing import Callable, Sequence

from ..errors import GapmendError
from ..progress import check_cancel
from .natural_key_rules import NaturalKeyRules
from .reports import OnCollision
from .surrogate_rules import SurrogateRules
from .update_rules import UpdateRules
from .work_tables import WorkTables


class ServerCopy(WorkTables):
    """The set-based restore of `tables` (all integer-keyed, in write order) and of the
    staged tables beside them: one restore's work tables, and the three kinds of rules
    over them, each an object of its own holding these work tables."""

    @cached_property
    def surrogate_rules(self) -> SurrogateRules:
        """The integer-keyed tables' fates, ids and copies."""
        return SurrogateRules(self)

    @cached_property
    def natural_key_rules(self) -> NaturalKeyRules:
        """The staged rows of tables without an integer key: fates and copies."""
        return NaturalKeyRules(self)

    @cached_property
    def update_rules(self) -> UpdateRules:
        """Friday's updated rows."""
        return UpdateRules(self)

    def decide(self, collisions: OnCollision, orphans_null: bool, staged: Sequence[str] = (),
               cancel: threading.Event | None = None, advance: Callable[[int], None] = lambda n: None) -> dict[str, int]:
        """Every Friday row's fate, before anything is written: the integer-keyed tables'
        (`start`, `settle`), then the `staged` rows of the other tables (their rules read
        the integer-keyed parents' fates; the tables in write order, so a staged parent's
        skip reaches its staged children), then again the integer-keyed rows naming a
        staged row skipped, until nothing changes. `advance` hears two steps per table.
        Returns per table the rows a committed run restored already."""
        done = self.surrogate_rules.start(orphans_null, cancel, advance)
        changed: set[str] | None = None   # the first pass looks along every reference
        for _ in range(50):
            self.surrogate_rules.settle(collisions, changed, cancel)
            for name in staged:
                check_cancel(cancel)
                self.natural_key_rules.decide(name, orphans_null, collisions)
            changed = {name for name in self.tables if self.surrogate_rules.skip_for_staged_parents(name)}
            if not changed:
                return done
        raise GapmendError("skips kept changing after 50 passes: report this as a bug", "Restore failed")
