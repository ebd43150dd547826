"""Personal messages: the fast MIME template, signed unsubscribe links, safe headers."""

import email
from email import policy
from pathlib import Path

import pytest

from newsletter.deliver import merge
from newsletter.deliver.audience import Recipient
from newsletter.deliver.export import prepare
from newsletter.deliver.message import MessageTemplate, build_message
from newsletter.errors import ConfigError, ExportError
from newsletter.project import Project
from newsletter.signing import b64

SECRET = b"s" * 32

TRICKY_VALUES = [
    "",
    "Ann",
    "Åse Øvrebø-Ñúñez",
    "<script>alert('x')</script> & \"co\"",
    "=3D=20 ends with space ",
    "a" * 300,
    "é" * 120,
    "line.\n.starts with a dot",
    "%%name%% literal token",
]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    import shutil

    from tests.conftest import REPO
    from tests.factories import without_tables

    root = tmp_path_factory.mktemp("msg")
    text = without_tables((REPO / "newsletter.toml").read_text(), "send")
    (root / "newsletter.toml").write_text(text)
    shutil.copytree(REPO / "issues", root / "issues")
    with (root / "newsletter.toml").open("a") as fh:
        fh.write('\n[send]\nunsubscribe_mailto = "unsubscribe@example.org"\n')
    return Project.at(root)


def parse(raw: bytes) -> email.message.EmailMessage:
    msg = email.message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def body(part: email.message.MIMEPart) -> str:
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


@pytest.mark.parametrize("value", TRICKY_VALUES)
def test_the_template_writes_exactly_what_a_full_fill_would(project: Project, value: str) -> None:
    prepared = prepare(project, "2020-10")
    # Tokens at awkward places: the very start, mid-line after 74 characters, back to back.
    html = "%%name%%" + prepared.html + "x" * 74 + "%%city%%%%name%%<a href='%%unsubscribe_url%%'>"
    text = prepared.text + "\nDear %%name%%,\n" + "é" * 40 + "%%city%%\n  \n%%email%%"
    template = MessageTemplate(project.config, prepared.issue, html=html, text=text)
    personalizer = merge.Personalizer(project.config, "2020-10", SECRET)
    personal = personalizer.personal(
        Recipient("ann@example.org", value.replace("\n", " "), "en", {"city": value})
    )
    raw = template.render(personal)

    payload = raw.partition(b"\r\n\r\n")[2]
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    assert raw.isascii()
    assert max(len(line) for line in payload.split(b"\r\n")) <= 76, "quoted-printable line limit"
    msg = parse(raw)
    plain, rich = msg.iter_parts()
    assert plain.get_content_type() == "text/plain" and rich.get_content_type() == "text/html"
    assert body(plain) == merge.fill(text, personal.values).replace("\r\n", "\n")
    assert body(rich) == merge.fill(html, personal.values, escape=True)
    assert "<script>" not in body(rich)


def test_headers_meet_the_bulk_sender_rules(project: Project) -> None:
    prepared = prepare(project, "2020-10")
    template = prepared.message_template()
    personalizer = merge.Personalizer(project.config, "2020-10", SECRET)
    personal = personalizer.personal(Recipient("Ann@Example.org", "Åse Berg, PhD"))
    msg = parse(template.render(personal))
    assert msg["To"].addresses[0].display_name == "Åse Berg, PhD"
    assert msg["To"].addresses[0].addr_spec == "Ann@Example.org"
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = (v.strip(" <>") for v in str(msg["List-Unsubscribe"]).split(","))
    assert https.startswith("https://news.oslocancercluster.no/unsubscribe?token=v1.")
    assert mailto.startswith("mailto:unsubscribe@example.org?subject=unsubscribe%20v1.")
    token = https.split("token=", 1)[1]
    assert merge.verify_unsubscribe_token(SECRET, token) == "ann@example.org"
    assert https in body(list(msg.iter_parts())[1])  # the visible link is the same one
    assert msg["List-Id"] and msg["Date"] and msg["MIME-Version"] == "1.0"
    assert msg["Message-ID"] == personalizer.message_id("ann@example.org")
    # The same person gets the same Message-ID on every attempt; another person another.
    assert personalizer.message_id("ANN@example.org") == msg["Message-ID"]
    assert personalizer.message_id("bob@example.org") != msg["Message-ID"]


