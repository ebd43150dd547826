"""newsletter.toml errors name their line, and "did you mean" a misspelt key."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.configerrors import key_lines
from newsletter.errors import ConfigError

GOOD = """\
# The settings of one newsletter.
[newsletter]
name = "News"
from_email = "news@example.org"
postal_address = "Street 1, City"
web_url = "https://news.example.org"
unsubscribe_url = "https://news.example.org/unsubscribe"
about = '''
Several lines
[not] a table = no
'''

[brand]
primary_color = "#005f73"

[draft]
max_stories = 8
keywords = { "cancer" = 1.0, trial = 0.5 }
section_order = [
  "News",  # [x]
  "not = a key",
]

[[sources]]
name = "One"
kind = "feed"
url = "https://example.org/feed/"

[[sources]]
name = "Two"
kind = "page"
url = "https://example.org/news/"

[sources.selectors]
item = ".news"
"""


def problem(tmp_path: Path, text: str) -> str:
    path = tmp_path / "newsletter.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return info.value.message


def line_of(text: str, fragment: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), 1) if fragment in line)


def test_key_lines_places_tables_keys_and_array_elements(tmp_path: Path) -> None:
    (tmp_path / "newsletter.toml").write_text(GOOD)
    load_config(tmp_path / "newsletter.toml")  # the example itself is valid
    lines = key_lines(GOOD)
    assert lines[("newsletter", "name")] == 3
    assert lines[("newsletter", "about")] == 8
    assert ("not",) not in lines and ("newsletter", "[not] a table") not in lines
    assert lines[("brand", "primary_color")] == line_of(GOOD, "primary_color")
    assert lines[("draft", "keywords", "cancer")] == line_of(GOOD, "keywords")
    assert lines[("draft", "keywords", "trial")] == line_of(GOOD, "keywords")
    assert lines[("sources", 0)] == line_of(GOOD, "[[sources]]")
    assert lines[("sources", 1, "kind")] == line_of(GOOD, '"page"')
    assert ("draft", "not") not in lines  # inside a multi-line array
    assert lines[("sources", 1, "selectors", "item")] == line_of(GOOD, '".news"')


def test_a_bad_value_names_its_line_without_pydantics_prefix(tmp_path: Path) -> None:
    text = GOOD.replace('"#005f73"', '"blue"')
    message = problem(tmp_path, text)
    line = line_of(text, "primary_color")
    assert f"line {line}, brand.primary_color: must be a hex colour" in message
    assert "Value error" not in message


def test_unknown_keys_and_tables_suggest_the_right_one(tmp_path: Path) -> None:
    text = GOOD.replace("max_stories = 8", "max_storys = 8") + '\n[smpt]\nhost = "x"\n'
    message = problem(tmp_path, text)
    assert (
        f"line {line_of(text, 'max_storys')}, draft.max_storys: unknown key 'max_storys'; "
        "did you mean 'max_stories'?"
    ) in message
    assert f"line {line_of(text, '[smpt]')}, smpt: unknown key 'smpt'; did you mean 'smtp'?" in (
        message
    )
    assert message.index("max_storys") < message.index("smpt")  # in file order


def test_a_problem_in_the_second_source_points_at_it(tmp_path: Path) -> None:
    text = GOOD.replace('kind = "page"', 'kind = "pages"').replace('name = "Two"', 'nmae = "Two"')
    message = problem(tmp_path, text)
    assert f"line {line_of(text, 'pages')}, sources.1.kind:" in message
    typo = line_of(text, "nmae")
    assert f"line {typo}, sources.1.nmae: unknown key 'nmae'; did you mean 'name'?" in message
    # A missing key is reported at its table.
    assert f"line {typo - 1}, sources.1.name: missing" in message


def test_duplicate_source_names_name_the_second_one(tmp_path: Path) -> None:
    text = GOOD.replace('name = "Two"', 'name = "One"')
    message = problem(tmp_path, text)
    line = line_of(text, 'kind = "page"') - 1
    assert f"line {line}, sources.1.name: duplicate source name 'One'" in message
