//! Where packages come from: the GitHub repository a registry's metadata names for each package
//! (so the GitHub crawl can read its releases and changelog), and the changelog file chosen from
//! each repository's listing. Shared knowledge, the same SQL on both backends.

use super::{Store, StoreError};
use chrono::{DateTime, Utc};

/// What the store remembers about one package's source repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageRepo {
    /// `owner/repo` on github.com; `None` when the registry names no GitHub repository.
    pub github: Option<String>,
    pub discovered_at: DateTime<Utc>,
}

const GET_PACKAGE_REPO: &str =
    "SELECT github, discovered_at FROM package_repos WHERE ecosystem = $1 AND package = $2";

const PUT_PACKAGE_REPO: &str = "INSERT INTO package_repos \
     (ecosystem, package, github, discovered_at) VALUES ($1, $2, $3, $4) \
     ON CONFLICT (ecosystem, package) DO UPDATE SET github = excluded.github, \
       discovered_at = excluded.discovered_at";

const GET_REPO_CHANGELOG: &str = "SELECT path FROM repo_changelogs WHERE github = $1";

const PUT_REPO_CHANGELOG: &str = "INSERT INTO repo_changelogs (github, path, chosen_at) \
     VALUES ($1, $2, $3) \
     ON CONFLICT (github) DO UPDATE SET path = excluded.path, chosen_at = excluded.chosen_at";

impl Store {
    /// The remembered source repository of (`ecosystem`, `package`), if it was ever asked.
    pub async fn get_package_repo(
        &self,
        ecosystem: &str,
        package: &str,
    ) -> Result<Option<PackageRepo>, StoreError> {
        let row: Option<(Option<String>, DateTime<Utc>)> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(GET_PACKAGE_REPO)
                    .bind(ecosystem)
                    .bind(package)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as(GET_PACKAGE_REPO)
                    .bind(ecosystem)
                    .bind(package)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.map(|(github, discovered_at)| PackageRepo {
            github,
            discovered_at,
        }))
    }

    pub async fn put_package_repo(
        &self,
        ecosystem: &str,
        package: &str,
        repo: &PackageRepo,
    ) -> Result<(), StoreError> {
        match self {
            Store::Sqlite(s) => {
                sqlx::query(PUT_PACKAGE_REPO)
                    .bind(ecosystem)
                    .bind(package)
                    .bind(&repo.github)
                    .bind(repo.discovered_at)
                    .execute(&s.pool)
                    .await?;
            }
            Store::Postgres(p) => {
                sqlx::query(PUT_PACKAGE_REPO)
                    .bind(ecosystem)
                    .bind(package)
                    .bind(&repo.github)
                    .bind(repo.discovered_at)
                    .execute(&p.pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// The changelog path chosen for `github` (`owner/repo`, lower case): `None` when never
    /// chosen, `Some(None)` when its listing had no changelog.
    pub async fn get_repo_changelog(
        &self,
        github: &str,
    ) -> Result<Option<Option<String>>, StoreError> {
        let row: Option<(Option<String>,)> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(GET_REPO_CHANGELOG)
                    .bind(github)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as(GET_REPO_CHANGELOG)
                    .bind(github)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.map(|(path,)| path))
    }

    pub async fn put_repo_changelog(
        &self,
        github: &str,
        path: Option<&str>,
    ) -> Result<(), StoreError> {
        let now = Utc::now();
        match self {
            Store::Sqlite(s) => {
                sqlx::query(PUT_REPO_CHANGELOG)
                    .bind(github)
                    .bind(path)
                    .bind(now)
                    .execute(&s.pool)
                    .await?;
            }
            Store::Postgres(p) => {
                sqlx::query(PUT_REPO_CHANGELOG)
                    .bind(github)
                    .bind(path)
                    .bind(now)
                    .execute(&p.pool)
                    .await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn package_repos_and_changelog_choices_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open_sqlite(&dir.path().join("p.db"), false)
            .await
            .unwrap();
        assert_eq!(
            store.get_package_repo("npm", "left-pad").await.unwrap(),
            None
        );
        let at = DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let found = PackageRepo {
            github: Some("stevemao/left-pad".into()),
            discovered_at: at,
        };
        store
            .put_package_repo("npm", "left-pad", &found)
            .await
            .unwrap();
        assert_eq!(
            store.get_package_repo("npm", "left-pad").await.unwrap(),
            Some(found)
        );
        let none = PackageRepo {
            github: None,
            discovered_at: at + chrono::Duration::days(1),
        };
        store
            .put_package_repo("npm", "left-pad", &none)
            .await
            .unwrap();
        assert_eq!(
            store.get_package_repo("npm", "left-pad").await.unwrap(),
            Some(none)
        );
        assert_eq!(store.get_repo_changelog("a/b").await.unwrap(), None);
        store
            .put_repo_changelog("a/b", Some("HISTORY.rst"))
            .await
            .unwrap();
        assert_eq!(
            store.get_repo_changelog("a/b").await.unwrap(),
            Some(Some("HISTORY.rst".into()))
        );
        store.put_repo_changelog("a/b", None).await.unwrap();
        assert_eq!(store.get_repo_changelog("a/b").await.unwrap(), Some(None));
    }
}
