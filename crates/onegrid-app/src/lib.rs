//! The use cases of onegrid: each one a function that applies `onegrid-domain` rules over the
//! store and the in-memory atlas (regions and the point → area index). This crate knows no
//! HTTP; the server and the command line both call it.

pub mod areas;
pub mod atlas;
pub mod demo;
pub mod divisions;
mod error;
pub mod regions;

use std::sync::{Arc, RwLock};

use onegrid_store::Store;

pub use atlas::{Atlas, ChainLink, Located};
pub use error::{AppError, AppResult, Problem};

/// The application: the store and the atlas kept in step with it. Cheap to clone.
#[derive(Clone)]
pub struct App {
    store: Arc<dyn Store>,
    atlas: Arc<RwLock<Arc<Atlas>>>,
}

impl App {
    /// Builds the application over an opened store, loading the atlas from it.
    pub async fn load(store: Arc<dyn Store>) -> AppResult<App> {
        let atlas = Atlas::load(store.as_ref()).await?;
        Ok(App {
            store,
            atlas: Arc::new(RwLock::new(Arc::new(atlas))),
        })
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
