"""A Laravel-like trio of databases (snapshot, crashed, production) with a known gap.

Used by `gapmend demo`, by the tests and by the benchmark. The builder applies a list of
operations to each side and records in a `Ledger` what each row is *because of the
operations* (not by comparing data), so tests can hold the gap inspection against the
truth. Works on any SQLAlchemy engine (SQLite files, MariaDB databases).

The schema has what makes restores hard: a users/teams cycle (one declared FK, one
implied by naming), comments with a self-reference, a pivot with a composite key,
polymorphic images (class names) and taggables (a morph-map alias), a natural-key
table and a table without a primary key.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterable

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    insert,
    update,
)

from .private_files import write_private

ENV_NAME = "demo.env"   # the demo's env file, in its folder
SNAPSHOT_AT = datetime(2026, 11, 19, 23, 0, 0)
FRIDAY = SNAPSHOT_AT + timedelta(hours=10)        # Friday's writes, before the crash
RESTORED = SNAPSHOT_AT + timedelta(days=1, hours=6)  # production live again from the snapshot


def demo_metadata() -> MetaData:
    md = MetaData()
    Table(
        "users", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(100), nullable=False),
        Column("email", String(190), nullable=False),
        Column("current_team_id", Integer, nullable=True),
        Column("created_at", DateTime), Column("updated_at", DateTime),
        UniqueConstraint("email", name="users_email_unique"),
        # Jetstream-style cycle: users -> teams (declared), teams -> users (implied by name).
        ForeignKeyConstraint(["current_team_id"], ["teams.id"], name="users_current_team_fk", use_alter=True),
    )
    Table(
        "teams", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("user_id", Integer, nullable=False),
        Column("name", String(100), nullable=False),
        Column("created_at", DateTime), Column("updated_at", DateTime),
    )
    Table(
        "posts", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("user_id", Integer, ForeignKey("users.id", name="posts_user_fk"), nullable=False),
        Column("title", String(200), nullable=False),
        Column("body", Text),
        Column("created_at", DateTime), Column("updated_at", DateTime),
    )
    Table(
        "comments", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("post_id", Integer, ForeignKey("posts.id", name="comments_post_fk"), nullable=False),
        Column("user_id", Integer, nullable=False),
        Column("parent_id", Integer, nullable=True),
        Column("body", Text),
        Column("created_at", DateTime), Column("updated_at", DateTime),
    )
    Table(
        "tags", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("name", String(100), nullable=False),
        Column("created_at", DateTime), Column("updated_at", DateTime),
        UniqueConstraint("name", name="tags_name_unique"),
    )
    Table(
        "post_tag", md,
        Column("post_id", Integer, ForeignKey("posts.id", name="post_tag_post_fk"), primary_key=True, autoincrement=False),
        Column("tag_id", Integer, ForeignKey("tags.id", name="post_tag_tag_fk"), primary_key=True, autoincrement=False),
    )
    Table(
        "images", md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("imageable_type", String(100), nullable=False),
        Column("imageable_id", Integer, nullable=False),
        Column("url", String(255), nullable=False),
        Column("created_at", DateTime), Column("updated_at", DateTime),
    )
    Table(
        "taggables", md,
        Column("tag_id", Integer, primary_key=True, autoincrement=False),
        Column("taggable_type", String(100), primary_key=True),
        Column("taggable_id", Integer, primary_key=True, autoincrement=False),
    )
    Table(
        "settings", md,
        Column("key", String(100), primary_key=True),
        Column("value", String(255)),
        Column("created_at", DateTime), Column("updated_at", DateTime),
    )
    Table(
        "activity_log", md,
        Column("user_id", Integer, nullable=True),
        Column("action", String(100), nullable=False),
        Column("created_at", DateTime),
    )
    return md


# Classes a row can end up in (the gap inspection's vocabulary).
FRIDAY_INSERT = "friday_insert"
PRODUCTION_INSERT = "production_insert"
FRIDAY_UPDATE = "friday_update"
PRODUCTION_UPDATE = "production_update"
FRIDAY_DELETE = "friday_delete"
PRODUCTION_DELETE = "production_delete"
CONFLICT = "conflict"
CONVERGED = "converged"
MERGE = "merge"


@dataclass
class Ledger:
    """What each changed row is, by construction. Keys are tuples of the identity columns,
    prefixed by side for inserts (("C", 101) is Friday's row 101, ("P", 101) production's)."""

    classes: dict[str, dict[tuple[Any, ...], str]] = field(default_factory=lambda: defaultdict(dict))
    collisions: dict[str, set[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(set))
    orphans: dict[str, set[tuple[Any, ...]]] = field(default_factory=lambda: defaultdict(set))
    boundaries: dict[str, int] = field(default_factory=dict)

    def mark(self, table: str, key: tuple[Any, ...], cls: str) -> None:
        self.classes[table][key] = cls


@dataclass
class _Side:
    engine: Engine
    md: MetaData

    def insert(self, table: str, rows: list[dict[str, Any]]) -> None:
        if rows:
            with self.engine.begin() as conn:
                for start in range(0, len(rows), 2000):
                    conn.execute(insert(self.md.tables[table]), rows[start : start + 2000])

    def update(self, table: str, where: dict[str, Any], values: dict[str, Any]) -> None:
        t = self.md.tables[table]
        with self.engine.begin() as conn:
            conn.execute(update(t).where(*(t.c[k] == v for k, v in where.items())).values(**values))

    def delete(self, table: str, where: dict[str, Any]) -> None:
        t = self.md.tables[table]
        with self.engine.begin() as conn:
            conn.execute(delete(t).where(*(t.c[k] == v for k, v in where.items())))


def build_trio(
    crashed: Engine,
    production: Engine,
    snapshot: Engine | None = None,
    *,
    users: int = 40,
    posts_per_user: int = 3,
    gap: float = 0.1,
    seed: int = 7,
) -> Ledger:
    """Create the schema on each engine, load the same snapshot, then write Friday's
    operations to `crashed` and production's to `production`. Returns the truth."""
    md = demo_metadata()
    rng = random.Random(seed)
    engines = [e for e in (snapshot, crashed, production) if e is not None]
    for e in engines:
        md.create_all(e)
    base = _snapshot_rows(rng, users, posts_per_user)
    for e in engines:
        side = _Side(e, md)
        for table in ("teams", "users", "posts", "comments", "tags", "post_tag", "images", "taggables", "settings", "activity_log"):
            side.insert(table, base[table])
    ledger = Ledger()
    for table in ("users", "teams", "posts", "comments", "tags", "images"):
        ledger.boundaries[table] = max((r["id"] for r in base[table]), default=0)
    _apply_ops(rng, ledger, base, _Side(crashed, md), _Side(production, md), gap)
    return ledger


