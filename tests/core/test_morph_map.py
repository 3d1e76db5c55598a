"""The app's own morph map (issue 16, item 3): `Relation::enforceMorphMap(['article' =>
Post::class, ...])` in a service provider. Without it, `article` in commentable_type
names no table and the plan asks for `--morph`; with the app's folder known, the alias
comes from the provider (file and line in the evidence) and Friday's comments on
Friday's articles follow them to their new ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from gapmend.core.apply.preview import build_plan
from gapmend.core.apply.restore import RestoreOptions, restore
from gapmend.core.config import load_settings
from gapmend.core.errors import GapmendError
from gapmend.core.laravel.morph_map import read
from gapmend.core.runbook.verify import verify
from sqlalchemy import Column, Integer, MetaData, String, Table, select

from ..conftest import Databases
from ..dbstate import load_roles

PROVIDER = r"""<?php

namespace App\Providers;

use App\Models\Post;
use App\Models\Media as Clip;
use Illuminate\Database\Eloquent\Relations\Relation;
use Illuminate\Support\ServiceProvider;

class AppServiceProvider extends ServiceProvider
{
    public function boot()
    {
        Relation::enforceMorphMap([
            'article' => Post::class,
            'clip' => Clip::class,
            "person" => 'App\Models\User',
        ]);
    }
}
"""

md = MetaData()
posts = Table("posts", md, Column("id", Integer, primary_key=True), Column("title", String(40)))
users = Table("users", md, Column("id", Integer, primary_key=True), Column("name", String(40)))
comments = Table("comments", md, Column("id", Integer, primary_key=True), Column("commentable_type", String(40)),
                 Column("commentable_id", Integer), Column("body", String(40)))


def _app(root: Path) -> Path:
    (root / "app" / "Providers").mkdir(parents=True)
    (root / "app" / "Providers" / "AppServiceProvider.php").write_text(PROVIDER)
    return root


def test_the_providers_aliases_are_read(tmp_path: Path) -> None:
    aliases = {a.alias: (a.model, a.where) for a in read(_app(tmp_path))}
    assert aliases == {"article": ("App\\Models\\Post", "app/Providers/AppServiceProvider.php:15"),
                       "clip": ("App\\Models\\Media", "app/Providers/AppServiceProvider.php:16"),
                       "person": ("App\\Models\\User", "app/Providers/AppServiceProvider.php:17")}


def test_a_restore_follows_the_apps_morph_map(dbs: Databases, tmp_path: Path) -> None:
    e = dbs.engines
    snapshot = {"posts": [dict(id=1, title="thursday")], "users": [dict(id=1, name="ann")],
                "comments": [dict(id=1, commentable_type="article", commentable_id=1, body="on thursday's")]}
    friday = {"posts": [dict(id=2, title="friday's article")], "users": [dict(id=2, name="friday's bob")],
              "comments": [dict(id=2, commentable_type="article", commentable_id=2, body="on friday's article"),
                           dict(id=3, commentable_type="person", commentable_id=2, body="on friday's bob")]}
    production = {"posts": [dict(id=2, title="production's article")], "users": [dict(id=2, name="prod's carol")],
                  "comments": [dict(id=2, commentable_type="article", commentable_id=2, body="production's")]}
    load_roles(e, md, {"snapshot": [snapshot], "crashed": [snapshot, friday], "production": [snapshot, production]})
    env = dbs.env_file(snapshot=True, snapshot_at=None)
    with pytest.raises(GapmendError, match="names no table"):
        build_plan(load_settings(env, environ={}))

    app = _app(tmp_path / "app")
    settings = load_settings(env, environ={"GAPMEND_APP_PATH": str(app)})
    plan = build_plan(settings)
    evidence = {e.id: e.evidence for e in plan.edges if e.kind == "polymorphic"}
    assert any("'article' → posts (the app's morph map, app/Providers/AppServiceProvider.php:15)" in v
               for v in evidence.values()), evidence
    restore(settings, options=RestoreOptions(approve_pending=True))
    with e["production"].connect() as conn:
        title = conn.execute(select(posts.c.title).join(comments, comments.c.commentable_id == posts.c.id)
                             .where(comments.c.body == "on friday's article")).scalar_one()
        name = conn.execute(select(users.c.name).join(comments, comments.c.commentable_id == users.c.id)
                            .where(comments.c.body == "on friday's bob")).scalar_one()
    assert (title, name) == ("friday's article", "friday's bob")
    assert verify(settings)[0] == []
