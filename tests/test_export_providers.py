"""Provider exports: each payload against the provider's documented fields and limits.

The schemas below are written from each provider's API reference (field names, types,
required fields, batch limits); SES payloads are also validated with botocore's own SESv2
service model. Where a provider personalises server-side, a small simulator applies its
merge syntax to the payload and the result must equal what we would have sent ourselves.
"""

from __future__ import annotations

import csv
import email
import io
import json
import re
import shutil
from dataclasses import dataclass, field
from email import policy
from pathlib import Path
from typing import Any

import pytest

from newsletter.deliver import merge
from newsletter.deliver.audience import Recipient
from newsletter.deliver.export import Prepared, export_issue, prepare
from newsletter.errors import ConfigError, ExportError
from newsletter.project import Project
from newsletter.store.suppression import SuppressionList
from tests.conftest import FIXTURES, REPO
from tests.factories import without_tables

SECRET = "export-test-secret-0123456789"
SIZE = 2345

# --- a small JSON-schema-like checker ----------------------------------------------------------

EMAIL_RE = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass
class Str:
    max: int | None = None
    pattern: str | None = None
    email: bool = False


@dataclass
class Int:
    pass


@dataclass
class Bool:
    pass


@dataclass
class Enum:
    values: tuple[str, ...]


@dataclass
class Arr:
    item: Any
    min: int = 0
    max: int | None = None


@dataclass
class MapOf:
    value: Any
    key: Str = field(default_factory=Str)


@dataclass
class Obj:
    required: dict[str, Any]
    optional: dict[str, Any] = field(default_factory=dict)
    key_patterns: dict[str, Any] = field(default_factory=dict)  # regex -> schema


@dataclass
class JsonStr:
    schema: Any


def check(value: Any, schema: Any, path: str = "$") -> None:
    """Raise AssertionError naming the path of the first value that breaks ``schema``."""
    if isinstance(schema, Str):
        assert isinstance(value, str), f"{path}: expected a string, got {type(value).__name__}"
        assert schema.max is None or len(value) <= schema.max, f"{path}: longer than {schema.max}"
        if schema.pattern:
            assert re.fullmatch(schema.pattern, value), f"{path}: {value!r} !~ {schema.pattern}"
        if schema.email:
            assert EMAIL_RE.match(value), f"{path}: {value!r} is not an address"
    elif isinstance(schema, Int):
        assert isinstance(value, int) and not isinstance(value, bool), f"{path}: not an integer"
    elif isinstance(schema, Bool):
        assert isinstance(value, bool), f"{path}: not a boolean"
    elif isinstance(schema, Enum):
        assert value in schema.values, f"{path}: {value!r} not one of {schema.values}"
    elif isinstance(schema, Arr):
        assert isinstance(value, list), f"{path}: expected a list"
        assert len(value) >= schema.min, f"{path}: fewer than {schema.min} items"
        assert schema.max is None or len(value) <= schema.max, f"{path}: more than {schema.max}"
        for i, item in enumerate(value):
            check(item, schema.item, f"{path}[{i}]")
    elif isinstance(schema, MapOf):
        assert isinstance(value, dict), f"{path}: expected an object"
        for key, item in value.items():
            check(key, schema.key, f"{path}.<key {key!r}>")
            check(item, schema.value, f"{path}.{key}")
    elif isinstance(schema, JsonStr):
        assert isinstance(value, str), f"{path}: expected a JSON string"
        check(json.loads(value), schema.schema, f"{path}<json>")
    elif isinstance(schema, Obj):
        assert isinstance(value, dict), f"{path}: expected an object"
        missing = set(schema.required) - set(value)
        assert not missing, f"{path}: missing {sorted(missing)}"
        for key, item in value.items():
            sub = schema.required.get(key) or schema.optional.get(key)
            if sub is None:
                sub = next(
                    (s for p, s in schema.key_patterns.items() if re.fullmatch(p, key)), None
                )
            assert sub is not None, f"{path}: unknown field {key!r}"
            check(item, sub, f"{path}.{key}")
    else:  # pragma: no cover - a mistake in a schema
        raise TypeError(schema)


