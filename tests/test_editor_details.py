"""The details editors notice: listing pages whose date line leaks into summaries, subjects
too long for an inbox, merge tags Markdown mangles, hand-written events stored as news,
WordPress pages never revalidated after a 304, saved pages served over HTTP, a readable
``--explain`` at 80 columns, hard line breaks in the plain text, and ``run`` on an empty month."""

from __future__ import annotations

import json
import re
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from newsletter.collect import collect
from newsletter.editor import draft
from newsletter.issuefile import load_issue, validate_issue
from newsletter.models import Kind, NewsItem
from newsletter.project import Project
from newsletter.store import Store
from tests.clirun import cli
from tests.conftest import REPO, LocalServer, Response
from tests.factories import collect_project, source
from tests.factories import draft_project as editor_project
from tests.factories import news_item as item
from tests.factories import store_items as store

SOURCES = REPO / "sources"


def collected(project: Project) -> list[NewsItem]:
    with Store(project.store_path) as db:
        report = collect(project, db)
        assert not report.failed, report.sources
        return db.items()


def html_route(body: str) -> Response:
    return Response(body.encode(), 200, {"Content-Type": "text/html; charset=utf-8"})


# --- 1. the date line of a listing is not part of the summary -----------------------------

LISTING_PLAIN = """<!doctype html><html lang="en"><body><main><div class="news">
<article><h2><a href="/news/alpha.html">Alpha laboratory opens its doors</a></h2>
<p>Published 12 February 2024</p>
<p>The new alpha laboratory has room for twelve researchers.</p></article>
<article><h2><a href="/news/beta.html">Beta trial recruits its first patients</a></h2>
<p>Published 5 February 2024</p>
<p>The beta trial has started recruiting across Norway.</p></article>
</div></main></body></html>"""

LISTING_CLASSED = """<!doctype html><html lang="en"><body><ul class="items">
<li><h3><a href="/news/alpha.html">Alpha laboratory opens its doors</a></h3>
<div class="teaser"><p class="published">Published 12 February 2024 · 3 min read</p>
<p>The new alpha laboratory has room for twelve researchers.</p></div></li>
<li><h3><a href="/news/beta.html">Beta trial recruits its first patients</a></h3>
<div class="teaser"><p class="published">Published 5 February 2024 · 2 min read</p>
<p>The beta trial has started recruiting across Norway.</p></div></li>
</ul></body></html>"""


@pytest.mark.parametrize("page", [LISTING_PLAIN, LISTING_CLASSED], ids=["plain", "classed"])
def test_a_listings_date_line_stays_out_of_summaries_and_the_preheader(
    tmp_path: Path, page: str
) -> None:
    with LocalServer() as server:
        server.routes["/news/"] = html_route(page)
        project = collect_project(tmp_path, source("L", "page", f"{server.url}/news/"))
        items = {i.title: i for i in collected(project)}
    alpha = items["Alpha laboratory opens its doors"]
    assert alpha.published.date().isoformat() == "2024-02-12"
    assert alpha.summary == "The new alpha laboratory has room for twelve researchers."
    assert items["Beta trial recruits its first patients"].summary == (
        "The beta trial has started recruiting across Norway."
    )
    issue = load_issue(draft(project, "2024-02").path)
    assert issue.preheader == alpha.summary


# --- 2. suggested subjects fit the inbox, and validate and check agree --------------------

LONG_TITLE = (
    "Treatment-induced resistance mutations in BTK can be overcome by a clinical-stage BTK "
    "degrader in patients with chronic lymphocytic leukaemia"
)