def _ts(rng: random.Random) -> datetime:
    return SNAPSHOT_AT - timedelta(days=rng.randint(1, 300), seconds=rng.randint(0, 86399))


def _snapshot_rows(rng: random.Random, n_users: int, posts_per_user: int) -> dict[str, list[dict[str, Any]]]:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    n_teams = max(2, n_users // 4)
    for i in range(1, n_users + 1):
        t = _ts(rng)
        rows["users"].append(dict(id=i, name=f"user {i}", email=f"user{i}@example.test",
                                  current_team_id=(i % n_teams) + 1, created_at=t, updated_at=t))
    for i in range(1, n_teams + 1):
        t = _ts(rng)
        rows["teams"].append(dict(id=i, user_id=i, name=f"team {i}", created_at=t, updated_at=t))
    n_posts = n_users * posts_per_user
    for i in range(1, n_posts + 1):
        t = _ts(rng)
        rows["posts"].append(dict(id=i, user_id=rng.randint(1, n_users), title=f"post {i}", body=f"body of post {i}",
                                  created_at=t, updated_at=t))
    for i in range(1, n_posts * 2 + 1):
        t = _ts(rng)
        parent = rng.randint(1, i - 1) if i > 1 and rng.random() < 0.3 else None
        rows["comments"].append(dict(id=i, post_id=rng.randint(1, n_posts), user_id=rng.randint(1, n_users),
                                     parent_id=parent, body=f"comment {i}", created_at=t, updated_at=t))
    for i in range(1, 11):
        t = _ts(rng)
        rows["tags"].append(dict(id=i, name=f"tag{i}", created_at=t, updated_at=t))
    pt = {(rng.randint(1, n_posts), rng.randint(1, 10)) for _ in range(n_posts)}
    rows["post_tag"] = [dict(post_id=p, tag_id=t) for p, t in sorted(pt)]
    for i in range(1, n_users + 1):
        t = _ts(rng)
        kind, target = ("App\\Models\\User", i) if i % 2 else ("App\\Models\\Post", rng.randint(1, n_posts))
        rows["images"].append(dict(id=i, imageable_type=kind, imageable_id=target, url=f"https://img.test/{i}.png",
                                   created_at=t, updated_at=t))
    tg = {(rng.randint(1, 10), "post", rng.randint(1, n_posts)) for _ in range(n_posts // 2)}
    rows["taggables"] = [dict(tag_id=a, taggable_type=b, taggable_id=c) for a, b, c in sorted(tg)]
    for k in ("site.name", "site.theme", "mail.from", "limits.upload", "feature.comments"):
        t = _ts(rng)
        rows["settings"].append(dict(key=k, value=f"{k} v1", created_at=t, updated_at=t))
    for i in range(n_users):
        rows["activity_log"].append(dict(user_id=rng.randint(1, n_users), action="login", created_at=_ts(rng)))
    return rows


def _apply_ops(rng: random.Random, ledger: Ledger, base: dict[str, list[dict[str, Any]]],
               crashed: _Side, production: _Side, gap: float) -> None:
    """Friday's and production's writes after the snapshot, each recorded in the ledger
    (in this order: the seeded choices depend on it)."""
    ops = _Writes(rng, ledger, base, crashed, production, dict(ledger.boundaries))
    n_posts = max(4, int(len(base["posts"]) * gap))
    users = ops.users_and_teams(max(3, int(len(base["users"]) * gap)))
    ops.user_updates()
    posts, prod_posts, doomed = ops.posts(users, n_posts)
    ops.comments(users, posts, doomed, n_posts)
    ops.tags_and_pivot(posts, prod_posts)
    ops.polymorphic(users, posts)
    ops.settings_and_log(users)


def _by_id(row: dict[str, Any]) -> tuple[Any, ...]:
    return (row["id"],)


@dataclass
class _Writes:
    """The demo's writes after the snapshot, table group by table group."""

    rng: random.Random
    ledger: Ledger
    base: dict[str, list[dict[str, Any]]]
    crashed: _Side      # Friday's writes
    production: _Side   # production's, after the snapshot was restored
    B: dict[str, int]   # each table's boundary

    def add(self, side: _Side, table: str, rows: list[dict[str, Any]],
            key: Callable[[dict[str, Any]], tuple[Any, ...]] = _by_id) -> None:
        """Insert `rows` on `side` and mark them as that side's inserts."""
        side.insert(table, rows)
        tag, cls = ("C", FRIDAY_INSERT) if side is self.crashed else ("P", PRODUCTION_INSERT)
        for r in rows:
            self.ledger.mark(table, (tag, *key(r)), cls)

    def users_and_teams(self, n_new: int) -> list[dict[str, Any]]:
        """Both sides insert users at the same ids B+1..; one email registered on both
        sides. Friday's teams are owned by its new users, who point at them (a cycle)."""
        B, fri, prod = self.B, FRIDAY, RESTORED
        users: list[dict[str, Any]] = [dict(id=B["users"] + i, name=f"friday user {i}", email=f"friday{i}@example.test",
                                            current_team_id=None, created_at=fri, updated_at=fri)
                                       for i in range(1, n_new + 1)]
        prod_users: list[dict[str, Any]] = [dict(id=B["users"] + i, name=f"prod user {i}", email=f"prod{i}@example.test",
                                                 current_team_id=1, created_at=prod, updated_at=prod)
                                            for i in range(1, n_new + 2)]
        prod_users[0]["email"] = users[0]["email"] = "both@example.test"
        self.ledger.collisions["users"].add((B["users"] + 1,))
        teams: list[dict[str, Any]] = [dict(id=B["teams"] + i, user_id=u["id"], name=f"friday team {i}",
                                            created_at=fri, updated_at=fri) for i, u in enumerate(users, start=1)]
        for u, t in zip(users, teams):
            u["current_team_id"] = t["id"]
        self.add(self.crashed, "teams", teams)   # teams.user_id is not a declared FK; users.current_team_id is
        self.add(self.crashed, "users", users)
        self.add(self.production, "users", prod_users)
        self.add(self.production, "teams", [dict(id=B["teams"] + 1, user_id=1, name="prod team", created_at=prod, updated_at=prod)])
        return users

    def user_updates(self) -> None:
        """2 Friday-only, 2 production-only, 1 conflict, 1 converged, 1 merged by column."""
        crashed, production, fri, prod = self.crashed, self.production, FRIDAY, RESTORED
        crashed.update("users", {"id": 2}, {"name": "renamed on friday", "updated_at": fri})
        crashed.update("users", {"id": 3}, {"name": "renamed on friday", "updated_at": fri})
        production.update("users", {"id": 4}, {"name": "renamed in prod", "updated_at": prod})
        production.update("users", {"id": 5}, {"name": "renamed in prod", "updated_at": prod})
        crashed.update("users", {"id": 6}, {"name": "friday's name", "updated_at": fri})
        production.update("users", {"id": 6}, {"name": "production's name", "updated_at": prod})
        crashed.update("users", {"id": 7}, {"name": "same new name", "updated_at": fri})
        production.update("users", {"id": 7}, {"name": "same new name", "updated_at": fri})
        # Both changed user 8, in different columns: merged by column, both changes stand.
        crashed.update("users", {"id": 8}, {"name": "renamed on friday", "updated_at": fri})
        production.update("users", {"id": 8}, {"email": "user8.new@example.test", "updated_at": prod})
        for k, cls in ((2, FRIDAY_UPDATE), (3, FRIDAY_UPDATE), (4, PRODUCTION_UPDATE), (5, PRODUCTION_UPDATE),
                       (6, CONFLICT), (7, CONVERGED), (8, MERGE)):
            self.ledger.mark("users", (k,), cls)

    def posts(self, users: list[dict[str, Any]],
              n_new: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        """Both sides insert posts; production deletes snapshot post 1 and its dependants.
        Returns Friday's posts, production's and the deleted post's id."""
        B, fri, prod, rng = self.B, FRIDAY, RESTORED, self.rng
        posts: list[dict[str, Any]] = [dict(id=B["posts"] + i, user_id=rng.choice([u["id"] for u in users] + [1, 2, 3]),
                                            title=f"friday post {i}", body="written on friday", created_at=fri,
                                            updated_at=fri) for i in range(1, n_new + 1)]
        prod_posts: list[dict[str, Any]] = [dict(id=B["posts"] + i, user_id=rng.randint(1, B["users"]),
                                                 title=f"prod post {i}", body="written after the restore",
                                                 created_at=prod, updated_at=prod) for i in range(1, n_new // 2 + 1)]
        self.add(self.crashed, "posts", posts)
        self.add(self.production, "posts", prod_posts)
        doomed = 1
        for table, col in (("comments", "post_id"), ("post_tag", "post_id")):
            victims = [r for r in self.base[table] if r[col] == doomed]
            self.production.delete(table, {col: doomed})
            for r in victims:
                self.ledger.mark(table, (r["id"],) if "id" in r else (r["post_id"], r["tag_id"]), PRODUCTION_DELETE)
        # comments whose parent production just deleted are gone too (as ON DELETE CASCADE would do)
        self.production.delete("posts", {"id": doomed})
        self.ledger.mark("posts", (doomed,), PRODUCTION_DELETE)
        return posts, prod_posts, doomed

    def comments(self, users: list[dict[str, Any]], posts: list[dict[str, Any]], doomed: int, n_posts: int) -> None:
        """Friday replies to its own new comments (a self-reference into the gap), to
        snapshot comments, and comments on the post production deleted (an orphan);
        Friday deletes a snapshot comment production left alone."""
        B, fri, prod, rng = self.B, FRIDAY, RESTORED, self.rng
        first = B["comments"] + 1
        comments: list[dict[str, Any]] = []
        safe_parents = [r["id"] for r in self.base["comments"] if r["post_id"] != doomed]
        for i in range(n_posts * 2):
            cid = first + i
            parent = cid - 1 if i % 3 == 2 else (rng.choice(safe_parents) if i % 3 == 1 else None)
            post = rng.choice(posts)["id"] if i % 2 else rng.randint(2, B["posts"])
            comments.append(dict(id=cid, post_id=post, user_id=rng.choice(users)["id"], parent_id=parent,
                                 body=f"friday comment {i}", created_at=fri, updated_at=fri))
        orphan = dict(id=first + len(comments), post_id=doomed, user_id=2, parent_id=None,
                      body="comment on a post production deleted", created_at=fri, updated_at=fri)
        comments.append(orphan)
        self.ledger.orphans["comments"].add((orphan["id"],))
        prod_comments: list[dict[str, Any]] = [dict(id=first + i, post_id=rng.randint(2, B["posts"]), user_id=1,
                                                    parent_id=None, body=f"prod comment {i}", created_at=prod,
                                                    updated_at=prod) for i in range(n_posts)]
        self.add(self.crashed, "comments", comments)
        self.add(self.production, "comments", prod_comments)
        parents = {x["parent_id"] for x in self.base["comments"] + comments}
        survivor = next(r for r in self.base["comments"]
                        if r["post_id"] != doomed and r["id"] > 10 and r["id"] not in parents)
        self.crashed.delete("comments", {"id": survivor["id"]})
        self.ledger.mark("comments", (survivor["id"],), FRIDAY_DELETE)

    def tags_and_pivot(self, posts: list[dict[str, Any]], prod_posts: list[dict[str, Any]]) -> None:
        """Friday adds a tag production also added under the same name (a collision) and
        one of its own; it tags its new posts and an old one, production its new post."""
        B, fri, prod = self.B, FRIDAY, RESTORED
        self.add(self.crashed, "tags", [dict(id=B["tags"] + 1, name="blackfriday", created_at=fri, updated_at=fri),
                                  dict(id=B["tags"] + 2, name="friday-only", created_at=fri, updated_at=fri)])
        self.add(self.production, "tags", [dict(id=B["tags"] + 1, name="blackfriday", created_at=prod, updated_at=prod)])
        self.ledger.collisions["tags"].add((B["tags"] + 1,))
        pivot: list[dict[str, Any]] = [dict(post_id=r["id"], tag_id=(j % 10) + 1) for j, r in enumerate(posts)]
        pivot.append(dict(post_id=2, tag_id=B["tags"] + 2))
        existing = {(x["post_id"], x["tag_id"]) for x in self.base["post_tag"]}
        by_pair: Callable[[dict[str, Any]], tuple[Any, ...]] = lambda r: (r["post_id"], r["tag_id"])
        self.add(self.crashed, "post_tag", [r for r in pivot if by_pair(r) not in existing], by_pair)
        self.add(self.production, "post_tag", [dict(post_id=prod_posts[0]["id"], tag_id=1)], by_pair)

    def polymorphic(self, users: list[dict[str, Any]], posts: list[dict[str, Any]]) -> None:
        """Friday's images point at its new posts and users; production adds one; and a
        Friday row of a morph pivot."""
        B, fri, prod = self.B, FRIDAY, RESTORED
        images: list[dict[str, Any]] = [dict(id=B["images"] + i, imageable_type="App\\Models\\Post",
                                             imageable_id=post["id"], url=f"https://img.test/f{i}.png",
                                             created_at=fri, updated_at=fri) for i, post in enumerate(posts[:3], start=1)]
        images.append(dict(id=B["images"] + 4, imageable_type="App\\Models\\User", imageable_id=users[1]["id"],
                           url="https://img.test/f-user.png", created_at=fri, updated_at=fri))
        self.add(self.crashed, "images", images)
        self.add(self.production, "images", [dict(id=B["images"] + 1, imageable_type="App\\Models\\User", imageable_id=1,
                                         url="https://img.test/p1.png", created_at=prod, updated_at=prod)])
        self.add(self.crashed, "taggables", [dict(tag_id=1, taggable_type="post", taggable_id=posts[0]["id"])],
                 lambda r: (r["tag_id"], r["taggable_type"], r["taggable_id"]))

    def settings_and_log(self, users: list[dict[str, Any]]) -> None:
        """settings (a natural key): a Friday-only update, a production-only one, a
        conflict, a new key on each side; activity_log (no key): rows on both sides."""
        crashed, production, fri, prod = self.crashed, self.production, FRIDAY, RESTORED
        crashed.update("settings", {"key": "site.name"}, {"value": "friday name", "updated_at": fri})
        production.update("settings", {"key": "site.theme"}, {"value": "dark", "updated_at": prod})
        crashed.update("settings", {"key": "mail.from"}, {"value": "friday@example.test", "updated_at": fri})
        production.update("settings", {"key": "mail.from"}, {"value": "prod@example.test", "updated_at": prod})
        for setting, cls in (("site.name", FRIDAY_UPDATE), ("site.theme", PRODUCTION_UPDATE), ("mail.from", CONFLICT)):
            self.ledger.mark("settings", (setting,), cls)
        by_key: Callable[[dict[str, Any]], tuple[Any, ...]] = lambda r: (r["key"],)
        self.add(crashed, "settings", [dict(key="feature.friday", value="on", created_at=fri, updated_at=fri)], by_key)
        self.add(production, "settings", [dict(key="feature.prod", value="on", created_at=prod, updated_at=prod)], by_key)
        by_row: Callable[[dict[str, Any]], tuple[Any, ...]] = lambda r: (r["user_id"], r["action"], r["created_at"])
        self.add(crashed, "activity_log", [dict(user_id=u["id"], action="register", created_at=fri) for u in users], by_row)
        self.add(production, "activity_log", [dict(user_id=1, action="login", created_at=prod)], by_row)


def iter_tables() -> Iterable[str]:
    return demo_metadata().tables.keys()


def build_demo(directory: Path, *, with_snapshot: bool = True, users: int = 40) -> Path:
    """Build the demo as three SQLite files plus a 0600 env file naming them; returns its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {role: directory / f"{role}.sqlite" for role in ("snapshot", "crashed", "production")}
    for path in paths.values():
        path.unlink(missing_ok=True)
    engines = {role: create_engine(f"sqlite:///{path}") for role, path in paths.items()}
    build_trio(engines["crashed"], engines["production"], engines["snapshot"] if with_snapshot else None, users=users)
    for e in engines.values():
        e.dispose()
    if not with_snapshot:
        paths["snapshot"].unlink(missing_ok=True)
    lines = [
        "# gapmend demo: three SQLite files built by `gapmend demo`",
        "GAPMEND_PRODUCTION_URL=sqlite:///production.sqlite",
        "GAPMEND_CRASHED_URL=sqlite:///crashed.sqlite",
        f"GAPMEND_SNAPSHOT_AT={SNAPSHOT_AT.isoformat()}",
    ]
    if with_snapshot:
        lines.insert(3, "GAPMEND_SNAPSHOT_URL=sqlite:///snapshot.sqlite")
    env_file = directory / ENV_NAME
    write_private(env_file, "\n".join(lines) + "\n")
    return env_file
