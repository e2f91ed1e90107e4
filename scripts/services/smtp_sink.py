"""A loopback SMTP sink for ecowatch's alert tests (aiosmtpd).

Every accepted message is written whole to its own file, `<n>.eml`, in the mail directory
(written to a temporary name first, then renamed, so a reader never sees half a message).
Recipients decide the reply, so tests can exercise the relay's error handling:
  tempfail...@...  -> 451 (transient: the sender retries)
  reject...@...    -> 550 (permanent: the sender gives up)
  anything else    -> accepted

usage: smtp_sink.py HOST PORT MAILDIR
"""

import asyncio
import itertools
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, maildir):
        self.maildir = maildir
        self.counter = itertools.count(1)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 mailbox temporarily unavailable"
        if local.startswith("reject"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        n = next(self.counter)
        final = os.path.join(self.maildir, f"{os.getpid()}-{n:06d}.eml")
        tmp = final + ".tmp"
        with open(tmp, "wb") as f:
            f.write(envelope.original_content or envelope.content)
        os.rename(tmp, final)
        return "250 Message accepted"


def main():
    host, port, maildir = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.makedirs(maildir, exist_ok=True)
    controller = Controller(Sink(maildir), hostname=host, port=port)
    controller.start()
    print("ready", flush=True)
    try:
        asyncio.get_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