def test_a_suggested_subject_fits_the_limit_check_warns_at(tmp_path: Path) -> None:
    from newsletter.checks import check_issue
    from newsletter.models import SUBJECT_MAX

    project = editor_project(tmp_path)
    store(project, item(LONG_TITLE, "2020-10-10T09:00:00"))
    subject = load_issue(draft(project, "2020-10").path).subject
    assert len(subject) <= SUBJECT_MAX == 78
    assert subject.endswith("…") and LONG_TITLE.startswith(subject[:-1].rstrip())
    assert subject[:-1].rstrip() in LONG_TITLE.split("…")[0]
    assert LONG_TITLE[len(subject[:-1].rstrip())] == " "  # cut between words
    report = check_issue(project, "2020-10")
    assert not [f for f in report.findings if f.rule == "subject"], report.findings


def test_a_short_title_keeps_the_newsletter_name_in_the_subject(tmp_path: Path) -> None:
    project = editor_project(tmp_path)
    store(project, item("New lab opens", "2020-10-10T09:00:00"))
    subject = load_issue(draft(project, "2020-10").path).subject
    assert subject.startswith("New lab opens | ") and subject.endswith(", October 2020")


def test_validate_and_check_warn_about_the_same_subject_lengths(tmp_path: Path) -> None:
    from newsletter.checks import check_issue
    from newsletter.models import SUBJECT_MAX

    project = editor_project(tmp_path)
    store(project, item("New lab opens", "2020-10-10T09:00:00"))
    path = draft(project, "2020-10").path
    text = path.read_text()
    subject = load_issue(path).subject
    for length, warned in ((SUBJECT_MAX, False), (SUBJECT_MAX + 1, True), (149, True)):
        path.write_text(text.replace(subject, "x" * length))
        validated = [p for p in validate_issue(path).warnings if p.key == "subject"]
        checked = [f for f in check_issue(project, "2020-10").findings if f.rule == "subject"]
        assert bool(validated) == bool(checked) == warned, (length, validated, checked)
        if warned:
            assert validated[0].message == checked[0].message
            assert f"{length} characters" in checked[0].message
    run = cli("validate", "--help", cwd=project.root)
    assert "150" not in run.stdout and str(SUBJECT_MAX) in run.stdout


# --- 3. a mangled merge tag is flagged ------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["<p>Dear <em>|FNAME|</em>, welcome</p>", "Dear |FNAME|, welcome",
     "<p>Dear <strong>|LNAME|</strong></p>"],
)  # fmt: skip
def test_check_flags_a_merge_tag_markdown_turned_into_emphasis(text: str) -> None:
    from newsletter.checks import CheckReport, check_placeholders

    report = CheckReport("2020-10")
    check_placeholders(report, text, "email.html")
    (finding,) = report.errors
    assert finding.rule == "placeholder" and "|" in finding.message
    assert "*|" in finding.message  # says how the tag is written


def test_an_intact_merge_tag_is_not_called_mangled() -> None:
    from newsletter.checks import CheckReport, check_placeholders

    report = CheckReport("2020-10")
    check_placeholders(report, "Dear *|FNAME|*, | A | B |, x|y|z", "email.html")
    assert [f.message for f in report.errors] == ["unresolved Mailchimp merge tag '*|FNAME|*'"]


# --- 4. a hand-written item with an event date is an event ---------------------------------


def test_a_folder_item_with_an_event_date_but_no_kind_is_an_event(tmp_path: Path) -> None:
    folder = tmp_path / "hand"
    folder.mkdir()
    (folder / "agm.md").write_text(
        "---\ntitle: Annual update from the board\ndate: 2020-10-01\n"
        "url: https://example.org/agm\nevent_date: 2020-11-20\n---\nLunch is served.\n"
    )
    (folder / "plain.md").write_text(
        "---\ntitle: A quiet month at the office\ndate: 2020-10-02\n"
        "url: https://example.org/quiet\n---\nLunch is served.\n"
    )
    project = collect_project(tmp_path / "p", source("Hand", "folder", str(folder)))
    items = {i.title: i for i in collected(project)}
    board = items["Annual update from the board"]
    assert (board.kind, str(board.event_date)) == (Kind.event, "2020-11-20")
    assert items["A quiet month at the office"].kind is Kind.news


