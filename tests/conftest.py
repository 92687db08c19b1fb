"""Every test has a ledger of its own: the default one (converter/ledger.py `default_path`)
is never the user's real one."""

from __future__ import annotations

import pytest

from converter.ledger import ENVIRONMENT


@pytest.fixture(autouse=True)
def _own_ledger(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path_factory.mktemp("registre") / "xl2segur.sqlite"))