def test_the_checker_rejects_what_it_should() -> None:
    schema = Obj({"a": Arr(Str(email=True), 1, 2)}, {"b": Int()})
    check({"a": ["x@example.org"], "b": 1}, schema)
    wrong: list[dict[str, object]] = [
        {},
        {"a": []},
        {"a": ["x", "y", "z"]},
        {"a": ["nope"]},
        {"a": ["x@example.org"], "c": 1},
        {"a": ["x@example.org"], "b": True},
    ]
    for bad in wrong:
        with pytest.raises(AssertionError):
            check(bad, schema)


# --- provider schemas (from each API reference) -----------------------------------------------

SG_EMAIL = Obj({"email": Str(email=True)}, {"name": Str()})
SG_STRINGS = MapOf(Str())
SENDGRID = Obj(
    required={
        "personalizations": Arr(
            Obj(
                {"to": Arr(SG_EMAIL, 1, 1000)},
                {
                    "cc": Arr(SG_EMAIL),
                    "bcc": Arr(SG_EMAIL),
                    "subject": Str(),
                    "headers": SG_STRINGS,
                    "substitutions": SG_STRINGS,
                    "custom_args": SG_STRINGS,
                    "send_at": Int(),
                },
            ),
            1,
            1000,
        ),
        "from": SG_EMAIL,
        "subject": Str(),
        "content": Arr(Obj({"type": Str(), "value": Str()}), 1),
    },
    optional={
        "reply_to": SG_EMAIL,
        "headers": SG_STRINGS,
        "categories": Arr(Str(max=255), 0, 10),
        "custom_args": SG_STRINGS,
        "send_at": Int(),
        "asm": Obj({"group_id": Int()}),
    },
)

MAILGUN = Obj(
    required={
        "from": Str(),
        "to": Arr(Str(), 1, 1000),
        "subject": Str(),
        "text": Str(),
        "html": Str(),
        "recipient-variables": JsonStr(MapOf(MapOf(Str()), Str(email=True))),
    },
    optional={"o:tag": Arr(Str(max=128), 0, 3), "o:deliverytime": Str()},
    key_patterns={r"h:[A-Za-z0-9-]+": Str(), r"v:[A-Za-z0-9_-]+": Str()},
)

POSTMARK = Arr(
    Obj(
        required={
            "From": Str(),
            "To": Str(),
            "Subject": Str(),
            "HtmlBody": Str(),
            "TextBody": Str(),
        },
        optional={
            "ReplyTo": Str(),
            "Tag": Str(max=1000),
            "MessageStream": Str(),
            "Headers": Arr(Obj({"Name": Str(), "Value": Str()})),
            "Metadata": MapOf(Str()),
            "TrackOpens": Bool(),
        },
    ),
    1,
    500,
)

MAILCHIMP_MEMBERS = Obj(
    {
        "members": Arr(
            Obj(
                {
                    "email_address": Str(email=True),
                    "status": Enum(
                        ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
                    ),
                },
                {
                    "merge_fields": MapOf(Str(), Str(pattern=r"[A-Z][A-Z0-9_]{0,9}")),
                    "language": Str(),
                    "email_type": Enum(("html", "text")),
                },
            ),
            1,
            500,
        ),
        "update_existing": Bool(),
    },
)
MAILCHIMP_CAMPAIGN = Obj(
    {
        "type": Enum(("regular", "plaintext", "absplit", "rss", "variate")),
        "recipients": Obj({"list_id": Str()}, {"segment_opts": Obj({})}),
        "settings": Obj(
            {"subject_line": Str(max=150), "from_name": Str(), "reply_to": Str(email=True)},
            {"preview_text": Str(max=150), "title": Str()},
        ),
    },
)
MAILCHIMP_CONTENT = Obj({}, {"html": Str(), "plain_text": Str()})

