"""Collected text is never a merge template: a story's ``%%email%%`` is printed, never filled.

Merge tokens come only from the templates and the editor's subject, preheader and intro;
a hostile feed's title, summary, alt text, link or image URL reaches every output (HTML,
text, exports, a real SMTP send) exactly as written. Markdown keeps merge tags as typed.
"""

from __future__ import annotations

import email
import json
from email import policy
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from newsletter.build import render_month
from newsletter.checks import check_issue
from newsletter.deliver import merge
from newsletter.deliver.export import export_issue
from newsletter.deliver.send import make_transport, plan_send, run_send
from newsletter.editor import draft
from newsletter.issuefile import load_issue
from newsletter.project import Project
from newsletter.render.textfmt import markdown_filter, markdown_text
from tests.factories import draft_project as editor_project
from tests.factories import news_item as item
from tests.factories import send_project as make_project
from tests.factories import store_items as store
from tests.test_send_smtp import SECRET, SmtpServer

VICTIM = "victim@example.org"
HOSTILE_STORY = """\
      - id: hostile
        title: Win a prize, %%email%%
        kicker: '*|EMAIL|*'
        url: https://tracker.example/story?who=%%email%%&c=%%city%%
        summary: 'Your link: %%unsubscribe_url%% (and %%%name%%%)'
        source: '%%name%%'
        image:
          url: https://tracker.example/pixel/%%email%%.jpg
          alt: Unsubscribe here %%unsubscribe_url%%
          credit: 'Photo: %%city%%'
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The sample project, its October issue with a hostile story first in a section."""
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    project = make_project(
        tmp_path / "p",
        port=1,
        extra='\n[providers]\nmailchimp_list_id = "a1"\n[providers.mailchimp]\ndc = "us6"\n',
    )
    path = project.issue_path("2020-10")
    text = path.read_text()
    first = text.index("    stories:\n") + len("    stories:\n")
    text = text[:first] + HOSTILE_STORY + text[first:]
    text = text.replace("intro: |\n", "intro: |\n  Dear %%name%%, welcome.\n\n", 1)
    path.write_text(text)
    return project


def audience(tmp_path: Path) -> Path:
    path = tmp_path / "audience.csv"
    path.write_text(f"email,name\n{VICTIM},Vic Tim\n")
    return path


def visible(html: str) -> str:
    return LexborHTMLParser(html).body.text().replace(merge.WORD_JOINER, "")  # type: ignore[union-attr]


def test_story_text_never_forms_a_token_in_html_or_text(project: Project) -> None:
    done = render_month(project, "2020-10")
    html, text = done.email.html, done.email.text
    # Only the templates' tokens and the intro's remain; none from the story.
    for part in (html, text):
        fields = set(merge.fields_in(part))
        assert {"name", "unsubscribe_url"} <= fields and not {"email", "city"} & fields
    assert "Dear %%name%%, welcome." in html and "Dear %%name%%, welcome." in text
    tree = LexborHTMLParser(html)
    srcs = [img.attributes.get("src") or "" for img in tree.css("img")]
    assert "https://tracker.example/pixel/%25%25email%25%25.jpg" in srcs
    hrefs = [a.attributes.get("href") or "" for a in tree.css("a")]
    assert any(h.startswith("https://tracker.example/story?who=%25%25email%25%25") for h in hrefs)
    alts = [img.attributes.get("alt") or "" for img in tree.css("img")]
    assert "Unsubscribe here %%unsubscribe_url%%" in [
        a.replace(merge.WORD_JOINER, "") for a in alts
    ]
    # Readers see the story's text as the source wrote it.
    shown = visible(html)
    assert "Win a prize, %%email%%" in shown and "*|EMAIL|*" in shown
    assert "Win a prize, %%email%%" in text.replace(merge.WORD_JOINER, "")
    assert "who=%25%25email%25%25" in text


