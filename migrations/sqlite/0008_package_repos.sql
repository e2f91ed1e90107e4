-- Which GitHub repository each package comes from, read from its registry's metadata
-- (`github` NULL: the registry names none on github.com), so a daily crawl re-asks a registry
-- only when the answer is a week old. Shared knowledge: no tenant.
CREATE TABLE package_repos (
    ecosystem     TEXT NOT NULL,
    package       TEXT NOT NULL,
    github        TEXT,
    discovered_at TEXT NOT NULL,
    PRIMARY KEY (ecosystem, package)
) STRICT;

-- The changelog file chosen from a repository's root (or docs/) listing, so an unchanged
-- listing (a free 304) still knows which file to fetch. `path` NULL: the listing had none.
CREATE TABLE repo_changelogs (
    github     TEXT PRIMARY KEY,
    path       TEXT,
    chosen_at  TEXT NOT NULL
) STRICT;