BREVO_IMPORT = Obj(
    {
        "listIds": Arr(Int(), 1),
        "jsonBody": Arr(
            Obj(
                {"email": Str(email=True)}, {"attributes": MapOf(Str(), Str(pattern=r"[A-Z0-9_]+"))}
            ),
            1,
        ),
    },
    {
        "updateExistingContacts": Bool(),
        "emptyContactsAttributes": Bool(),
        "emailBlacklist": Bool(),
        "disableNotification": Bool(),
        "notifyUrl": Str(),
    },
)
BREVO_CAMPAIGN = Obj(
    {
        "name": Str(),
        "sender": Obj({"email": Str(email=True)}, {"name": Str(), "id": Int()}),
        "subject": Str(),
        "htmlContent": Str(),
        "recipients": Obj({}, {"listIds": Arr(Int(), 1), "exclusionListIds": Arr(Int())}),
    },
    {"previewText": Str(), "replyTo": Str(email=True), "tag": Str(), "scheduledAt": Str()},
)

LISTMONK_IMPORT_PARAMS = Obj(
    {
        "mode": Enum(("subscribe", "blocklist")),
        "delim": Str(pattern="."),
        "lists": Arr(Int(), 1),
        "overwrite": Bool(),
    },
    {"subscription_status": Enum(("confirmed", "unconfirmed"))},
)
LISTMONK_CAMPAIGN = Obj(
    {
        "name": Str(),
        "subject": Str(),
        "lists": Arr(Int(), 1),
        "type": Enum(("regular", "optin")),
        "content_type": Enum(("richtext", "html", "markdown", "plain", "visual")),
        "body": Str(),
    },
    {
        "from_email": Str(),
        "altbody": Str(),
        "messenger": Str(),
        "tags": Arr(Str()),
        "headers": Arr(MapOf(Str())),
        "send_at": Str(),
        "template_id": Int(),
    },
)
LISTMONK_STATUS = Obj({"status": Enum(("scheduled", "running", "paused", "cancelled"))})


# --- fixtures --------------------------------------------------------------------------------


def make_project(root: Path) -> Project:
    root.mkdir()
    text = without_tables((REPO / "newsletter.toml").read_text(), "providers")
    (root / "newsletter.toml").write_text(text)
    shutil.copytree(REPO / "issues", root / "issues")
    shutil.copytree(REPO / "sources", root / "sources")  # the story images' local copies
    with (root / "newsletter.toml").open("a") as fh:
        fh.write(
            '\n[providers]\nmailchimp_list_id = "a1b2c3d4e5"\nbrevo_list_ids = [2]\n'
            'listmonk_list_ids = [1, 3]\nsendgrid_asm_group_id = 42\nses_region = "eu-west-1"\n'
            '\n[providers.mailchimp]\ndc = "us6"\n'
        )
    return Project.at(root)


def big_audience(path: Path, size: int = SIZE) -> Path:
    names = ["Ann", "Åse Øvrebø", 'Eve "quoted" & <co>', "", "Dr. Ola Nordmann, PhD"]
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["email", "name", "language", "city"])
        for i in range(size):
            writer.writerow(
                [
                    f"user{i:05d}@example.org",
                    names[i % len(names)],
                    ("en", "nb", "")[i % 3],
                    ("Oslo", "Tromsø", "")[i % 3],
                ]
            )
        writer.writerow(["USER00001@EXAMPLE.ORG", "dup", "en", ""])  # left out: duplicate
        writer.writerow(["broken", "x", "en", ""])  # left out: invalid
    return path


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every provider's export of the sample issue for 2,345 recipients (done once)."""
    mp = pytest.MonkeyPatch()
    mp.setenv("NEWSLETTER_SECRET", SECRET)
    base = tmp_path_factory.mktemp("exports")
    project = make_project(base / "project")
    audience = big_audience(base / "audience.csv")
    outs = {}
    for provider in (
        "eml",
        "sendgrid",
        "mailgun",
        "postmark",
        "ses",
        "mailchimp",
        "brevo",
        "listmonk",
    ):
        out = base / provider
        result = export_issue(project, "2020-10", provider, out, audience)
        assert result.audience is not None and result.audience.accepted == SIZE
        outs[provider] = out
    outs["project"] = project.root
    mp.undo()
    return outs