# --- 5. WordPress pages after page 1 answers 304 --------------------------------------------


def test_wordpress_revalidates_later_pages_when_the_first_answers_304(tmp_path: Path) -> None:
    pages = {n: json.loads((SOURCES / f"cluster/wp-json/posts-page{n}.json").read_bytes())
             for n in (1, 2)}  # fmt: skip

    def posts(request: BaseHTTPRequestHandler) -> Response:
        page = int(parse_qs(urlsplit(request.path).query).get("page", ["1"])[0])
        body = json.dumps(pages[page]).encode()
        etag = f'"p{page}-{hash(body) & 0xFFFFFF:x}"'
        if request.headers.get("If-None-Match") == etag:
            return Response(b"", 304, {"ETag": etag})
        headers = {"Content-Type": "application/json", "ETag": etag,
                   "X-WP-Total": "10", "X-WP-TotalPages": "2"}  # fmt: skip
        return Response(body, 200, headers)

    with LocalServer() as server:
        server.routes["/wp-json/wp/v2/posts"] = posts
        project = collect_project(tmp_path, source("API", "wordpress", server.url))
        assert len(collected(project)) == 10
        old = pages[2][-1]
        old["title"]["rendered"] = "An older post, edited since"
        old["modified_gmt"] = "2021-01-05T10:00:00"
        server.requests.clear()
        titles = {i.title for i in collected(project)}
        asked = [(parse_qs(urlsplit(p).query)["page"], h.get("If-None-Match")) for p, h in
                 server.requests]  # fmt: skip
    assert [page for page, _ in asked] == [["1"], ["2"]]
    assert all(etag for _, etag in asked)  # both asked conditionally
    assert "An older post, edited since" in titles and len(titles) == 10


# --- 6. a saved page served over HTTP resolves links against its canonical address ---------


def test_a_saved_page_over_http_resolves_links_against_its_canonical(tmp_path: Path) -> None:
    with LocalServer(SOURCES) as server:
        url = f"{server.url}/institute/news-2024-03-05.html"
        project = collect_project(tmp_path, source("ICR", "page", url))
        items = collected(project)
    assert len(items) == 6
    assert all(i.url.startswith("https://www.ous-research.no/home/icr/news/2024/") for i in items)
    pictured = [i for i in items if i.image is not None]
    assert pictured and all(
        i.image is not None and i.image.url.startswith("https://www.ous-research.no/images/")
        for i in pictured
    )


@pytest.mark.parametrize(
    "canonical",
    ["/home/icr/", "javascript:alert(1)", "https://user:pw@example.org/news/", "ftp://x.org/"],
)
def test_a_canonical_address_that_is_not_sane_is_ignored(tmp_path: Path, canonical: str) -> None:
    page = LISTING_PLAIN.replace(
        "<body>", f'<head><link rel="canonical" href="{canonical}"></head><body>'
    )
    with LocalServer() as server:
        server.routes["/news/"] = html_route(page)
        project = collect_project(tmp_path, source("L", "page", f"{server.url}/news/"))
        items = collected(project)
        base = server.url
    assert {i.url for i in items} == {f"{base}/news/alpha.html", f"{base}/news/beta.html"}


# --- 7. --explain at 80 columns ---------------------------------------------------------------


