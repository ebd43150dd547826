"""The golden files' tag-per-line form: one line per tag, and not a byte lost."""

import pytest

from tests.goldenfmt import joined, tag_per_line

TRICKY = (
    "<!doctype html><html><head><!--[if !mso]><!--><meta x=1><!--<![endif]-->"
    "<style>\n  a > b { color: red }\n</style></head><body>\n  <p>1 < 2 &amp; <b>bold</b> tail"
    "<!-- a comment with <tags> -->"
    "<!--[if mso | IE]><table><tr><![endif]--><td>\n\n</td>trailing text with a < and no end"
)


def test_every_tag_ends_a_line() -> None:
    assert tag_per_line("<p>Hi <b>you</b></p>\n") == "<p>\nHi <b>\nyou</b>\n</p>\n\n"
    lines = tag_per_line(TRICKY).splitlines()
    assert "<!--[if mso | IE]>" in lines and "<![endif]-->" in lines
    assert " tail<!-- a comment with <tags> -->" in lines  # a comment stays whole
    assert "1 < 2 &amp; <b>" in lines  # a bare "<" is text
    assert "<!--[if !mso]>" in lines and "<!-->" in lines


@pytest.mark.parametrize(
    "html", [TRICKY, "", "no tags", "<a>", "\n<a>\n\n<b>\n", "<", "a<b", "<!--", "<!-- x"]
)
def test_joined_gives_back_every_byte(html: str) -> None:
    assert joined(tag_per_line(html)) == html


def test_a_file_not_in_that_form_is_refused() -> None:
    with pytest.raises(ValueError, match="no line break"):
        joined("<p>Hi</p>")
