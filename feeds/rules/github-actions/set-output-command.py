import os

version = os.environ.get("VERSION", "0.0.0")
# ruleid: github-actions/set-output-command
print(f"::set-output name=version::{version}")
# ok: github-actions/set-output-command
with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as out:
    out.write(f"version={version}\n")
