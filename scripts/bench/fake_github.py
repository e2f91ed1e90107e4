#!/usr/bin/env python3
"""A fake GitHub on loopback for scripts/bench/crawl.sh (Python stdlib only).

Serves, for any `owner/repo`, generated but stable data in the shapes of GitHub's public docs:
  GET  /repos/{o}/{r}/releases            a JSON list of releases, with a strong ETag (304 on
                                          a matching If-None-Match)
  GET  /repos/{o}/{r}/contents/{path}     the raw changelog text, same ETag rules
  POST /graphql                           `repository.discussions` with pageInfo/nodes, either
                                          one repository per query (variables owner/name/first/
                                          after) or many under aliases (`r0: repository(owner:
                                          $o0, name: $n0) { discussions(first: N ...) ... }`),
                                          plus `rateLimit { cost limit remaining resetAt }`
and counts what it is asked:
  GET  /__stats   {"requests", "not_modified", "core_points", "graphql_points", "max_in_flight"}
  POST /__reset   zeroes the counters
A 200 REST answer costs a core point, a 304 none; a GraphQL query costs 1 point (GitHub charges
a hundredth of a point per requested connection, rounded up, so a 50-alias probe is 1 point).

  fake_github.py [--port 0] [--port-file FILE] [--latency-ms 2] [--discussions 3]
"""

import argparse
import hashlib
import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

ALIAS = re.compile(
    r"(r\d+): repository\(owner: \$(\w+), name: \$(\w+)\) \{\s*"
    r"discussions\(first: (\d+), orderBy: \{field: UPDATED_AT, direction: DESC\}\)"
)
RESET_AT = int(time.time()) + 3600

lock = threading.Lock()
counters = {}
in_flight = 0


def reset():
    with lock:
        counters.update(requests=0, not_modified=0, core_points=0, graphql_points=0,
                        max_in_flight=0)


reset()


def discussions(repo, count):
    """Newest-updated first; one announcement that deprecates something, the rest questions."""
    out = []
    for i in range(count):
        number = 1000 - i
        announce = i == 1
        out.append({
            "id": f"D_{abs(hash(repo)) % 10**8}_{number}",
            "number": number,
            "title": f"Deprecating `{repo.split('/')[1]}_v1`" if announce else f"How do I use {repo}?",
            "body": "It will be removed by the end of 2026." if announce else "Thanks.",
            "url": f"https://github.com/{repo}/discussions/{number}",
            "createdAt": "2025-01-01T00:00:00Z",
            "updatedAt": f"2025-06-{28 - i:02d}T10:00:00Z",
            "category": {"name": "Announcements" if announce else "Q&A"},
            "labels": {"nodes": []},
        })
    return out


def releases(repo):
    return json.dumps([{
        "url": f"https://api.github.com/repos/{repo}/releases/2",
        "html_url": f"https://github.com/{repo}/releases/tag/v2.0.0",
        "id": 2, "tag_name": "v2.0.0", "target_commitish": "main", "name": "v2.0.0",
        "body": "## What's Changed\n* `client.connect()` is deprecated, use `client.open()` instead\n",
        "draft": False, "prerelease": False,
        "created_at": "2025-05-01T00:00:00Z", "published_at": "2025-05-01T00:00:00Z",
    }])


def changelog(repo):
    return (f"# Changelog\n\n## [2.1.0] - 2025-06-01\n- Removed `{repo.split('/')[1]}_legacy()`\n\n"
            "## [2.0.1]\n- Fixed a crash\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-github"

    def log_message(self, *args):
        pass

    def send(self, status, body=b"", content_type="application/json", extra=None):
        self.send_response(status)
        self.send_header("x-ratelimit-limit", "5000")
        self.send_header("x-ratelimit-remaining", "4990")
        self.send_header("x-ratelimit-used", "10")
        self.send_header("x-ratelimit-reset", str(RESET_AT))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        if status != 304:
            self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        if body and status != 304:
            self.wfile.write(body)

    def counted(self, work):
        global in_flight
        with lock:
            in_flight += 1
            counters["requests"] += 1
            counters["max_in_flight"] = max(counters["max_in_flight"], in_flight)
        try:
            if self.server.latency:
                time.sleep(self.server.latency)
            work()
        finally:
            with lock:
                in_flight -= 1

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/__stats":
            with lock:
                body = json.dumps(counters).encode()
            return self.send(200, body)
        self.counted(lambda: self.rest(path))

    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length)
        path = urlsplit(self.path).path
        if path == "/__reset":
            reset()
            return self.send(204)
        if path != "/graphql":
            return self.send(404, b'{"message":"Not Found"}')
        self.counted(lambda: self.graphql(json.loads(body)))

    def rest(self, path):
        parts = path.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "repos" and parts[3] == "releases":
            text, kind = releases(f"{parts[1]}/{parts[2]}"), "application/json; charset=utf-8"
        elif len(parts) >= 5 and parts[0] == "repos" and parts[3] == "contents":
            text, kind = changelog(f"{parts[1]}/{parts[2]}"), "text/plain; charset=utf-8"
        else:
            return self.send(404, b'{"message":"Not Found"}')
        body = text.encode()
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if self.headers.get("if-none-match") == etag:
            with lock:
                counters["not_modified"] += 1
            return self.send(304, extra={"etag": etag})
        with lock:
            counters["core_points"] += 1
        self.send(200, body, kind, {"etag": etag})

    def graphql(self, request):
        query = request.get("query", "")
        variables = request.get("variables") or {}
        count = self.server.discussions
        data = {}
        if "owner" in variables:
            repo = f"{variables['owner']}/{variables['name']}"
            first = int(variables.get("first") or 0)
            start = int((variables.get("after") or "cursor:0").split(":")[1])
            nodes = discussions(repo, count)
            end = min(start + first, len(nodes))
            data["repository"] = {"discussions": {
                "pageInfo": {"hasNextPage": end < len(nodes), "endCursor": f"cursor:{end}"},
                "nodes": nodes[start:end],
            }}
        else:
            for alias, owner, name, first in ALIAS.findall(query):
                if f"${owner}: String!" not in query or f"${name}: String!" not in query:
                    return self.send(200, json.dumps({"errors": [{
                        "message": f"Variable ${owner} or ${name} is not declared"}]}).encode())
                repo = f"{variables[owner]}/{variables[name]}"
                data[alias] = {"discussions": {"nodes": discussions(repo, count)[:int(first)]}}
        data["rateLimit"] = {"cost": 1, "limit": 5000, "remaining": 4990,
                             "resetAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(RESET_AT))}
        with lock:
            counters["graphql_points"] += 1
        self.send(200, json.dumps({"data": data}).encode())


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--latency-ms", type=float, default=2.0)
    parser.add_argument("--discussions", type=int, default=3)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.latency = args.latency_ms / 1000
    server.discussions = args.discussions
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(server.server_address[1]))
        import os
        os.replace(args.port_file + ".tmp", args.port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
