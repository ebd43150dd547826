"""The built wheel carries its templates: `init` + `build` work from an installed wheel."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, REPO


@pytest.fixture(scope="session")
def wheel_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = dist.glob("newsletter-*.whl")
    site = tmp_path_factory.mktemp("site")
    # Only the wheel goes into its own folder; its dependencies come from this environment.
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site),
         str(wheel)],
        check=True,
    )  # fmt: skip
    return site


def test_init_and_build_from_the_wheel(wheel_site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(wheel_site)}

    def cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "newsletter", *args],
            cwd=cwd, env=env, capture_output=True, text=True,
        )  # fmt: skip

    where = subprocess.run(
        [sys.executable, "-c", "import newsletter; print(newsletter.__file__)"],
        cwd=tmp_path, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert where.stdout.startswith(str(wheel_site)), "the wheel, not the source tree, must run"

    project = tmp_path / "proj"
    assert cli("init", str(project), cwd=tmp_path).returncode == 0
    assert (project / "templates/email.mjml.j2").is_file()
    config = project / "newsletter.toml"
    config.write_text(
        config.read_text().replace(
            "https://example.org/feed/", str(FIXTURES / "feeds/mixed-months.xml")
        )
    )
    for args in (["collect"], ["draft", "2020-10"], ["build", "2020-10"]):
        result = cli(*args, cwd=project)
        assert result.returncode == 0, (args, result.stderr)
    assert "Immunotherapy trial" in (project / "build/2020-10/email.html").read_text()

    # A project without its own templates falls back to the ones inside the wheel.
    import shutil

    shutil.rmtree(project / "templates")
    result = cli("build", "2020-10", cwd=project)
    assert result.returncode == 0, result.stderr


def test_the_wheel_carries_its_database_migrations(wheel_site: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(wheel_site), "NEWSLETTER_DATABASE_URL": ""}
    project = tmp_path / "proj"
    init = subprocess.run([sys.executable, "-m", "newsletter", "init", str(project)], env=env)
    assert init.returncode == 0
    result = subprocess.run(
        [sys.executable, "-m", "newsletter", "db", "upgrade"],
        cwd=project, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Upgraded the schema from nothing to" in result.stdout
