"""One SMTP connection of a send (a *lane*): claims, pipelined commands, one commit a message.

Per round a lane commits one step (through the run's writer, which joins every lane's step
into one transaction): the answer to the message it sent last, ``sending`` for the message
whose text the server holds and whose final "." goes next, and the claim of the message
after that. Then it writes that "." and, with PIPELINING (RFC 2920), the next message's
MAIL, RCPT and DATA in the same packet, reads the four replies and writes the next text.
Without PIPELINING the same commands go one at a time. So each message costs one commit
and one round trip, a claim is on disk before its MAIL leaves, ``sending`` before its ".",
and at most one message per lane is ever in doubt (a crash between its "." and the next
commit). A lane holds at most two messages: the one in flight and the one being claimed.

Replies: 2xx accepted; 5xx a permanent failure of that recipient (a 5xx to MAIL stops the
send: the sender itself is refused); 4xx and a dropped connection are retried on this lane
after a backoff, up to ``[send] max_attempts``, then left ``deferred``. Only a connection
lost after the "." left and before its reply leaves a message ``uncertain``.
"""

from __future__ import annotations

import contextlib
import smtplib
from collections import deque
from typing import TYPE_CHECKING, Protocol

from newsletter.errors import SendError
from newsletter.store.sendlog import Outcome, Step

if TYPE_CHECKING:
    from collections.abc import Callable

    from newsletter.deliver.send.lanes import Committer, Sending
    from newsletter.deliver.send.transport import Outgoing

DOT = b".\r\n"
LOST = (smtplib.SMTPServerDisconnected, OSError)