def test_explain_fits_80_columns_and_titles_stay_readable(tmp_path: Path) -> None:
    project = editor_project(tmp_path)
    titles = [
        "IMPRESS leads the way for cancer precision medicine",
        "State budget: 61,3 million to personalized medicine",
        "First-year students met their mentors",
    ]
    store(project, *(item(t, f"2020-10-{10 + n}T09:00:00") for n, t in enumerate(titles)))
    run = cli("draft", "2020-10", "--explain", cwd=project.root, columns=80)
    assert run.returncode == 0, run.stderr
    # The table; the report below it keeps the issue file's path on one line, soft-wrapped.
    lines = run.stdout.split("\nWrote ")[0].splitlines()
    assert max(len(line) for line in lines) <= 80, "\n".join(lines)
    assert "[draft.weights]" in run.stdout
    text = " ".join(" ".join(line.strip("│┃|").split()) for line in lines)
    for title in titles:
        # Each title reads on at most two lines, never cut inside a word.
        words = title.split()
        assert any(" ".join(words[:4]) in line for line in lines), title
        assert all(word in text for word in words), title
    assert "chosen" in run.stdout and "lead story" in run.stdout


# --- 8. hard line breaks in the plain text ----------------------------------------------------


def test_markdown_hard_line_breaks_are_kept_in_the_text_part() -> None:
    from newsletter.render.textfmt import markdown_text, wrap_filter

    source_text = "Kind regards,  \nKari Nordmann\\\nOslo Cancer Cluster\n\nA new paragraph\nsoftly"
    assert markdown_text(source_text) == (
        "Kind regards,\nKari Nordmann\nOslo Cancer Cluster\n\nA new paragraph softly"
    )
    assert wrap_filter(markdown_text(source_text)) == (
        "Kind regards,\nKari Nordmann\nOslo Cancer Cluster\n\nA new paragraph softly"
    )


def test_a_hard_line_break_in_the_intro_reaches_email_txt(tmp_path: Path) -> None:
    from newsletter.build import render_month

    project = editor_project(tmp_path)
    store(project, item("New lab opens", "2020-10-10T09:00:00"))
    path = draft(project, "2020-10").path
    text = path.read_text()
    intro = 'intro: "Welcome!  \\nKari Nordmann, editor"'  # YAML's \n: a new line
    path.write_text(re.sub(r"(?m)^intro:.*$", lambda _: intro, text, count=1))
    assert load_issue(path).intro == "Welcome!  \nKari Nordmann, editor"
    done = render_month(project, "2020-10")
    assert "Welcome!\nKari Nordmann, editor" in done.email.text


# --- 9. run on a month with no stories --------------------------------------------------------


def test_run_on_an_empty_month_says_so_and_builds_nothing(tmp_path: Path) -> None:
    project = editor_project(tmp_path)
    store(project, item("September news", "2020-09-10T09:00:00"))
    run = cli("run", "2020-10", cwd=project.root)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "2020-10" in run.stderr and "no stories" in run.stderr
    assert "--allow-empty" in run.stderr and "Traceback" not in run.stderr
    assert not (project.build_dir / "2020-10").exists()
    assert not project.issue_path("2020-10").exists()
    archive = project.build_dir / "index.html"
    assert not archive.exists() or "2020-10" not in archive.read_text()

    run = cli("run", "2020-10", "--allow-empty", cwd=project.root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (project.build_dir / "2020-10" / "email.html").exists()
    assert "no stories" in run.stdout


def test_run_keeps_building_a_month_with_stories(tmp_path: Path) -> None:
    project = editor_project(tmp_path)
    store(project, item("October news", "2020-10-10T09:00:00"))
    run = cli("run", "2020-10", cwd=project.root)
    assert run.returncode == 0, run.stdout + run.stderr
    assert (project.build_dir / "2020-10" / "email.html").exists()


def test_run_keeps_an_existing_empty_issue_file_and_does_not_build_it(tmp_path: Path) -> None:
    project = editor_project(tmp_path)
    store(project, item("September news", "2020-09-10T09:00:00"))
    path = draft(project, "2020-10").path
    text = path.read_text()
    run = cli("run", "2020-10", cwd=project.root)
    assert run.returncode == 2, run.stdout + run.stderr
    assert "2020-10.yaml has none in its sections" in run.stderr and "--allow-empty" in run.stderr
    assert path.read_text() == text  # the editors' file is theirs
    assert not (project.build_dir / "2020-10").exists()
