"""The ``--rr-*`` options and ``rr_*`` ini keys in pytest, and their validation at start-up.

Declarations come from :data:`pytest_rules_rust.settings.OPTIONS`; values are resolved by
:meth:`~pytest_rules_rust.settings.Settings.from_mapping`, the same function the command line uses.
A bad value stops the run before collection with ``pytest.UsageError`` (exit 4): one line naming the
option, the value and the valid form.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..errors import RulesRustError
from ..settings import OPTIONS, Option, Settings

#: where ``pytest_configure`` keeps this run's validated settings
settings_key = pytest.StashKey[Settings]()


def add_options(parser: pytest.Parser) -> None:
    """Declare every option in one ``rules_rust`` group, each with its ini twin and its default."""
    group = parser.getgroup("rules_rust", "rules_rust workspaces, container builds and assertions")
    for opt in OPTIONS:
        text = f"{opt.help} [default: {opt.shown_default}; ini: {opt.ini}]"
        kwargs: dict[str, Any] = {"dest": "rr_" + opt.name, "help": text, "default": None}
        if opt.flag:
            kwargs["action"] = "store_true"
        else:
            kwargs["action"] = "append" if opt.many else "store"
            if opt.metavar:
                kwargs["metavar"] = opt.metavar
            elif opt.choices:
                kwargs["metavar"] = "{" + ",".join(opt.choices) + "}"
        group.addoption(opt.cli, **kwargs)
        parser.addini(opt.ini, text, type=opt.ini_type, default=_ini_default(opt))


def _ini_default(opt: Option) -> Any:
    if opt.flag:
        return False
    if opt.many:
        return []
    return "" if opt.default is None else str(opt.default)


def raw_options(config: pytest.Config) -> tuple[dict[str, Any], dict[str, Path]]:
    """Each option's raw value, the command line's when given, else the ini file's (``--rr-set`` and
    ini ``rr_set`` merge per parameter, the command line winning); and the directory each option's
    relative paths are taken from.

    Command-line paths resolve against the directory pytest ran in, as pytest's own ``--junitxml``
    and ``--basetemp`` do: not against the rootdir, which moves with the arguments (pytest picks the
    rootdir before our options are declared, so the ``../tpl`` of ``--rr-template-dir ../tpl`` is
    taken as a path to test and can make the rootdir its parent). Ini paths resolve against the ini
    file's directory (the rootdir when there is no ini file).
    """
    invocation = config.invocation_params.dir
    ini_dir = config.inipath.parent if config.inipath is not None else config.rootpath
    raw: dict[str, Any] = {}
    roots: dict[str, Path] = {}
    for opt in OPTIONS:
        given = config.getoption("rr_" + opt.name, default=None)
        ini = config.getini(opt.ini)
        from_cli = given is not None and given != []
        roots[opt.name] = invocation if from_cli else ini_dir
        if opt.name == "set":
            raw[opt.name] = [*(ini or []), *(given or [])]
        elif from_cli:
            raw[opt.name] = given
        else:
            raw[opt.name] = ini if ini not in ("", []) else None
    return raw, roots


def settings_from_config(config: pytest.Config) -> Settings:
    """This run's :class:`Settings`; a bad value becomes a one-line ``pytest.UsageError``."""
    raw, roots = raw_options(config)
    try:
        return Settings.from_mapping(raw, roots=roots)
    except RulesRustError as exc:
        line = exc.message if not exc.hint else f"{exc.message} ({exc.hint})"
        raise pytest.UsageError(" ".join(line.split())) from None
