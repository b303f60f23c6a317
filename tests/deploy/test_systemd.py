"""``systemd-analyze verify`` on every unit in ``deploy/systemd/``: syntax, known keys and values,
dependencies that exist, and each ExecStart's binary present and executable.

The units name the installation folder ``/opt/cdss`` (deploy/README.md), which this machine lacks,
and verify looks for the binaries (``--root`` would need a whole system's units inside the root).
So the units are copied with ``/opt/cdss`` replaced by a folder whose ``.venv/bin/`` links to this
virtual environment's binaries, and nothing else changed; the copies keep their names (verify takes
the unit's name from the file's). Verify exits 0 even on an unknown key or a bad value, so its
output must also be empty.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from tests.deploy.tools import REPO, require_tool

UNITS = REPO / "deploy" / "systemd"
INSTALL = "/opt/cdss"


def test_the_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    analyze = require_tool("/usr/bin/systemd-analyze", "systemd")
    units = sorted(UNITS.glob("*.service")) + sorted(UNITS.glob("*.target"))
    assert {unit.name for unit in units} >= {
        "cdss-web.service",
        "cdss-inference.service",
        "cdss-worker.service",
        "cdss-beat.service",
        "cdss.target",
    }
    install = tmp_path / "opt" / "cdss"
    venv_bin = install / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    (install / "var").mkdir()
    here = Path(sys.executable).parent
    binaries = {
        name
        for unit in units
        for name in re.findall(rf"{INSTALL}/\.venv/bin/([\w.-]+)", unit.read_text())
    }
    assert binaries, "no unit starts a program from the virtual environment"
    for name in sorted(binaries):
        assert (here / name).exists(), f"the units run .venv/bin/{name}, which pip does not install"
        (venv_bin / name).symlink_to(here / name)
    rendered = tmp_path / "units"
    rendered.mkdir()
    for unit in units:
        (rendered / unit.name).write_text(unit.read_text().replace(INSTALL, str(install)))
    done = subprocess.run(
        [analyze, "verify", "--man=no", *sorted(str(p) for p in rendered.iterdir())],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
