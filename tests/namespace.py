"""A mount namespace of the tests' own, where a tmpfs may be mounted (a small disk that fills
up, another file system than the deposit folder's): `unshare -m` as root, `unshare -rm`
otherwise; None where neither is allowed, and the tests that need one are skipped."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path


def _namespace() -> list[str] | None:
    """The `unshare` command that gives this process a mount namespace where it may mount a tmpfs."""
    if shutil.which("unshare") is None or sys.platform != "linux":
        return None
    for command in (["unshare", "-m"], ["unshare", "-rm"]):
        probe = subprocess.run([*command, "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"], capture_output=True)
        if probe.returncode == 0:
            return command
    return None


NAMESPACE = _namespace()
WHY_SKIPPED = "no mount namespace here (unshare -m / -rm refused)"


def scenario_folders(tmp_path: Path, script: str) -> tuple[Path, Path, Path, Path]:
    """The folders of a run before and after the disk fills (« avant », « apres »), the mount
    point of the small disk, and the shell `script` that runs in the namespace, written out."""
    first, second, mount_point = tmp_path / "avant", tmp_path / "apres", tmp_path / "disque"
    for folder in (first, second, mount_point):
        folder.mkdir()
    scenario = tmp_path / "scenario.sh"
    scenario.write_text(script)
    return first, second, mount_point, scenario