def manifest(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "manifest.json").read_text())
    assert data["issue"] == "2020-10" and data["recipients"] in (SIZE, 0)
    assert data["audience"]["accepted"] == SIZE
    rejected = {(r["line"], r["kind"]) for r in data["audience"]["rejected"]}
    assert rejected == {(SIZE + 2, "duplicate"), (SIZE + 3, "invalid")}
    return data


def bodies(out: Path, name_part: str) -> list[Any]:
    entries = [e for e in manifest(out)["requests"] if name_part in e["file"]]
    return [json.loads((out / e["file"]).read_text()) for e in entries]


def personal_values() -> dict[str, merge.Personal]:
    """What our own send would put in each copy, to compare with the providers' merge."""
    project = Project.at(REPO)
    personalizer = merge.Personalizer(project.config, "2020-10", SECRET.encode())
    names = ["Ann", "Åse Øvrebø", 'Eve "quoted" & <co>', "", "Dr. Ola Nordmann, PhD"]
    out = {}
    for i in range(SIZE):
        r = Recipient(
            f"user{i:05d}@example.org",
            names[i % 5],
            ("en", "nb", "")[i % 3],
            {"city": ("Oslo", "Tromsø", "")[i % 3]},
        )
        out[r.email] = personalizer.personal(r)
    return out


PERSONAL = personal_values()
ALL = set(PERSONAL)


def expected(prepared_html: str, prepared_text: str, email_: str) -> tuple[str, str]:
    values = PERSONAL[email_].values
    return merge.fill(prepared_html, values, escape=True), merge.fill(prepared_text, values)


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(Project.at(REPO), "2020-10")


# --- per provider ----------------------------------------------------------------------------


