"""Issue files: ``issues/YYYY-MM.yaml``, read, checked and written with ruamel.yaml.

The file is self-contained (every story is a snapshot), readable in a pull-request diff,
and edited by hand. ``yamlio`` reads and writes it, ``validate`` checks it (every problem
with file, line and key; ``load_issue`` is what build uses), and ``roundtrip`` is how
``newsletter draft`` adds to a file without disturbing anyone's edits. Every read goes
through ``bounded``: size, nesting and aliases are capped, so no file can hang a command.
"""

from newsletter.issuefile.bounded import MAX_BYTES, MAX_DEPTH, quick_load, read_issue_text
from newsletter.issuefile.roundtrip import (
    add_alternates,
    annotate_alternates,
    fill_snapshot,
    incomplete_stories,
    offered_ids,
    record_offered,
    set_send_date,
    story_ids,
    tree_send_date,
)
from newsletter.issuefile.validate import (
    IssueReport,
    Level,
    Problem,
    load_issue,
    validate_issue,
    validate_tree,
)
from newsletter.issuefile.yamlio import (
    HEADER,
    dump_yaml,
    issue_to_yaml,
    line_of,
    read_yaml,
    story_tree,
    write_text,
)

__all__ = [
    "HEADER",
    "MAX_BYTES",
    "MAX_DEPTH",
    "IssueReport",
    "Level",
    "Problem",
    "add_alternates",
    "annotate_alternates",
    "dump_yaml",
    "fill_snapshot",
    "incomplete_stories",
    "issue_to_yaml",
    "line_of",
    "load_issue",
    "offered_ids",
    "quick_load",
    "read_issue_text",
    "read_yaml",
    "record_offered",
    "set_send_date",
    "story_ids",
    "story_tree",
    "tree_send_date",
    "validate_issue",
    "validate_tree",
    "write_text",
]
