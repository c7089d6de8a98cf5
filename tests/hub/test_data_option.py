"""`--data`: default /var/lib/annotatiestraat, `STRAAT_DATA` over it, `--data` over both; a
folder without a hub is refused (and left alone) unless `--init` is given."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from hub.cli import DEFAULT_DATA, main
from hub.store import Store
from hub.store.accounts import check_password

PASSWORD = "correct horse battery"


def add_user(*args: str, env: dict[str, str] | None = None):  # noqa: ANN201
    return CliRunner().invoke(
        main, ["user", "add", "anna", "--role", "staff", "--password", PASSWORD, *args], env=env
    )


def test_a_wrong_folder_is_refused_and_left_alone(tmp_path: Path) -> None:
    wrong = tmp_path / "typo"
    result = add_user("--data", str(wrong))
    assert result.exit_code == 2
    assert f"{wrong} holds no hub" in result.output and "--init" in result.output
    assert not wrong.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert add_user("--data", str(empty)).exit_code == 2
    assert list(empty.iterdir()) == []


def test_init_makes_the_hub_and_later_commands_find_it(tmp_path: Path) -> None:
    data = tmp_path / "site"
    assert add_user("--data", str(data), "--init").exit_code == 0
    assert (data / "hub.db").is_file()
    result = CliRunner().invoke(main, ["token", "create", "--role", "lead", "--data", str(data)])
    assert result.exit_code == 0, result.output
    store = Store(data / "hub.db")
    assert check_password(store, "anna", PASSWORD) is not None
    store.close()


def test_straat_data_replaces_the_default_and_data_wins(tmp_path: Path) -> None:
    env_hub, flag_hub = tmp_path / "env", tmp_path / "flag"
    assert add_user("--init", env={"STRAAT_DATA": str(env_hub)}).exit_code == 0
    assert (env_hub / "hub.db").is_file()
    result = add_user("--data", str(flag_hub), env={"STRAAT_DATA": str(env_hub)})
    assert result.exit_code == 2 and str(flag_hub) in result.output


def test_the_default_is_the_site_folder(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["kiosk", "list", "--help"])
    assert str(DEFAULT_DATA) in result.output and "STRAAT_DATA" in result.output
    if not (DEFAULT_DATA / "hub.db").exists():  # a developer's machine: refused, not created
        out = CliRunner().invoke(main, ["kiosk", "list"], env={"STRAAT_DATA": None})
        assert out.exit_code == 2 and f"{DEFAULT_DATA} holds no hub" in out.output
