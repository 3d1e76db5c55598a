"""Issue 38, item 8: the app as deployed. The morph map and the session guards are
found where the app itself keeps them: providers registered in the config's
``'providers'`` (Laravel 5.x-10) or ``bootstrap/providers.php`` (11), resolved through
composer.json's PSR-4 map; the config directory the bootstrap names (an Application
subclass overriding ``configPath()``, as BookStack does with ``app/Config``). When
nothing is found, gapmend says where it looked."""

from __future__ import annotations

from pathlib import Path

from gapmend.core.laravel import app_guards, layout, morph_map

PROVIDER = r"""<?php

namespace {ns};

use Illuminate\Database\Eloquent\Relations\Relation;
use Illuminate\Support\ServiceProvider;

class {cls} extends ServiceProvider
{{
    public function boot()
    {{
        Relation::enforceMorphMap([
            'page' => \{models}\Page::class,
            'book' => '{models}\Book',
        ]);
    }}
}}
"""
AUTH = r"""<?php

return [
    'guards' => [
        'web' => [
            'driver' => 'session',
            'provider' => 'users',
        ],
    ],
    'providers' => [
        'users' => [
            'driver' => 'eloquent',
            'model' => {models}\User::class,
        ],
    ],
];
"""


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_providers_and_config_where_the_app_keeps_them(tmp_path: Path) -> None:
    """BookStack's shape: ``BookStack\\`` → ``app/``, providers in ``app/App/Providers``
    registered in ``app/Config/app.php``, the config path set by its Application class."""
    _write(tmp_path / "composer.json", '{"autoload": {"psr-4": {"BookStack\\\\": "app/"}}}')
    _write(tmp_path / "bootstrap/app.php", "<?php\n$app = new \\BookStack\\App\\Application(dirname(__DIR__));\n")
    _write(tmp_path / "app/App/Application.php",
           "<?php\nnamespace BookStack\\App;\nclass Application extends \\Illuminate\\Foundation\\Application\n{\n"
           "    public function configPath($path = '')\n    {\n        return $this->basePath\n"
           "            . DIRECTORY_SEPARATOR . 'app'\n            . DIRECTORY_SEPARATOR . 'Config'\n"
           "            . ($path ? DIRECTORY_SEPARATOR . $path : $path);\n    }\n}\n")
    _write(tmp_path / "app/Config/app.php",
           "<?php\nreturn [\n    'providers' => [\n        // \\BookStack\\App\\Providers\\Gone::class,\n"
           "        \\BookStack\\App\\Providers\\AppServiceProvider::class,\n    ],\n];\n")
    _write(tmp_path / "app/Config/auth.php", AUTH.format(models="BookStack\\Users\\Models"))
    _write(tmp_path / "app/App/Providers/AppServiceProvider.php",
           PROVIDER.format(ns="BookStack\\App\\Providers", cls="AppServiceProvider", models="BookStack\\Entities\\Models"))

    found = layout.find(tmp_path)
    assert found.config == tmp_path / "app" / "Config"
    assert found.providers == (tmp_path / "app/App/Providers/AppServiceProvider.php",)
    aliases = morph_map.read(tmp_path)
    assert [(a.alias, a.model, a.where) for a in aliases] == [
        ("page", "BookStack\\Entities\\Models\\Page", "app/App/Providers/AppServiceProvider.php:13"),
        ("book", "BookStack\\Entities\\Models\\Book", "app/App/Providers/AppServiceProvider.php:14")]
    guards = app_guards.read(tmp_path)
    assert [(g.name, g.model, g.where) for g in guards] == [("web", "BookStack\\Users\\Models\\User", "app/Config/auth.php:11")]
    assert layout.reading(tmp_path, aliases, guards) == [
        "morph map: 2 aliases from app/App/Providers/AppServiceProvider.php",
        "session guards: web from app/Config/auth.php"]


def test_laravel_11_registers_providers_in_bootstrap(tmp_path: Path) -> None:
    _write(tmp_path / "composer.json", '{"autoload": {"psr-4": {"Shop\\\\": "src/"}}}')
    _write(tmp_path / "bootstrap/providers.php", "<?php\n\nreturn [\n    Shop\\Boot\\MorphProvider::class,\n];\n")
    _write(tmp_path / "src/Boot/MorphProvider.php", PROVIDER.format(ns="Shop\\Boot", cls="MorphProvider", models="Shop"))
    _write(tmp_path / "config/auth.php", AUTH.format(models="Shop"))
    assert [a.alias for a in morph_map.read(tmp_path)] == ["page", "book"]
    assert [g.model for g in app_guards.read(tmp_path)] == ["Shop\\User"]


def test_nothing_found_says_where_it_looked(tmp_path: Path) -> None:
    _write(tmp_path / "composer.json", '{"autoload": {"psr-4": {"App\\\\": "app/"}}}')
    lines = layout.reading(tmp_path, [], [])
    assert lines[0] == ("morph map: none found in 0 provider files; looked in composer.json, bootstrap/app.php, "
                        "config/, bootstrap/providers.php, app/Providers/")
    assert lines[1] == "session guards: none found; looked for auth.php in config/ and the folder the bootstrap names"
