"""The README's examples are what the tool prints.

Every ```console block of the README that needs no earlier step (`formats`, `plafond`, and
`verifier` on a shipped sample or a file of the test corpus) is run again here; its output and its exit code (« Code de
sortie : N. » under the block) must be those shown. The examples of the deposit cycle depend
on the steps before them and are covered by tests/test_cycle.py instead.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from converter.cli import app

ROOT = Path(__file__).resolve().parents[1]
BLOCK = re.compile(r"```console\n\$ (xl2segur [^\n]*)\n(.*?)```\n(?:Code de sortie : (\d)\.)?", re.S)


def _standalone(command: str) -> bool:
    words = shlex.split(command)
    return words[1] in ("formats", "plafond") or (words[1] == "verifier" and words[2].startswith(("samples/", "tests/corpus/")))


EXAMPLES = [(m.group(1), m.group(2), m.group(3)) for m in BLOCK.finditer((ROOT / "README.md").read_text("utf-8"))
            if _standalone(m.group(1))]


def test_the_readme_has_standalone_examples() -> None:
    assert len(EXAMPLES) >= 10


@pytest.mark.parametrize("command, shown, code", EXAMPLES, ids=[e[0][9:60] for e in EXAMPLES])
def test_readme_example_is_what_the_tool_prints(command: str, shown: str, code: str | None,
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "samples").symlink_to(ROOT / "samples")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "corpus").symlink_to(ROOT / "tests" / "corpus")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, shlex.split(command)[1:], env={"COLUMNS": "10000", **os.environ})
    printed = [line.rstrip() for line in result.output.splitlines()]
    expected = [line.rstrip() for line in shown.splitlines()]
    if "…" in expected:  # a line « … » alone stands for lines the README leaves out
        cut = expected.index("…")
        head, tail = expected[:cut], expected[cut + 1:]
        assert printed[:len(head)] == head and printed[len(printed) - len(tail):] == tail
        assert len(printed) >= len(head) + len(tail)
    else:
        assert printed == expected
    if code is not None:
        assert result.exit_code == int(code)
