#!/usr/bin/env python3
"""A loopback webhook receiver for tests/webhooks_cli.rs (standard library only).

Binds 127.0.0.1 on a free port, prints the port on stdout's first line, and appends one JSON
line per request to LOG: method, path, lower-cased headers, body, and whether the Standard
Webhooks signature verified. The verification is written here with hmac/hashlib, independently
of ecowatch's Rust signing code: key = base64-decode of the secret after `whsec_`, content =
"{webhook-id}.{webhook-timestamp}.{raw body}", expected header entry "v1,<base64 HMAC-SHA256>".
The secret is read from SECRET_FILE at each request (the test writes it after `subscribe`).

Answers by path:
  /ok              200 "ok"
  /fail            500
  /switch          200 when MODE_FILE holds "ok", else 500
  /fail-once       500 on the first request for each webhook-id, then 200
  /gone            410
  /redirect        302 to /ok (a client that follows it would show up as a request to /ok)
  /slack-archived  404 "channel_is_archived"
  /hang            waits 5 s, then 200
  anything else    404
A query string does not change the answer (`/ok?slack` is `/ok`), so tests can tell apart
subscriptions that share an answer.
"""

import base64
import hashlib
import hmac
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG, SECRET_FILE, MODE_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
LOCK = threading.Lock()
SEEN_IDS = set()
TOLERANCE_SECONDS = 5 * 60


def read(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def verify(headers, body):
    """True/False when a secret and signature headers exist, None when there is nothing to check."""
    secret = read(SECRET_FILE)
    msg_id = headers.get("webhook-id")
    timestamp = headers.get("webhook-timestamp")
    signatures = headers.get("webhook-signature")
    if not secret or msg_id is None or timestamp is None or signatures is None:
        return None
    try:
        key = base64.b64decode(secret[len("whsec_"):], validate=True)
        if abs(time.time() - int(timestamp)) > TOLERANCE_SECONDS:
            return False
    except ValueError:
        return False
    signed = msg_id.encode() + b"." + timestamp.encode() + b"." + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    for entry in signatures.split(" "):
        version, _, signature = entry.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body=b"", headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        headers = {k.lower(): v for k, v in self.headers.items()}
        record = {
            "method": "POST",
            "path": self.path,
            "headers": headers,
            "body": body.decode("utf-8", "replace"),
            "verified": verify(headers, body),
        }
        with LOCK:
            first_time = (self.path, headers.get("webhook-id")) not in SEEN_IDS
            SEEN_IDS.add((self.path, headers.get("webhook-id")))
            with open(LOG, "a", encoding="utf-8") as f:
                f.write(json.dumps(record) + "\n")
        route = self.path.split("?")[0]
        if route == "/ok":
            self.answer(200, b"ok")
        elif route == "/fail":
            self.answer(500, b"internal error")
        elif route == "/switch":
            self.answer(200, b"ok") if read(MODE_FILE) == "ok" else self.answer(500, b"down")
        elif route == "/fail-once":
            self.answer(500, b"try again") if first_time else self.answer(200, b"ok")
        elif route == "/gone":
            self.answer(410, b"gone")
        elif route == "/redirect":
            self.answer(302, b"", [("Location", "/ok")])
        elif route == "/slack-archived":
            self.answer(404, b"channel_is_archived")
        elif route == "/hang":
            time.sleep(5)
            self.answer(200, b"ok")
        else:
            self.answer(404, b"no such path")

    do_PUT = do_POST

    def do_GET(self):
        # Anything but a POST is recorded too (a followed redirect may turn into a GET).
        with LOCK:
            with open(LOG, "a", encoding="utf-8") as f:
                f.write(json.dumps({"method": "GET", "path": self.path, "headers": {},
                                    "body": "", "verified": None}) + "\n")
        self.answer(200, b"ok")


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
