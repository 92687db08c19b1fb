"""A mount namespace of the tests' own, where a tmpfs may be mounted (a small disk that fills
up, another file system than the deposit folder's): `unshare -m` as root, `unshare -rm`
otherwise; None where neither is allowed, and the tests that need one are skipped."""

from __future__ import annotations

import shutil
import subprocess
import sys


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
