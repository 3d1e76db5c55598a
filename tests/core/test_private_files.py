"""Every file gapmend writes is owner-only, even when a looser file was there before."""

from __future__ import annotations

from pathlib import Path

from gapmend.core.private_files import write_private


def test_new_and_replaced_files_are_owner_only(tmp_path: Path) -> None:
    loose = tmp_path / "report.txt"
    loose.write_text("old")
    loose.chmod(0o644)
    write_private(loose, "new")
    assert loose.read_text() == "new" and loose.stat().st_mode & 0o777 == 0o600
    atomic = tmp_path / "state.json"
    write_private(atomic, b"{}", atomic=True)
    assert atomic.read_bytes() == b"{}" and atomic.stat().st_mode & 0o777 == 0o600
    assert not list(tmp_path.glob("*.gapmend-tmp"))


def test_an_edited_file_can_keep_its_mode(tmp_path: Path) -> None:
    env = tmp_path / ".env"
    env.write_text("A=1\n")
    env.chmod(0o640)
    write_private(env, "A=2\n", atomic=True, mode=0o640)
    assert env.read_text() == "A=2\n" and env.stat().st_mode & 0o777 == 0o640
