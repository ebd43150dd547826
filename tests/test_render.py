from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import RenderError
from newsletter.models import Image, Issue, Section, Story
from newsletter.render import make_environment, package_templates, render_issue
from tests.conftest import write_project


@pytest.fixture
def config(tmp_path: Path):  # type: ignore[no-untyped-def]
    root = write_project(tmp_path, [])
    return load_config(root / "newsletter.toml")


def issue_with(*stories: Story) -> Issue:
    return Issue(
        month="2020-10", subject="S", sections=[Section(title="News", stories=list(stories))]
    )


def story(**overrides: object) -> Story:
    fields: dict[str, object] = {
        "id": "1",
        "title": "Title",
        "url": "https://example.org/a",
        "published": datetime(2020, 10, 5, tzinfo=UTC),
    }
    fields.update(overrides)
    return Story.model_validate(fields)


def test_story_text_stays_literal(config) -> None:  # type: ignore[no-untyped-def]
    hostile = story(
        title="<script>alert(1)</script> {{ 7*7 }}",
        summary='<img src=x onerror="alert(1)"> {% if true %}x{% endif %}',
    )
    env = make_environment([package_templates()])
    rendered = render_issue(env, config, issue_with(hostile))
    assert "<script>alert" not in rendered.html
    assert "&lt;script&gt;" in rendered.html
    assert "{{ 7*7 }}" in rendered.html and "49" not in rendered.html
    assert "<img src=x" not in rendered.html
    assert "{% if true %}" in rendered.text


def test_story_without_image_has_no_img(config) -> None:  # type: ignore[no-untyped-def]
    env = make_environment([package_templates()])
    html = render_issue(env, config, issue_with(story())).html
    assert "<img" not in html
    with_image = story(image=Image(url="https://example.org/i.jpg", alt="A photo"))
    html = render_issue(env, config, issue_with(with_image)).html
    assert 'alt="A photo"' in html


def test_template_syntax_error_names_template_and_line(config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "email.mjml.j2").write_text("<mjml>\n<mj-body>\n{% if %}\n</mj-body></mjml>")
    env = make_environment([custom, package_templates()])
    with pytest.raises(RenderError, match=r"email.mjml.j2:3: template syntax error"):
        render_issue(env, config, issue_with(story()))


def test_mjml_error_is_reported(config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    custom = tmp_path / "templates"
    custom.mkdir()
    (custom / "email.mjml.j2").write_text("<mjml><mj-body><mj-section></mj-body></mjml>")
    env = make_environment([custom, package_templates()])
    with pytest.raises(RenderError, match="MJML error"):
        render_issue(env, config, issue_with(story()))
