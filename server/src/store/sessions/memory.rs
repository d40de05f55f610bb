//! Session records in this process's memory: many frameworks' default, fine for one server and
//! wrong for two — a login made on one is unknown to the other, and a restart logs everybody
//! out. authlab offers it (`SESSION_STORE_URL=memory:`) so the lab can show exactly that.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
};

use async_trait::async_trait;
use time::OffsetDateTime;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use super::{RecordBackend, SessionBackendKind};
use crate::store::Result;

/// Records by id, with their encoded size.
#[derive(Debug, Default)]
pub struct MemorySessions(Mutex<HashMap<Id, (Record, usize)>>);

impl MemorySessions {
    fn map(&self) -> MutexGuard<'_, HashMap<Id, (Record, usize)>> {
        match self.0.lock() {
            Ok(map) => map,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

fn size(record: &Record) -> usize {
    rmp_serde::to_vec(record).map_or(0, |v| v.len())
}

#[async_trait]
impl SessionStore for MemorySessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let mut map = self.map();
        while map.contains_key(&record.id) {
            record.id = Id::default();
        }
        map.insert(record.id, (record.clone(), size(record)));
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        if let Some(slot) = self.map().get_mut(&record.id) {
            *slot = (record.clone(), size(record));
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = OffsetDateTime::now_utc();
        Ok(self
            .map()
            .get(id)
            .filter(|(r, _)| r.expiry_date > now)
            .map(|(r, _)| r.clone()))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.map().remove(id);
        Ok(())
    }
}

#[async_trait]
impl RecordBackend for MemorySessions {
    fn kind(&self) -> SessionBackendKind {
        SessionBackendKind::Memory
    }

    fn store(&self) -> &dyn SessionStore {
        self
    }

    async fn update(&self, record: &Record, data: Vec<u8>) -> Result<bool> {
        Ok(match self.map().get_mut(&record.id) {
            Some(slot) => {
                *slot = (record.clone(), data.len());
                true
            }
            None => false,
        })
    }

    async fn delete_expired(&self) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        self.map().retain(|_, (r, _)| r.expiry_date > now);
        Ok(())
    }

    async fn size_of(&self, id: &Id) -> Result<Option<i64>> {
        Ok(self
            .map()
            .get(id)
            .map(|(_, n)| i64::try_from(*n).unwrap_or(i64::MAX)))
    }

    async fn count(&self) -> Result<i64> {
        Ok(i64::try_from(self.map().len()).unwrap_or(i64::MAX))
    }
}
