#!/usr/bin/env bash
set -euo pipefail
version="$(git describe --tags --always)"
# ruleid: github-actions/set-output-command
echo "::set-output name=version::${version}"
# ok: github-actions/set-output-command
echo "version=${version}" >> "${GITHUB_OUTPUT}"
# ok: github-actions/set-output-command
echo "::warning file=app.js,line=1::Missing semicolon"
