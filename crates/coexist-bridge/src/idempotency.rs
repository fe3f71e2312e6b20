//! One in-flight send per idempotency key: concurrent duplicates wait for the first.
//!
//! The lock is held across "look up stored answer → call Graph → store answer", so the second
//! request with a key finds the first one's stored answer and makes no Graph call.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

#[derive(Default)]
pub struct KeyLocks {
    map: Mutex<HashMap<String, Arc<AsyncMutex<()>>>>,
}

/// Held while a send with this key is in progress; forgets the key when nobody else waits.
pub struct KeyGuard {
    locks: Arc<KeyLocks>,
    key: String,
    lock: Arc<AsyncMutex<()>>,
    _guard: OwnedMutexGuard<()>,
}

impl KeyLocks {
    pub async fn lock(self: &Arc<Self>, key: &str) -> KeyGuard {
        let lock = {
            let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
            map.entry(key.to_string()).or_default().clone()
        };
        let guard = lock.clone().lock_owned().await;
        KeyGuard { locks: self.clone(), key: key.to_string(), lock, _guard: guard }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.lock().unwrap().len()
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        let mut map = self.locks.map.lock().unwrap_or_else(|p| p.into_inner());
        // The map, `self.lock` and the guard's own Arc: 3 means no waiter holds a clone.
        if Arc::strong_count(&self.lock) <= 3 {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn same_key_is_serialized_and_then_forgotten() {
        let locks = Arc::new(KeyLocks::default());
        let inside = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (locks, inside) = (locks.clone(), inside.clone());
            tasks.push(tokio::spawn(async move {
                let _g = locks.lock("k").await;
                assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "two holders of one key");
                tokio::time::sleep(Duration::from_millis(2)).await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(locks.len(), 0);
    }
}
