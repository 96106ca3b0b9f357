//! The use cases of onegrid: each one a function that applies `onegrid-domain` rules over the
//! store and the in-memory atlas (regions and the point → area index). This crate knows no
//! HTTP; the server and the command line both call it.

pub mod access;
pub mod areas;
pub mod atlas;
pub mod cases;
pub mod demo;
pub mod divisions;
mod error;
pub mod figures;
pub mod jobs;
pub mod limits;
pub mod patrol;
pub mod regions;
pub mod reports;
pub mod residents;
pub mod screen;
pub mod secrets;

use std::sync::{Arc, RwLock};

use onegrid_domain::calendar::Calendar;
use onegrid_domain::case::StageLimits;
use onegrid_domain::taxonomy::Taxonomy;
use onegrid_store::Store;

pub use atlas::{Atlas, ChainLink, Located};
pub use error::{AppError, AppResult, Problem};

/// The rules the case loop runs by: editable data, loaded from the store (or the shipped
/// defaults) at start and swapped whole when an administrator replaces them.
pub struct Rules {
    pub calendar: Calendar,
    pub taxonomy: Taxonomy,
    pub limits: StageLimits,
}

/// Where the store keeps the administrator's versions of the rules.
const TAXONOMY_KEY: &str = "taxonomy.json";
const CALENDAR_KEY: &str = "calendar.csv";

/// The application: the store, the atlas kept in step with it, and the rules. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    atlas: Arc<RwLock<Arc<Atlas>>>,
    rules: Arc<RwLock<Arc<Rules>>>,
    access: Arc<access::AccessSettings>,
    limits: Arc<limits::RateLimiter>,
    token_cache: Arc<access::TokenCache>,
}

impl App {
    /// Builds the application over an opened store, loading the atlas from it.
    pub async fn load(store: Arc<dyn Store>) -> AppResult<App> {
        let atlas = Atlas::load(store.as_ref()).await?;
        let rules = load_rules(store.as_ref()).await?;
        Ok(App {
            store,
            atlas: Arc::new(RwLock::new(Arc::new(atlas))),
            rules: Arc::new(RwLock::new(Arc::new(rules))),
            // Fresh random keys until the configured ones are set (`with_access`): enough for
            // tests; a server always sets them, or sealed contacts would not open after a
            // restart.
            access: Arc::new(access::AccessSettings::new(
                secrets::Keys::random(),
                onegrid_domain::access::PasswordPolicy::default(),
            )),
            limits: Arc::new(limits::RateLimiter::default()),
            token_cache: Arc::new(access::TokenCache::default()),
        })
    }

    /// The same application with the configured keys, policy and rate limits.
    pub fn with_access(mut self, settings: access::AccessSettings) -> AppResult<App> {
        settings
            .policy
            .validate()
            .map_err(|problems| AppError::Invalid {
                message: "the account policy is below the floor".to_owned(),
                problems: problems
                    .into_iter()
                    .map(|message| Problem {
                        location: "policy".to_owned(),
                        message,
                    })
                    .collect(),
            })?;
        self.access = Arc::new(settings);
        Ok(self)
    }

    /// The rate limiter shared by every request of this process.
    pub fn limiter(&self) -> &limits::RateLimiter {
        &self.limits
    }

    /// The rules as they stand now.
    pub fn rules(&self) -> Arc<Rules> {
        // As with the atlas, a poisoned lock still holds a whole Arc.
        let guard = self
            .rules
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&guard)
    }

    /// Replaces the taxonomy with an administrator's JSON, after checking all of it.
    pub async fn replace_taxonomy(&self, json: &str) -> AppResult<()> {
        let taxonomy =
            Taxonomy::parse_json(json).map_err(|error| AppError::invalid(error.to_string()))?;
        self.store.set_meta(TAXONOMY_KEY, json).await?;
        let current = self.rules();
        self.swap_rules(Rules {
            calendar: current.calendar.clone(),
            taxonomy,
            limits: current.limits,
        });
        Ok(())
    }

    /// Replaces the calendar's special days with an administrator's CSV.
    pub async fn replace_calendar(&self, csv: &str) -> AppResult<()> {
        let days = onegrid_domain::calendar::parse_calendar_csv(csv)
            .map_err(|error| AppError::invalid(error.to_string()))?;
        self.store.set_meta(CALENDAR_KEY, csv).await?;
        let current = self.rules();
        self.swap_rules(Rules {
            calendar: Calendar::new(days, Default::default()),
            taxonomy: current.taxonomy.clone(),
            limits: current.limits,
        });
        Ok(())
    }

    /// Sets the share of a stage's time after which its light turns yellow (0 < share < 1),
    /// as configured.
    pub fn set_yellow_share(&self, share: f64) -> AppResult<()> {
        if !(share > 0.0 && share < 1.0) {
            return Err(AppError::invalid(format!(
                "yellow_share: {share} must lie strictly between 0 and 1"
            )));
        }
        let current = self.rules();
        let mut limits = current.limits;
        limits.yellow_share = share;
        self.swap_rules(Rules {
            calendar: current.calendar.clone(),
            taxonomy: current.taxonomy.clone(),
            limits,
        });
        Ok(())
    }

    fn swap_rules(&self, rules: Rules) {
        let mut guard = self
            .rules
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = Arc::new(rules);
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The atlas as it stands now. Readers hold their snapshot while a reload builds the next
    /// one, so a lookup never waits for an import.
    pub fn atlas(&self) -> Arc<Atlas> {
        // A poisoned lock only means a panic happened while swapping one Arc for another; the
        // Arc inside is still whole.
        let guard = self
            .atlas
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&guard)
    }

    /// Reloads the atlas from the store after a write that changed regions or areas.
    pub async fn reload_atlas(&self) -> AppResult<()> {
        let fresh = Arc::new(Atlas::load(self.store.as_ref()).await?);
        let mut guard = self
            .atlas
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = fresh;
        Ok(())
    }
}

/// A time as people here read it: Asia/Shanghai, `YYYY-MM-DD HH:MM`.
pub fn shanghai_time_text(at: chrono::DateTime<chrono::Utc>) -> String {
    (at + chrono::Duration::hours(8))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

async fn load_rules(store: &dyn Store) -> AppResult<Rules> {
    let taxonomy = match store.meta(TAXONOMY_KEY).await? {
        Some(json) => Taxonomy::parse_json(&json).map_err(|error| {
            AppError::Store(onegrid_store::StoreError::Corrupt(format!(
                "stored taxonomy: {error}"
            )))
        })?,
        None => Taxonomy::shipped(),
    };
    let calendar = match store.meta(CALENDAR_KEY).await? {
        Some(csv) => {
            let days = onegrid_domain::calendar::parse_calendar_csv(&csv).map_err(|error| {
                AppError::Store(onegrid_store::StoreError::Corrupt(format!(
                    "stored calendar: {error}"
                )))
            })?;
            Calendar::new(days, Default::default())
        }
        None => Calendar::shipped(),
    };
    Ok(Rules {
        calendar,
        taxonomy,
        limits: StageLimits::default(),
    })
}
