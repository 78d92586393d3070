//! Pushing what happens to patients to subscribers: one task per API process hears each
//! commit (`Store::commits`), reads the new events that name a patient somebody subscribed
//! to, once, and hands them to every subscription, which keeps its patient's.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use medledger_store::{AccountId, Store, StoredEvent};
use tokio::sync::{OnceCell, broadcast};

/// How many events a subscriber may fall behind before its subscription ends.
const BACKLOG: usize = 4096;

/// The patients somebody subscribed to, with how many subscriptions each.
type Watched = Arc<Mutex<HashMap<AccountId, usize>>>;

/// The events of each commit, read once for all subscribers.
pub struct Hub {
    events: broadcast::Sender<Arc<StoredEvent>>,
    watched: Watched,
}

/// Started by the first subscription of the schema.
#[derive(Default)]
pub struct LazyHub(OnceCell<Hub>);

impl LazyHub {
    pub async fn get(&self, store: &Arc<dyn Store>) -> &Hub {
        self.0.get_or_init(|| Hub::start(store.clone())).await
    }
}

/// A subscription's interest in one patient, given up when dropped.
pub struct Interest {
    patient: AccountId,
    watched: Watched,
}

impl Drop for Interest {
    fn drop(&mut self) {
        let mut watched = self.watched.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = watched.get_mut(&self.patient) {
            *n -= 1;
            if *n == 0 {
                watched.remove(&self.patient);
            }
        }
    }
}

/// The last block indexed, read until the store answers (the hub pushes only what is
/// committed after it).
async fn cursor(store: &Arc<dyn Store>) -> u64 {
    let mut logged = false;
    loop {
        match store.cursor().await {
            Ok(cursor) => return cursor.map_or(0, |c| c.number),
            Err(error) => {
                if !logged {
                    tracing::error!(%error, "cannot read where the mirror stands; retrying");
                    logged = true;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

impl Hub {
    async fn start(store: Arc<dyn Store>) -> Hub {
        let (events, _) = broadcast::channel(BACKLOG);
        let watched = Watched::default();
        // Subscribe before reading where the mirror stands, so that no commit falls between.
        let mut commits = store.commits();
        let mut seen = cursor(&store).await;
        let (sender, interest) = (events.clone(), watched.clone());
        tokio::spawn(async move {
            loop {
                let upto = match commits.recv().await {
                    Ok(block) => block,
                    // Missed announcements: the next one's range covers them.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if upto <= seen {
                    continue;
                }
                if interest
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .is_empty()
                {
                    seen = upto;
                    continue;
                }
                match store.patient_events_between(seen, upto).await {
                    Ok(new) => {
                        let watched = interest.lock().unwrap_or_else(PoisonError::into_inner);
                        for event in new {
                            if event.patient.is_some_and(|p| watched.contains_key(&p)) {
                                // No subscriber left is fine.
                                let _ = sender.send(Arc::new(event));
                            }
                        }
                        seen = upto;
                    }
                    // Kept for the next announcement, which reads from `seen` again.
                    Err(error) => tracing::error!(%error, "cannot read the latest events"),
                }
            }
        });
        Hub { events, watched }
    }

    /// Every event of `patient` committed from now on (among others'), and the interest that
    /// keeps the hub reading them.
    pub fn subscribe(
        &self,
        patient: AccountId,
    ) -> (broadcast::Receiver<Arc<StoredEvent>>, Interest) {
        *self
            .watched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(patient)
            .or_default() += 1;
        let interest = Interest {
            patient,
            watched: self.watched.clone(),
        };
        (self.events.subscribe(), interest)
    }
}
