"""The send log on a real SQLite file: claims are atomic, and only this process owns its claims."""

from pathlib import Path

from newsletter.store.sendlog import Outcome, SendLog


def test_a_claim_is_taken_once_even_by_two_processes_at_the_same_time(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with SendLog(path) as first, SendLog(path) as second:  # two connections, as two processes
        assert first.claim("2020-10", ["a@example.org", "b@example.org"], "smtp") == [
            "a@example.org",
            "b@example.org",
        ]
        assert second.claim("2020-10", ["a@example.org", "c@example.org"], "smtp") == [
            "c@example.org"
        ]
        assert first.statuses("2020-10") == {
            "a@example.org": "sending",
            "b@example.org": "sending",
            "c@example.org": "sending",
        }
        # Another issue is another key.
        assert second.claim("2020-11", ["a@example.org"], "smtp") == ["a@example.org"]


def test_outcomes_and_what_a_rerun_may_take_again(tmp_path: Path) -> None:
    with SendLog(tmp_path / "store.db") as log:
        keys = ["sent@x.org", "failed@x.org", "deferred@x.org", "uncertain@x.org"]
        log.claim("2020-10", keys, "smtp", message_ids=["<1@x>", None, None, None])
        log.record(
            "2020-10",
            [
                Outcome("sent@x.org", "sent", "250 OK", "<1@x>"),
                Outcome("failed@x.org", "failed", "550 no such user"),
                Outcome("deferred@x.org", "deferred", "451 later"),
                Outcome("uncertain@x.org", "uncertain", "connection lost"),
            ],
        )
        assert log.statuses("2020-10") == {
            "sent@x.org": "sent",
            "failed@x.org": "failed",
            "deferred@x.org": "deferred",
            "uncertain@x.org": "sending",  # unknown stays claimed: never resent by default
        }
        assert log.claim("2020-10", keys, "smtp") == ["deferred@x.org"]
        assert log.claim("2020-10", keys, "smtp", retake=("sending",)) == [
            "deferred@x.org",
            "uncertain@x.org",
        ]
        assert log.claim("2020-10", keys, "smtp", retake=("failed",)) == ["failed@x.org"]
        assert log.claim("2020-10", keys, "smtp", retake=("sent",)) == ["sent@x.org"]
        log.release("2020-10", ["sent@x.org"], "could not connect")
        assert log.statuses("2020-10")["sent@x.org"] == "deferred"
        details = {r: d for r, _, d in log.rows("2020-10")}
        assert details["sent@x.org"] == "could not connect"
        attempts = dict(
            log.db.execute("SELECT recipient, attempts FROM send_log WHERE issue = '2020-10'")
        )
        assert attempts["deferred@x.org"] == 3 and attempts["sent@x.org"] == 2