def test_sendgrid_batches_of_1000_personalizations(
    exported: dict[str, Path], prepared: Prepared
) -> None:
    requests = bodies(exported["sendgrid"], "mail-send")
    assert [len(r["personalizations"]) for r in requests] == [1000, 1000, 345]
    seen: list[str] = []
    for body in requests:
        check(body, SENDGRID)
        assert [c["type"] for c in body["content"]] == ["text/plain", "text/html"]
        addresses = [t["email"].lower() for p in body["personalizations"] for t in p["to"]]
        assert len(addresses) == len(set(addresses)), "each address at most once per request"
        seen += addresses
        text, html = body["content"][0]["value"], body["content"][1]["value"]
        for p in body["personalizations"][::97]:  # SendGrid's substitution, simulated
            got_text, got_html = text, html
            for key, value in p["substitutions"].items():
                got_text, got_html = got_text.replace(key, value), got_html.replace(key, value)
            assert (got_html, got_text) == expected(
                prepared.html, prepared.text, p["to"][0]["email"]
            )
            assert (
                p["headers"]["List-Unsubscribe"] == PERSONAL[p["to"][0]["email"]].list_unsubscribe
            )
        assert body["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert body["asm"] == {"group_id": 42}
    assert set(seen) == ALL and len(seen) == SIZE


def mailgun_merge(content: str, values: dict[str, str]) -> str:
    return re.sub(r"%recipient\.([A-Za-z0-9_]+)%", lambda m: values[m.group(1)], content)


def test_mailgun_batches_of_1000_with_recipient_variables(
    exported: dict[str, Path], prepared: Prepared
) -> None:
    requests = bodies(exported["mailgun"], "messages")
    assert [len(r["to"]) for r in requests] == [1000, 1000, 345]
    seen = []
    for body in requests:
        check(body, MAILGUN)
        variables = json.loads(body["recipient-variables"])
        to = [email.utils.parseaddr(t)[1] for t in body["to"]]
        assert set(variables) == set(to), "recipient-variables is keyed by every address"
        seen += to
        for address in to[::101]:  # Mailgun's %recipient.key% substitution, simulated
            html, text, header = (
                mailgun_merge(content, variables[address])
                for content in (body["html"], body["text"], body["h:List-Unsubscribe"])
            )
            assert (html, text) == expected(prepared.html, prepared.text, address)
            assert header == PERSONAL[address].list_unsubscribe
        assert body["h:List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert set(seen) == ALL and len(seen) == SIZE


def test_postmark_batches_of_500_complete_messages(
    exported: dict[str, Path], prepared: Prepared
) -> None:
    requests = bodies(exported["postmark"], "email-batch")
    assert [len(r) for r in requests] == [500, 500, 500, 500, 345]
    seen = []
    for batch in requests:
        check(batch, POSTMARK)
        for message in batch[::83]:
            address = email.utils.parseaddr(message["To"])[1]
            assert (message["HtmlBody"], message["TextBody"]) == expected(
                prepared.html, prepared.text, address
            )
            headers = {h["Name"]: h["Value"] for h in message["Headers"]}
            assert headers["List-Unsubscribe"] == PERSONAL[address].list_unsubscribe
            assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        seen += [email.utils.parseaddr(m["To"])[1] for m in batch]
    assert set(seen) == ALL and len(seen) == SIZE


def ses_validate(operation: str, params: dict[str, Any]) -> None:
    """botocore's own SESv2 model, plus the limits the model only documents."""
    import botocore.session
    from botocore.validate import validate_parameters

    model = botocore.session.get_session().get_service_model("sesv2")
    shape = model.operation_model(operation).input_shape
    validate_parameters(params, shape)
    if operation == "SendBulkEmail":
        assert len(params["BulkEmailEntries"]) <= 50
        header = model.shape_for("MessageHeader")
        headers = list(params["DefaultContent"]["Template"].get("Headers", []))
        for entry in params["BulkEmailEntries"]:
            headers += entry.get("ReplacementHeaders", [])
        for h in headers:
            assert re.fullmatch(header.members["Name"].metadata["pattern"], h["Name"])
            assert re.fullmatch(header.members["Value"].metadata["pattern"], h["Value"])
            assert len(h["Value"]) <= 995 and len(h["Name"]) + len(h["Value"]) <= 996


def ses_render(template: str, data: dict[str, str]) -> str:
    """Render like SES (Handlebars {{var}}, no escaping), with moto's implementation."""
    from moto.ses.template import parse_template

    return parse_template(template, data)


def test_ses_template_and_bulk_requests_of_50(
    exported: dict[str, Path], prepared: Prepared
) -> None:
    (template,) = bodies(exported["ses"], "create-email-template")
    ses_validate("CreateEmailTemplate", template)
    requests = bodies(exported["ses"], "send-bulk-email")
    assert [len(r["BulkEmailEntries"]) for r in requests] == [50] * 46 + [45]
    seen = []
    content = template["TemplateContent"]
    for body in requests:
        ses_validate("SendBulkEmail", body)
        template_data = body["DefaultContent"]["Template"]
        assert template_data["TemplateName"] == template["TemplateName"]
        defaults = json.loads(template_data["TemplateData"])
        for entry in body["BulkEmailEntries"]:
            (to,) = entry["Destination"]["ToAddresses"]
            address = email.utils.parseaddr(to)[1]
            seen.append(address)
            assert entry["ReplacementHeaders"] == [
                {"Name": "List-Unsubscribe", "Value": PERSONAL[address].list_unsubscribe}
            ]
        for entry in body["BulkEmailEntries"][::13]:
            address = email.utils.parseaddr(entry["Destination"]["ToAddresses"][0])[1]
            data = {
                **defaults,
                **json.loads(
                    entry["ReplacementEmailContent"]["ReplacementTemplate"][
                        "ReplacementTemplateData"
                    ]
                ),
            }
            assert (ses_render(content["Html"], data), ses_render(content["Text"], data)) == (
                expected(prepared.html, prepared.text, address)
            )
            assert ses_render(content["Subject"], data) == prepared.subject
    assert set(seen) == ALL and len(seen) == SIZE


def test_ses_keeps_literal_braces_and_escapes_html_values(tmp_path: Path) -> None:
    from newsletter.deliver.export.ses import SesIssue

    project = Project.at(REPO)
    issue = prepare(project, "2020-10").issue.model_copy(update={"subject": "Maths {{ 7*7 }}"})
    prepared = Prepared(
        project,
        issue,
        html="<p>{{ 7*7 }} Hi %%name%%, %%city%%</p>",
        text="{{{x}}} Hi %%name%% %%unsubscribe_url%%",
    )
    ses = SesIssue(prepared)
    personal = merge.Personalizer(project.config, "2020-10", b"k" * 16).personal(
        Recipient("a@example.org", "<b>Ann</b>", fields={"city": "{{city}}"})
    )
    request = ses.bulk_email([(Recipient("a@example.org"), personal)])
    ses_validate("SendBulkEmail", request)
    ses_validate("CreateEmailTemplate", ses.create_template())
    entry = request["BulkEmailEntries"][0]["ReplacementEmailContent"]["ReplacementTemplate"]
    data = json.loads(entry["ReplacementTemplateData"])
    content = ses.create_template()["TemplateContent"]
    assert (
        ses_render(content["Html"], data) == "<p>{{ 7*7 }} Hi &lt;b&gt;Ann&lt;/b&gt;, {{city}}</p>"
    )
    assert ses_render(content["Text"], data) == (
        "{{{x}}} Hi <b>Ann</b> " + personal.values["unsubscribe_url"]
    )
    assert ses_render(content["Subject"], data) == "Maths {{ 7*7 }}"
    with pytest.raises(ValueError, match="1 to 50"):
        ses.bulk_email([(Recipient("a@example.org"), personal)] * 51)


def test_mailchimp_members_of_500_then_campaign_and_content(exported: dict[str, Path]) -> None:
    out = exported["mailchimp"]
    requests = manifest(out)["requests"]
    assert [e["method"] for e in requests] == ["POST"] * 5 + ["POST", "PUT"]
    members = bodies(out, "list-members")
    assert [len(m["members"]) for m in members] == [500, 500, 500, 500, 345]
    seen = []
    for body in members:
        check(body, MAILCHIMP_MEMBERS)
        assert body["update_existing"] is False  # never re-subscribe someone who left
        seen += [m["email_address"] for m in body["members"]]
    assert set(seen) == ALL and len(seen) == SIZE
    (campaign,) = bodies(out, "create-campaign")
    check(campaign, MAILCHIMP_CAMPAIGN)
    assert campaign["recipients"]["list_id"] == "a1b2c3d4e5"
    (content,) = bodies(out, "set-content")
    check(content, MAILCHIMP_CONTENT)
    assert "*|UNSUB|*" in content["html"] and "*|UNSUB|*" in content["plain_text"]
    assert "%%" not in content["html"] + content["plain_text"]
    assert requests[-1]["url"].endswith("/campaigns/{campaign_id}/content")


def test_brevo_contact_imports_then_campaign(exported: dict[str, Path]) -> None:
    out = exported["brevo"]
    imports = bodies(out, "contacts-import")
    assert [len(b["jsonBody"]) for b in imports] == [1000, 1000, 345]
    seen = []
    for body in imports:
        check(body, BREVO_IMPORT)
        assert len(json.dumps(body).encode()) < 8 * 1024 * 1024  # Brevo's safe body size
        seen += [c["email"] for c in body["jsonBody"]]
    assert set(seen) == ALL and len(seen) == SIZE
    (campaign,) = bodies(out, "create-email-campaign")
    check(campaign, BREVO_CAMPAIGN)
    assert "{{ unsubscribe }}" in campaign["htmlContent"] and "%%" not in campaign["htmlContent"]
    assert campaign["recipients"] == {"listIds": [2]}


def test_listmonk_one_import_then_campaign_and_start(exported: dict[str, Path]) -> None:
    out = exported["listmonk"]
    entries = manifest(out)["requests"]
    assert [(e["method"], e["url"]) for e in entries] == [
        ("POST", "/api/import/subscribers"),
        ("POST", "/api/campaigns"),
        ("PUT", "/api/campaigns/{campaign_id}/status"),
    ]
    params = json.loads(json.loads((out / entries[0]["file"]).read_text())["params"])
    check(params, LISTMONK_IMPORT_PARAMS)
    rows = list(csv.DictReader(io.StringIO((out / entries[0]["form"]["file"]).read_text())))
    assert len(rows) == SIZE and {r["email"] for r in rows} == ALL
    assert all(isinstance(json.loads(r["attributes"]), dict) for r in rows)
    (campaign,) = bodies(out, "create-campaign")
    check(campaign, LISTMONK_CAMPAIGN)
    assert campaign["lists"] == [1, 3] and "{{ UnsubscribeURL }}" in campaign["body"]
    (status,) = bodies(out, "start-campaign")
    check(status, LISTMONK_STATUS)


def test_eml_one_message_per_recipient(exported: dict[str, Path], prepared: Prepared) -> None:
    out = exported["eml"]
    manifest(out)
    with (out / "index.csv").open() as fh:
        index = list(csv.DictReader(fh))
    assert len(index) == SIZE and {r["email"] for r in index} == ALL
    assert len(list(out.glob("*.eml"))) == SIZE
    for row in index[::211]:
        msg = email.message_from_bytes((out / row["file"]).read_bytes(), policy=policy.default)
        assert msg["To"].addresses[0].addr_spec == row["email"]
        plain, rich = (p.get_content().replace("\r\n", "\n") for p in msg.iter_parts())
        assert (rich, plain) == expected(prepared.html, prepared.text, row["email"])
        assert msg["List-Unsubscribe"] == PERSONAL[row["email"]].list_unsubscribe


# --- behaviour shared by every export ---------------------------------------------------------


@pytest.mark.usefixtures("backend")
def test_suppressed_addresses_are_not_exported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSLETTER_SECRET", SECRET)
    project = make_project(tmp_path / "p")
    with SuppressionList(project.database) as suppressions:
        suppressions.add([(1, "Bob@Example.com")], "unsubscribed")
    result = export_issue(
        project, "2020-10", "sendgrid", tmp_path / "out", FIXTURES / "audiences" / "sample.csv"
    )
    (body,) = bodies_of(tmp_path / "out")
    sent = {p["to"][0]["email"] for p in body["personalizations"]}
    assert "bob@example.com" not in sent and len(sent) == 4
    assert result.audience is not None and result.audience.count("suppressed") == 1


def bodies_of(out: Path) -> list[Any]:
    data = json.loads((out / "manifest.json").read_text())
    return [json.loads((out / e["file"]).read_text()) for e in data["requests"]]


def test_exports_that_need_an_audience_say_so(tmp_path: Path) -> None:
    project = make_project(tmp_path / "p")
    for provider in ("sendgrid", "mailgun", "postmark", "ses"):
        with pytest.raises(ExportError) as info:
            export_issue(project, "2020-10", provider, tmp_path / provider)
        assert "needs an audience" in info.value.message and "--audience" in (info.value.hint or "")
    # Campaign providers send to their own lists: no audience, no secret needed.
    for provider in ("mailchimp", "brevo", "listmonk"):
        result = export_issue(project, "2020-10", provider, tmp_path / provider)
        assert result.requests >= 1 and (tmp_path / provider / "manifest.json").is_file()


def test_a_personal_export_needs_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSLETTER_SECRET", raising=False)
    project = make_project(tmp_path / "p")
    with pytest.raises(ConfigError, match="NEWSLETTER_SECRET is not set"):
        export_issue(
            project, "2020-10", "eml", tmp_path / "out", FIXTURES / "audiences" / "sample.csv"
        )


def test_missing_provider_settings_name_the_key(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    shutil.copy(REPO / "newsletter.toml", root / "newsletter.toml")
    shutil.copytree(REPO / "issues", root / "issues")
    with pytest.raises(ExportError) as info:
        export_issue(Project.at(root), "2020-10", "mailchimp", tmp_path / "out")
    assert "providers.mailchimp_list_id" in info.value.message


def test_unknown_provider(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="unknown provider 'mailjet'"):
        export_issue(make_project(tmp_path / "p"), "2020-10", "mailjet", tmp_path / "out")
