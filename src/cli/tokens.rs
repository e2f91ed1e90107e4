//! `ecowatch tokens create|list|revoke`: bearer tokens for the tenant API of `ecowatch serve`.

use super::EXIT_OK;
use super::watch_source::validate_name;
use crate::api::auth::{generate_token, token_hash};
use crate::store::{ApiToken, Store, StoreConfig, StoreError, TenantId};
use anyhow::{Context, bail};
use chrono::{DateTime, SecondsFormat, Utc};
use std::path::PathBuf;

/// Manage API tokens for `ecowatch serve`'s tenant API (/api/v1).
///
/// A token is printed once, on stdout, when it is created; ecowatch stores only its SHA-256
/// hash, so a lost token cannot be shown again: revoke it and create another. A token reads its
/// tenant's repositories, findings and subscriptions; an --admin token may also redrive dead
/// deliveries and request a crawl or rescan.
///
/// Examples:
///   ecowatch tokens create --tenant acme --name ci
///   ecowatch tokens create --tenant acme --name ops --admin
///   ecowatch tokens list --tenant acme
///   ecowatch tokens revoke 3
///   curl -H "Authorization: Bearer $TOKEN" http://localhost:8080/api/v1/findings?status=new
#[derive(clap::Args, Debug)]
#[command(verbatim_doc_comment)]
pub struct TokensArgs {
    /// The SQLite database file (wins over ECOWATCH_DATABASE_URL and ECOWATCH_DB).
    #[arg(long, global = true, value_name = "FILE")]
    db: Option<PathBuf>,
    #[command(subcommand)]
    action: TokensAction,
}

#[derive(clap::Subcommand, Debug)]
enum TokensAction {
    /// Create a token and print it (once) on stdout.
    Create {
        /// The team whose data the token reads.
        #[arg(long, value_name = "T")]
        tenant: String,
        /// What the token is for, to recognise it in `tokens list`.
        #[arg(long, value_name = "N", default_value = "api")]
        name: String,
        /// Also allow redriving dead deliveries and requesting a crawl or rescan.
        #[arg(long)]
        admin: bool,
    },
    /// List tokens (never the tokens themselves): id, tenant, name, role, created, last used,
    /// state.
    List {
        /// Only this team's tokens [default: every tenant's].
        #[arg(long, value_name = "T")]
        tenant: Option<String>,
    },
    /// Revoke a token: requests with it get 401 from now on.
    Revoke {
        /// The token's id (see `ecowatch tokens list`).
        #[arg(value_name = "ID")]
        id: i64,
        /// The team the token belongs to [default: whichever has it].
        #[arg(long, value_name = "T")]
        tenant: Option<String>,
    },
}

pub fn run(args: TokensArgs) -> anyhow::Result<u8> {
    let config = StoreConfig::from_env(args.db.as_deref())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let store = Store::open(&config)
            .await
            .with_context(|| format!("cannot open {}", config.describe()))?;
        let result = match args.action {
            TokensAction::Create {
                tenant,
                name,
                admin,
            } => create(&store, &tenant, &name, admin).await,
            TokensAction::List { tenant } => list(&store, tenant.as_deref()).await,
            TokensAction::Revoke { id, tenant } => revoke(&store, id, tenant.as_deref()).await,
        };
        store.close().await;
        result
    })
}

async fn create(store: &Store, tenant_name: &str, name: &str, admin: bool) -> anyhow::Result<u8> {
    validate_name(tenant_name).context("--tenant")?;
    if name.trim().is_empty() || name.len() > 200 || name.chars().any(char::is_control) {
        bail!("--name must have 1 to 200 bytes and no control characters");
    }
    let tenant = store.ensure_tenant(tenant_name).await?;
    let token = generate_token()?;
    let stored = match store
        .create_api_token(tenant, name, &token_hash(&token), admin)
        .await
    {
        Ok(stored) => stored,
        // 256 random bits do not collide; a clash means the random source is broken.
        Err(StoreError::Conflict(_)) => bail!("the new token collides with a stored one"),
        Err(err) => return Err(err.into()),
    };
    println!("{token}");
    eprintln!(
        "token {} (`{}`, {}) for tenant `{tenant_name}`: shown only this once, ecowatch keeps \
         just its hash",
        stored.id,
        stored.name,
        role(&stored)
    );
    Ok(EXIT_OK)
}

async fn list(store: &Store, tenant_name: Option<&str>) -> anyhow::Result<u8> {
    let tenants = tenants(store, tenant_name).await?;
    let mut any = false;
    for (tenant, name) in tenants {
        for token in store.list_api_tokens(tenant).await? {
            any = true;
            println!(
                "{}\t{name}\t{}\t{}\t{}\t{}\t{}",
                token.id,
                token.name,
                role(&token),
                when(Some(token.created_at)),
                when(token.last_used_at),
                match token.revoked_at {
                    Some(at) => format!("revoked {}", when(Some(at))),
                    None => "active".into(),
                }
            );
        }
    }
    if !any {
        eprintln!("no API tokens (create one with `ecowatch tokens create --tenant T`)");
    }
    Ok(EXIT_OK)
}

async fn revoke(store: &Store, id: i64, tenant_name: Option<&str>) -> anyhow::Result<u8> {
    // The token's tenant is needed to touch it (row-level security on PostgreSQL): try the one
    // given, or each tenant in turn (an operator command, not a hot path).
    for (tenant, name) in tenants(store, tenant_name).await? {
        if store.revoke_api_token(tenant, id, Utc::now()).await? {
            println!("token {id} of tenant `{name}` revoked");
            return Ok(EXIT_OK);
        }
    }
    bail!("no active token {id} (see `ecowatch tokens list`)")
}

/// The named tenant (which must exist: listing must not create one), or all of them.
async fn tenants(
    store: &Store,
    tenant_name: Option<&str>,
) -> anyhow::Result<Vec<(TenantId, String)>> {
    match tenant_name {
        Some(name) => match store.find_tenant(name).await? {
            Some(id) => Ok(vec![(id, name.to_string())]),
            None => bail!("no tenant `{name}`"),
        },
        None => Ok(store
            .list_tenants()
            .await?
            .into_iter()
            .map(|t| (t.id, t.name))
            .collect()),
    }
}

fn role(token: &ApiToken) -> &'static str {
    if token.admin { "admin" } else { "read" }
}

fn when(at: Option<DateTime<Utc>>) -> String {
    at.map_or_else(
        || "-".into(),
        |t| t.to_rfc3339_opts(SecondsFormat::Secs, true),
    )
}
