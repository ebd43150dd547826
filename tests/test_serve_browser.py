"""The subscriber pages in a real browser: headless Chromium signs up, confirms, changes
preferences; axe-core checks every page; screenshots at phone and desktop width."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.serve_support import (
    SmtpServer,
    confirmation_link,
    free_port,
    mail_to,
    running_service,
    serve_project,
)

CHROMIUM = shutil.which(os.environ.get("NEWSLETTER_CHROMIUM", "")) or shutil.which("chromium")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
VIEWS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}
SHOTS = os.environ.get("NEWSLETTER_SHOTS")  # keep the screenshots there, to look at them


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield instance
        instance.close()


def serious_violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)"
        for v in result.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def shoot(page: Any, out: Path, name: str) -> None:
    for view, size in VIEWS.items():
        page.set_viewport_size(size)
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            path = out / f"{name}-{view}-{scheme}.png"
            page.screenshot(path=str(path), full_page=True)
            assert path.stat().st_size > 5000
    page.set_viewport_size(VIEWS["desktop"])
    page.emulate_media(color_scheme="light")


def test_sign_up_confirm_and_change_preferences_in_chromium(browser: Any, tmp_path: Path) -> None:
    out = Path(SHOTS) if SHOTS else tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    with SmtpServer() as smtp:
        root = serve_project(tmp_path / "p", smtp.port, port)
        with running_service(root, port) as base:
            page = browser.new_page()
            page.goto(f"{base}/subscribe")
            assert serious_violations(page) == []
            shoot(page, out, "signup")
            # Submitting empty shows the errors, linked to their fields, without JavaScript.
            page.click("button[type=submit]")
            assert page.locator("[role=alert]").is_visible()
            assert serious_violations(page) == []
            page.fill("#email", "grace@example.org")
            page.fill("#name", "Grace Hopper")
            page.check("input[name=topics][value=research]")
            page.check("input[name=consent]")
            page.click("button[type=submit]")
            assert "inbox" in page.inner_text("h1").lower()
            assert serious_violations(page) == []

            page.goto(confirmation_link(mail_to(smtp, "grace@example.org")))
            assert serious_violations(page) == []
            shoot(page, out, "confirm")
            page.click("button[type=submit]")
            assert "subscribed" in page.inner_text("h1").lower()
            shoot(page, out, "confirmed")

            page.click("a[href*='/preferences']")
            assert page.is_checked("input[name=topics][value=research]")
            assert serious_violations(page) == []
            shoot(page, out, "preferences")
            page.uncheck("input[name=topics][value=research]")
            page.check("input[name=topics][value=calls]")
            page.click("button[name=save]")
            assert page.locator("[role=status]").is_visible()
            assert page.is_checked("input[name=topics][value=calls]")
            assert not page.is_checked("input[name=topics][value=research]")
            page.close()
