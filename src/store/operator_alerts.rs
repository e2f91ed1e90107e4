//! One operator alert per condition per day, however many replicas notice the condition: the
//! replica whose INSERT wins sends it.

use super::{Store, StoreError};
use chrono::NaiveDate;

const CLAIM_ALERT: &str = "INSERT INTO operator_alerts (condition, day) VALUES ($1, $2) \
     ON CONFLICT (condition, day) DO NOTHING RETURNING condition";

const UNCLAIM_ALERT: &str = "DELETE FROM operator_alerts WHERE condition = $1 AND day = $2";

impl Store {
    /// `true` for the one caller that may send today's alert for `condition`.
    pub async fn claim_operator_alert(
        &self,
        condition: &str,
        day: NaiveDate,
    ) -> Result<bool, StoreError> {
        let day = day.format("%Y-%m-%d").to_string();
        let row: Option<(String,)> = match self {
            Store::Sqlite(s) => {
                sqlx::query_as(CLAIM_ALERT)
                    .bind(condition)
                    .bind(&day)
                    .fetch_optional(&s.pool)
                    .await?
            }
            Store::Postgres(p) => {
                sqlx::query_as(CLAIM_ALERT)
                    .bind(condition)
                    .bind(&day)
                    .fetch_optional(&p.pool)
                    .await?
            }
        };
        Ok(row.is_some())
    }

    /// Gives a claim back after the alert could not be sent, so a later check tries again.
    pub async fn unclaim_operator_alert(
        &self,
        condition: &str,
        day: NaiveDate,
    ) -> Result<(), StoreError> {
        let day = day.format("%Y-%m-%d").to_string();
        match self {
            Store::Sqlite(s) => sqlx::query(UNCLAIM_ALERT)
                .bind(condition)
                .bind(&day)
                .execute(&s.pool)
                .await?
                .rows_affected(),
            Store::Postgres(p) => sqlx::query(UNCLAIM_ALERT)
                .bind(condition)
                .bind(&day)
                .execute(&p.pool)
                .await?
                .rows_affected(),
        };
        Ok(())
    }
}
