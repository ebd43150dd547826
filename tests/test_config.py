from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import ConfigError
from tests.conftest import write_project


def test_missing_config_names_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"newsletter\.toml: not found"):
        load_config(tmp_path / "newsletter.toml")


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "newsletter.toml"
    path.write_text('[newsletter]\nname = "x\n')
    with pytest.raises(ConfigError, match=r"line 2"):
        load_config(path)


def test_every_invalid_key_is_reported(tmp_path: Path) -> None:
    root = write_project(tmp_path, [{"name": "A", "kind": "rss", "url": "x"}])
    text = (root / "newsletter.toml").read_text()
    text = text.replace('from_email = "news@example.org"', 'from_email = "not-an-address"')
    text = text.replace("[newsletter]", "[newsletter]\ncolour = 1")
    (root / "newsletter.toml").write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(root / "newsletter.toml")
    message = str(info.value)
    assert "newsletter.from_email" in message
    assert "newsletter.colour" in message
    assert "sources.0.kind" in message


def test_duplicate_source_names(tmp_path: Path) -> None:
    root = write_project(
        tmp_path,
        [{"name": "A", "kind": "feed", "url": "a.xml"}, {"name": "A", "kind": "feed", "url": "b"}],
    )
    with pytest.raises(ConfigError, match="duplicate source"):
        load_config(root / "newsletter.toml")


def test_sample_config_is_valid() -> None:
    config = load_config(Path(__file__).parent.parent / "newsletter.toml")
    assert config.sources