class Transient(Exception):
    """The server did not take it, but may later: retry (``drop``: reconnect first)."""

    def __init__(self, detail: str, *, drop: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.drop = drop


def reply_text(code: int, message: bytes | str) -> str:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return f"{code} {' '.join(text.split())}"


class Wire(Protocol):
    """What a lane asks of its transport (``smtp.SmtpTransport``)."""

    max_attempts: int
    pipelining: bool
    sleep: Callable[[float], None]

    @property
    def envelope_from(self) -> str: ...

    @property
    def connect_attempts(self) -> int: ...

    def describe(self) -> str: ...

    def backoff(self, attempt: int) -> float: ...

    def envelope(self, item: Outgoing) -> list[bytes]: ...

    def connect(self) -> smtplib.SMTP: ...

    def unreachable(self, detail: str) -> SendError: ...

    def hang_up(self, conn: smtplib.SMTP, *, polite: bool) -> None: ...


class Lane:
    def __init__(self, transport: Wire, sending: Sending, log: Committer, *, first: bool) -> None:
        self.transport = transport
        self.sending = sending
        self.log = log
        self.first = first  # the first lane must connect; the others may find no room
        self.connected = False  # once connected, a lane reconnects as hard as the first
        self.conn: smtplib.SMTP | None = None
        self.pipelining = False
        self.outcomes: list[Outcome] = []  # answers not yet committed
        self.back: list[str] = []  # refused after "sending": take back at the next commit
        self.ready: Outgoing | None = None  # its text is at the server; its "." goes next
        # Claimed, to try again after a backoff (None: at once, it was not at fault).
        self.retries: deque[tuple[Outgoing, float | None]] = deque()
        self.tries: dict[str, int] = {}

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> None:
        try:
            while True:
                nxt, fresh = self._choose()
                if nxt is None and self.ready is None:
                    break
                if nxt is not None and self.conn is None and not self._connect(nxt, fresh):
                    if fresh:
                        self.sending.feed.give_back(nxt)
                    break
                self._round(nxt, fresh)
            self._flush()
        except Exception:
            with contextlib.suppress(Exception):  # the run's end tries again if this fails
                self._flush()
            raise
        finally:
            self._drop(polite=True)

    def _choose(self) -> tuple[Outgoing | None, bool]:
        """The next message to start, if any: a retry first, else a fresh one."""
        sending = self.sending
        if sending.stopping():
            if self.ready is not None:  # its "." never leaves: the claim is simply freed
                self.ready = None
                self._drop()
            while self.retries:
                item = self.retries.popleft()[0]
                self._outcome(Outcome(item.recipient.key, "deferred", "the send was stopped"))
            return None, False
        if self.retries:
            if self.ready is not None:
                return None, False  # finish the message in flight first
            item, delay = self.retries.popleft()
            if delay is not None:
                self._flush()  # never in doubt while waiting
                self.transport.sleep(delay)
            return item, False
        taken = sending.feed.take()
        if taken is None:
            return None, False
        if self.ready is not None:
            if not sending.pacer.due():
                sending.feed.give_back(taken)  # send the "." alone; pace with nothing in flight
                return None, False
        else:
            self._flush()
            sending.pacer.take()
        return taken, True

    def _round(self, nxt: Outgoing | None, fresh: bool) -> None:
        """One commit, then the "." of ``ready`` and ``nxt``'s MAIL, RCPT and DATA."""
        ready: Outgoing | None = self.ready
        step = Step(
            record=tuple(self.outcomes),
            take_back=tuple(self.back),
            hand_over=(ready.recipient.key,) if ready else (),
            claim=(nxt.recipient.key,) if nxt and fresh else (),
            message_ids=(nxt.personal.message_id,) if nxt and fresh else (),
        )
        try:
            done = self.log.commit(step)
        except BaseException:
            if ready is not None:
                self.ready = None
                self._drop()  # its text without "." is discarded by the server
            raise
        self.outcomes, self.back = [], []
        if nxt is not None and fresh and nxt.recipient.key not in done.claimed:
            self.sending.pacer.give_back()
            self.sending.add(Outcome(nxt.recipient.key, "skipped", "claimed by another run"))
            nxt = None
        if ready is not None and ready.recipient.key not in done.handed:
            self.ready = None
            self._drop()
            self.sending.add(Outcome(ready.recipient.key, "skipped", "taken over by another run"))
            if nxt is not None:  # ours, but this connection is gone: again, at once
                self.retries.append((nxt, None))
            return
        self._exchange(ready, nxt)

    # --- the wire ----------------------------------------------------------------------------

    def _exchange(self, ready: Outgoing | None, nxt: Outgoing | None) -> None:
        """Write "." for ``ready`` and MAIL, RCPT, DATA for ``nxt``; read the replies."""
        assert self.conn is not None
        conn = self.conn
        self.ready = None
        commands: list[bytes] = [DOT] if ready is not None else []
        if nxt is not None:
            try:
                commands += self.transport.envelope(nxt)
            except SendError as exc:  # an address this server cannot take
                self._outcome(Outcome(nxt.recipient.key, "failed", exc.message))
                nxt = None
        replies: list[tuple[int, bytes] | None] = []
        written = 0  # commands known to have left
        try:
            if self.pipelining:
                conn.send(b"".join(commands))
                written = len(commands)
                for _ in commands:
                    replies.append(conn.getreply())
            else:
                for i, command in enumerate(commands):
                    if i > (1 if ready else 0) and replies[-1] and replies[-1][0] >= 300:
                        break  # MAIL or RCPT refused: no RCPT or DATA after it
                    conn.send(command)
                    written += 1
                    replies.append(conn.getreply())
        except LOST as exc:
            self._lost(ready, nxt, replies, written, exc)
            return
        if ready is not None:
            self._finished(ready, replies.pop(0))
            if self.conn is None:  # 421 to the ".": the next message goes on a new connection
                if nxt is not None:
                    self.retries.append((nxt, None))
                return
        if nxt is not None:
            self._started(nxt, replies)

    def _finished(self, item: Outgoing, reply: tuple[int, bytes] | None) -> None:
        key = item.recipient.key
        assert reply is not None
        code, text = reply
        if 200 <= code < 300:
            self._outcome(Outcome(key, "sent", reply_text(code, text), item.personal.message_id))
        elif code >= 500:
            self._outcome(Outcome(key, "failed", reply_text(code, text)))
        else:
            self.back.append(key)  # refused: certainly not accepted
            self._transient(item, reply_text(code, text), drop=code == 421)

    def _started(self, item: Outgoing, replies: list[tuple[int, bytes] | None]) -> None:
        """MAIL, RCPT, DATA answered: write the text, or note the refusal."""
        key = item.recipient.key
        mail, rcpt, data = [*replies, None, None, None][:3]
        assert mail is not None
        stage, refused = "", None
        for name, reply, ok in (("MAIL", mail, (250,)), ("RCPT", rcpt, (250, 251)),
                                ("DATA", data, (354,))):  # fmt: skip
            if reply is not None and reply[0] not in ok:
                stage, refused = name, reply
                break
        if refused is None:
            assert self.conn is not None
            try:
                self.conn.send(item.data)
            except LOST as exc:
                self._drop()
                self._transient(item, f"connection lost: {exc or type(exc).__name__}")
                return
            self.ready = item
            return
        code, text = refused
        if data is not None and data[0] == 354:
            self._end_empty()  # a server that opened DATA with no recipient: close it
        if stage == "MAIL" and code >= 500:
            self._outcome(Outcome(key, "deferred", reply_text(code, text)))
            self._reset()
            raise SendError(
                f"{self.transport.describe()} refuses the sender "
                f"{self.transport.envelope_from}: {reply_text(code, text)}",
                hint="check [newsletter] from_email or [smtp] envelope_from is allowed to send "
                "through this server",
            )
        if code >= 500:
            self._outcome(Outcome(key, "failed", reply_text(code, text)))
        else:
            self._transient(item, reply_text(code, text), drop=code == 421)
        self._reset()

    def _lost(
        self, ready: Outgoing | None, nxt: Outgoing | None,
        replies: list[tuple[int, bytes] | None], written: int, exc: BaseException,
    ) -> None:  # fmt: skip
        self._drop()
        detail = f"connection lost: {exc or type(exc).__name__}"
        if ready is not None:
            if replies:
                self._finished(ready, replies[0])
            elif written:
                doubt = f"connection lost while the server was accepting the message: {exc}"
                self._outcome(Outcome(ready.recipient.key, "uncertain", doubt))
            else:  # the "." did not leave whole: the server cannot have accepted it
                self.back.append(ready.recipient.key)
                self._transient(ready, detail)
        if nxt is not None:
            self._transient(nxt, detail)

    def _end_empty(self) -> None:
        assert self.conn is not None
        try:
            self.conn.send(DOT)
            self.conn.getreply()
        except LOST:
            self._drop()

    def _reset(self) -> None:
        if self.conn is None:
            return
        try:
            self.conn.rset()
        except (smtplib.SMTPException, OSError):
            self._drop()

    # --- outcomes and retries ----------------------------------------------------------------

    def _outcome(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self.sending.add(outcome)

    def _transient(self, item: Outgoing, detail: str, *, drop: bool = False) -> None:
        """Retry ``item`` on this lane after a backoff, or give up (``deferred``)."""
        if drop:
            self._drop()
        key = item.recipient.key
        tries = self.tries.get(key, 0) + 1
        self.tries[key] = tries
        limit = self.transport.max_attempts
        if tries >= limit:
            self._outcome(Outcome(key, "deferred", f"{detail} (after {limit} attempts)"))
            return
        self.retries.append((item, self.transport.backoff(tries)))

    def _flush(self) -> None:
        if self.outcomes or self.back:
            step = Step(record=tuple(self.outcomes), take_back=tuple(self.back))
            self.outcomes, self.back = [], []
            self.log.commit(step)

    # --- the connection ----------------------------------------------------------------------

    def _connect(self, nxt: Outgoing, fresh: bool) -> bool:
        """Connected before anything is claimed; False when this lane should stop."""
        transport = self.transport
        attempts = transport.connect_attempts if self.first or self.connected else 1
        detail = ""
        for attempt in range(1, attempts + 1):
            try:
                self.conn = transport.connect()
                self.pipelining = transport.pipelining and self.conn.has_extn("pipelining")
                self.connected = True
                return True
            except Transient as exc:
                detail = exc.detail
            if attempt < attempts:
                self._flush()
                transport.sleep(transport.backoff(attempt))
        if not self.first:
            if not fresh:  # claimed already: it stays for the next run
                self._outcome(Outcome(nxt.recipient.key, "deferred", detail))
            return False
        if not fresh:
            self._outcome(Outcome(nxt.recipient.key, "deferred", detail))
            self._flush()
        raise transport.unreachable(detail)

    def _drop(self, *, polite: bool = False) -> None:
        if self.conn is not None:
            self.transport.hang_up(self.conn, polite=polite and self.ready is None)
            self.conn = None
