"""A fast local SMTP sink for the send benchmark: accepts everything, counts, stores nothing.

``python -m benchmarks.smtpsink --port N [--delay SECONDS]`` serves on 127.0.0.1 with
asyncio's raw protocol (no per-line coroutine), offers PIPELINING (RFC 2920), and answers
``XCOUNT`` with the number of messages accepted so far. ``--delay`` sends each reply that
long after its command arrived, in order, like a link with that much latency: pipelined
commands then wait once, as they would across a network, not once per command. It prints
``ready PORT`` when it listens and stops on SIGTERM or when its parent's stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

GREETING = b"220 sink ESMTP\r\n"
EHLO = b"250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 0\r\n"
END = b"\r\n.\r\n"


class Sink(asyncio.Protocol):
    accepted = 0

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.buffer = bytearray()
        self.in_data = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.reply(GREETING)

    def reply(self, data: bytes, close: bool = False) -> None:
        transport = self.transport
        assert transport is not None
        if not self.delay:
            transport.write(data)
            if close:
                transport.close()
            return

        def later() -> None:
            if not transport.is_closing():
                transport.write(data)
                if close:
                    transport.close()

        asyncio.get_running_loop().call_later(self.delay, later)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        start = 0
        while True:
            if self.in_data:
                # The message ends at CRLF "." CRLF; the CRLF before the "." may be the
                # DATA line's own (an empty message).
                end = buffer.find(END, max(start - 2, 0))
                if end < 0:
                    break
                start = end + len(END)
                self.in_data = False
                Sink.accepted += 1
                self.reply(b"250 2.0.0 queued\r\n")
                continue
            end = buffer.find(b"\r\n", start)
            if end < 0:
                break
            line = bytes(buffer[start:end])
            start = end + 2
            self.command(line)
        del buffer[:start]

    def command(self, line: bytes) -> None:
        verb = line[:4].upper()
        if verb == b"EHLO":
            self.reply(EHLO)
        elif verb == b"DATA":
            self.in_data = True
            self.reply(b"354 go ahead\r\n")
        elif verb == b"QUIT":
            self.reply(b"221 bye\r\n", close=True)
        elif verb == b"XCOU":
            self.reply(f"250 {Sink.accepted}\r\n".encode())
        else:  # HELO, MAIL, RCPT, RSET, NOOP
            self.reply(b"250 OK\r\n")

    def eof_received(self) -> bool | None:
        return None


async def serve(port: int, delay: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Sink(delay), "127.0.0.1", port, backlog=256)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_reader(sys.stdin.fileno(), lambda: stop.set() if not sys.stdin.read(1) else None)
    bound = server.sockets[0].getsockname()[1]
    print(f"ready {bound}", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.smtpsink")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0, help="Seconds before each reply.")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.delay))


if __name__ == "__main__":
    main()
