"""Screenshots with a real headless Chromium: three full-page PNGs, offline, and summary.md.

Chromium comes from scripts/install-test-deps (`make test` runs it); where it cannot be
installed these tests skip and say why.
"""

from __future__ import annotations

import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from newsletter.checks import CheckReport
from newsletter.preview import PreviewError
from newsletter.preview import screenshots as shots_module
from newsletter.preview.screenshots import find_chromium, take_screenshots
from newsletter.preview.snapshot import Snapshot
from newsletter.preview.summary import summary_markdown
from tests.clirun import cli
from tests.conftest import LocalServer, Response


def chromium_or_skip() -> str:
    try:
        return find_chromium()
    except PreviewError as exc:
        pytest.skip(f"{exc.message}: scripts/install-test-deps installs it with apt-get")


def luminance(path: Path) -> tuple[float, float]:
    """Mean and standard deviation of the image's grey levels."""
    stat = ImageStat.Stat(Image.open(path).convert("L"))
    return stat.mean[0], stat.stddev[0]


def test_screenshots_of_the_sample_issue(sample_project: Path) -> None:
    chromium_or_skip()
    result = cli("preview", "2020-10", "--screenshots", "out", cwd=sample_project)
    assert result.returncode == 0, result.stderr
    out = sample_project / "out"
    widths = {"desktop.png": 600, "mobile.png": 375, "dark.png": 600}
    for name, width in widths.items():
        image = Image.open(out / name)
        assert image.format == "PNG" and image.width == width, (name, image.size)
        assert image.height > 1000, "the whole email, not one screen"
        _, spread = luminance(out / name)
        assert spread > 20, f"{name} is blank"
    summary = (out / "summary.md").read_text()
    assert "| Subject |" in summary and "HTML size" in summary and "dark.png" in summary
    assert "wider than" not in summary, "the phone shows the email at full size, stacked"
    assert json.loads((out / "check.json").read_text())["month"] == "2020-10"
    if "no dark-mode styles" not in summary:
        desktop, dark = Image.open(out / "desktop.png"), Image.open(out / "dark.png")
        assert ImageChops.difference(desktop.convert("RGB"), dark.convert("RGB")).getbbox()


DARK_EMAIL = """<!doctype html><html lang="en"><head>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark"><title>Dark test</title>
<style>
  body { margin: 0; padding: 0 0 16px; background: #f4f4f4; }
  img { max-width: 100%; height: auto; }
  .card { background: #ffffff; color: #1f2933; padding: 24px; font: 16px/1.5 sans-serif; }
  @media (prefers-color-scheme: dark) {
    body { background: #000000 !important; }
    .card { background: #161b22 !important; color: #e6edf3 !important; }
  }
  @media (max-width: 480px) { .card { padding: 8px; } }
</style></head>
<body><div class="card" style="max-width: 552px; margin: 0 auto;">
<h1>Dark test</h1>
<p>{paragraphs}</p>
<img src="{local}" alt="A local picture" width="100" height="50">
<img src="https://images.example.org/remote.jpg" alt="A remote picture" width="552">
</div></body></html>"""


def png(width: int, height: int, colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def test_dark_differs_loopback_loads_and_remote_hosts_do_not(tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    with LocalServer() as server:
        server.routes["/pixel.png"] = Response(png(100, 50, "#cc3366"), 200,
                                               {"Content-Type": "image/png"})  # fmt: skip
        html = DARK_EMAIL.replace("{local}", f"{server.url}/pixel.png").replace(
            "{paragraphs}", "Words on a card. " * 120
        )
        snap = Snapshot(
            month="2020-10", sender="Test", subject="Dark test", preheader="", html=html,
            text="", report=CheckReport("2020-10"), taken_at=datetime.now(),
        )  # fmt: skip
        shots = take_screenshots(snap, tmp_path, chromium=chromium)
        assert [path for path, _ in server.requests] == ["/pixel.png"] * 3

    by_name = {s.path.name: s for s in shots}
    assert set(by_name) == {"desktop.png", "mobile.png", "dark.png"}
    for shot in shots:
        image = Image.open(shot.path)
        assert image.size == (shot.width, shot.height)
        assert shot.blocked == 1  # the remote image got a placeholder, not a request
    desktop, mobile = (
        Image.open(by_name["desktop.png"].path),
        Image.open(by_name["mobile.png"].path),
    )
    assert desktop.width == 600 and mobile.width == 375
    assert mobile.height > desktop.height  # the same text wraps into more lines on a phone
    # Full page: the last rows are the email's own background, not a cut-off card.
    assert desktop.convert("RGB").getpixel((300, desktop.height - 1)) == (244, 244, 244)

    light_mean, _ = luminance(by_name["desktop.png"].path)
    dark_mean, dark_spread = luminance(by_name["dark.png"].path)
    assert dark_mean < light_mean / 2, "the dark styles apply"
    assert dark_spread > 5, "and the text is still there"
    dark = Image.open(by_name["dark.png"].path).convert("RGB")
    assert ImageChops.difference(desktop.convert("RGB"), dark).getbbox() is not None


def test_no_chromium_is_a_clear_error(
    sample_project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = cli(
        "preview", "2020-10", "--screenshots", "out", cwd=sample_project,
        env={"NEWSLETTER_CHROMIUM": "/nonexistent/chromium"},
    )  # fmt: skip
    assert result.returncode == PreviewError.exit_code
    assert "NEWSLETTER_CHROMIUM=/nonexistent/chromium: no such executable" in result.stderr
    assert "Traceback" not in result.stderr and not (sample_project / "out").exists()

    monkeypatch.delenv("NEWSLETTER_CHROMIUM", raising=False)
    monkeypatch.setattr(shots_module, "CHROMIUM_CANDIDATES", ("/nonexistent/chromium",))
    with pytest.raises(PreviewError, match="no Chromium found") as caught:
        find_chromium()
    assert "apt-get install chromium" in str(caught.value)


def test_an_email_too_wide_for_a_phone_is_flagged(tmp_path: Path) -> None:
    chromium = chromium_or_skip()
    html = (
        "<!doctype html><html><head><title>Wide</title></head><body style='margin:0'>"
        "<table width='600' style='width:600px'><tr><td>A fixed 600 px table.</td></tr>"
        "</table></body></html>"
    )
    snap = Snapshot(
        month="2020-10", sender="Test", subject="Wide", preheader="", html=html, text="",
        report=CheckReport("2020-10"), taken_at=datetime.now(),
    )  # fmt: skip
    shots = {s.view.name: s for s in take_screenshots(snap, tmp_path, chromium=chromium)}
    assert shots["desktop"].scale == 1 and shots["mobile"].scale < 1
    assert Image.open(shots["mobile"].path).width == 375
    assert "wider than 375 px" in summary_markdown(snap, list(shots.values()))