def test_a_real_smtp_send_fills_only_the_editors_tokens(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    with SmtpServer() as server:
        project = make_project(tmp_path / "p", server.port)
        path = project.issue_path("2020-10")
        text = path.read_text()
        first = text.index("    stories:\n") + len("    stories:\n")
        path.write_text(text[:first] + HOSTILE_STORY + text[first:])
        # %%city%% is in the story but in no audience column: it must not block the send.
        plan = plan_send(project, "2020-10", audience(tmp_path))
        report = run_send(plan, make_transport(plan.prepared, "smtp"))
        assert report.sent == 1 and report.ok
        (received,) = server.handler.received
    msg = email.message_from_bytes(received.data, policy=policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    html_part, text_part = msg.get_body(("html",)), msg.get_body(("plain",))
    assert html_part is not None and text_part is not None
    html, plain = html_part.get_content(), text_part.get_content()
    for body in (html, plain):
        assert VICTIM not in body, "the recipient's address leaked into the body"
        assert "%%city%%" not in body  # printed split by a word joiner, never as a token
    tree = LexborHTMLParser(html)
    unsubscribe = str(msg["List-Unsubscribe"]).split(">")[0].lstrip("<")
    for img in tree.css("img"):
        assert "token=" not in (img.attributes.get("alt") or "")
        assert VICTIM not in (img.attributes.get("src") or "")
    assert unsubscribe in html and unsubscribe in plain  # the template's link is filled
    assert "Win a prize, %%email%%" in visible(html)


def test_exports_carry_no_story_token(project: Project, tmp_path: Path) -> None:
    path = audience(tmp_path)
    result = export_issue(project, "2020-10", "eml", tmp_path / "eml", path)
    assert result.recipients == 1
    (eml,) = [p for p in (tmp_path / "eml").glob("*.eml")]
    msg = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    for part in msg.walk():
        if part.get_content_maintype() == "text":
            content = part.get_content()
            assert VICTIM not in content
            assert "Dear Vic Tim, welcome." in content  # the intro's token is filled

    export_issue(project, "2020-10", "sendgrid", tmp_path / "sg", path)
    body = json.loads(next((tmp_path / "sg").glob("0001-*.json")).read_text())
    (personalization,) = body["personalizations"]
    assert VICTIM not in json.dumps(body["content"])
    assert all("city" not in key and "email" not in key for key in personalization.get(
        "substitutions", {}))  # fmt: skip
    # Mailchimp reads *| as a merge tag (and the export refuses it); a story's is inert.
    export_issue(project, "2020-10", "mailchimp", tmp_path / "mc", path)
    content = json.loads(next((tmp_path / "mc").glob("*-content.json")).read_text())
    assert "*|EMAIL|*" not in content["html"] and "*|EMAIL|*" not in content["plain_text"]
    assert "*|UNSUB|*" in content["html"]  # the template's link, as Mailchimp's tag


def test_check_flags_token_like_text_in_stories(project: Project) -> None:
    report = check_issue(project, "2020-10")
    flagged = [f for f in report.findings if f.rule == "story-placeholder"]
    found = {(f.message.split(" in its ")[1].split(";")[0], f.message.split("'")[3])
             for f in flagged}  # fmt: skip
    assert ("title", "%%email%%") in found and ("image.url", "%%email%%") in found
    assert ("image.alt", "%%unsubscribe_url%%") in found and ("kicker", "*|EMAIL|*") in found
    assert all(f.where == "issues/2020-10.yaml, story hostile" for f in flagged)
    assert not [f for f in report.errors if f.rule == "placeholder"], report.errors


@pytest.mark.parametrize(
    ("source", "html", "text"),
    [
        ("Hello *|FNAME|*, welcome", "<p>Hello *|FNAME|*, welcome</p>\n",
         "Hello *|FNAME|*, welcome"),
        ("See [your settings](%%unsubscribe_url%%), %%first_name%% and %%last_name%%.",
         '<p>See <a href="%%unsubscribe_url%%">your settings</a>, %%first_name%% and '
         "%%last_name%%.</p>\n",
         "See your settings (%%unsubscribe_url%%), %%first_name%% and %%last_name%%."),
        ('Hi {{ "you" }} and *em*', "<p>Hi {{ &quot;you&quot; }} and <em>em</em></p>\n",
         'Hi {{ "you" }} and em'),
        ("mergetag0z is just a word, %recipient.name%",
         "<p>mergetag0z is just a word, %recipient.name%</p>\n",
         "mergetag0z is just a word, %recipient.name%"),
    ],
)  # fmt: skip
def test_merge_tags_survive_markdown(source: str, html: str, text: str) -> None:
    assert str(markdown_filter(source)) == html
    assert markdown_text(source) == text


def test_check_flags_a_foreign_merge_tag_in_the_intro(project: Project) -> None:
    path = project.issue_path("2020-10")
    path.write_text(path.read_text().replace("Dear %%name%%", "Dear *|FNAME|*"))
    report = check_issue(project, "2020-10")
    assert any(f.rule == "placeholder" and "'*|FNAME|*'" in f.message for f in report.errors), (
        report.findings
    )


def test_a_subject_drafted_from_a_hostile_title_is_inert(tmp_path: Path) -> None:
    """Subject and preheader are personalised, so the draft's suggestions must be inert."""
    project = editor_project(tmp_path / "e")
    store(project, item("Win a prize, %%email%%", "2020-10-05T09:00:00",
                        summary="Claim it at %%unsubscribe_url%% today."))  # fmt: skip
    issue = load_issue(draft(project, "2020-10").path)
    assert issue.subject.startswith("Win a prize, %")
    assert merge.fields_in(issue.subject, issue.preheader) == []
    assert (
        issue.preheader.replace(merge.WORD_JOINER, "") == "Claim it at %%unsubscribe_url%% today."
    )


def test_inert_text_and_urls_leave_ordinary_percent_signs_alone() -> None:
    assert merge.inert_text("50% more, 100%") == "50% more, 100%"
    assert merge.inert_url("https://e.org/a%20b?q=%7C") == "https://e.org/a%20b?q=%7C"
    assert merge.inert_url("https://e.org/%%20") == "https://e.org/%25%20"