def test_tokens_are_signed_and_cannot_be_forged() -> None:
    token = merge.unsubscribe_token(SECRET, "Ann@Example.org")
    assert merge.verify_unsubscribe_token(SECRET, token) == "ann@example.org"
    assert merge.verify_unsubscribe_token(b"another secret!!", token) is None
    version, _, signature = token.split(".")
    forged = f"{version}.{b64(b'bob@example.org')}.{signature}"
    assert merge.verify_unsubscribe_token(SECRET, forged) is None
    for junk in ("", "v1", "v1.a.b.c", "v2." + token[3:], "v1.!!!.???"):
        assert merge.verify_unsubscribe_token(SECRET, junk) is None


def test_the_secret_comes_only_from_the_environment() -> None:
    with pytest.raises(ConfigError) as info:
        merge.load_secret({})
    assert "NEWSLETTER_SECRET is not set" in info.value.message
    assert "never put it in a file" in (info.value.hint or "")
    with pytest.raises(ConfigError, match="shorter than 16"):
        merge.load_secret({"NEWSLETTER_SECRET": "short"})
    assert merge.load_secret({"NEWSLETTER_SECRET": "x" * 16}) == b"x" * 16


@pytest.mark.parametrize("bad", ["a\r\nBcc: x@example.org", "a\nb", "a\x00b"])
def test_no_header_value_may_carry_cr_lf_or_nul(project: Project, bad: str) -> None:
    prepared = prepare(project, "2020-10")
    template = prepared.message_template()
    personalizer = merge.Personalizer(project.config, "2020-10", SECRET)
    personal = personalizer.personal(Recipient("ann@example.org", bad))
    with pytest.raises(ExportError, match="CR, LF or NUL"):
        template.render(personal)
    with pytest.raises(ExportError, match="CR, LF or NUL"):
        build_message(project.config, prepared.issue, html="h", text="t", to=bad)
    with pytest.raises(ExportError, match="CR, LF or NUL"):
        build_message(
            project.config, prepared.issue, html="h", text="t", extra_headers={"X-A": bad}
        )


def test_build_message_is_the_template_copy(project: Project) -> None:
    prepared = prepare(project, "2020-10")
    msg = build_message(project.config, prepared.issue, html="<p>Hi</p>", text="Hi\n")
    assert msg["To"] == "undisclosed-recipients:;" and msg["Subject"] == prepared.issue.subject
    assert msg["List-Unsubscribe"] == "<https://news.oslocancercluster.no/unsubscribe>"
    assert [body(p) for p in msg.iter_parts()] == ["Hi\n", "<p>Hi</p>"]
    raw = msg.as_bytes()
    assert raw.count(b"Message-ID:") == 1 and b"\r\n" in raw


def test_proofs_are_marked(project: Project) -> None:
    prepared = prepare(project, "2020-10").as_proof()
    personal = merge.Personalizer(project.config, "2020-10", SECRET).personal(
        Recipient("staff@example.org")
    )
    msg = parse(prepared.message_template().render(personal))
    assert msg["Subject"].startswith("[PROOF] ") and msg["X-Newsletter-Proof"] == "yes"


def test_unknown_merge_fields_are_an_error_before_sending(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        merge.check_fields(["Hi %%nickname%%"], ["city"], where="a.csv")
    assert "%%nickname%%" in info.value.message and "a.csv" in info.value.message
    merge.check_fields(["Hi %%city%% %%name%%"], ["city"], where="a.csv")
