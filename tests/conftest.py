"""Every test has a ledger of its own: the default one (converter/ledger.py `default_path`)
is never the user's real one."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from converter.ledger import ENVIRONMENT


@pytest.fixture(autouse=True)
def _own_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    # a MonkeyPatch of its own: a test's monkeypatch.undo() must not lead to the user's ledger
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(ENVIRONMENT, str(tmp_path_factory.mktemp("registre") / "xl2segur.sqlite"))
        yield
