//! Pushing what happens to patients to subscribers: one task per API process hears each
//! commit (`Store::commits`: in process, and from every indexer on the database on
//! PostgreSQL), reads the new events that name a patient once, and hands them to every
//! subscription, which keeps its patient's.

use std::sync::Arc;

use medledger_store::{Store, StoredEvent};
use tokio::sync::{OnceCell, broadcast};

/// The events of each commit, read once for all subscribers.
pub struct Hub {
    events: broadcast::Sender<Arc<StoredEvent>>,
}

/// Started by the first subscription of the schema.
#[derive(Default)]
pub struct LazyHub(OnceCell<Hub>);

impl LazyHub {
    pub async fn get(&self, store: &Arc<dyn Store>) -> &Hub {
        self.0.get_or_init(|| Hub::start(store.clone())).await
    }
}

impl Hub {
    async fn start(store: Arc<dyn Store>) -> Hub {
        let (events, _) = broadcast::channel(4096);
        // Subscribe before reading where the mirror stands, so that no commit falls between.
        let mut commits = store.commits();
        let mut seen = match store.status().await {
            Ok(status) => status.cursor.map_or(0, |c| c.number),
            Err(error) => {
                tracing::error!(%error, "cannot read where the mirror stands; pushing from block 0");
                0
            }
        };
        let sender = events.clone();
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
                match store.patient_events_between(seen, upto).await {
                    Ok(new) => {
                        for event in new {
                            // No subscriber is fine.
                            let _ = sender.send(Arc::new(event));
                        }
                        seen = upto;
                    }
                    // Kept for the next announcement, which reads from `seen` again.
                    Err(error) => tracing::error!(%error, "cannot read the latest events"),
                }
            }
        });
        Hub { events }
    }

    /// Every patient event committed from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<StoredEvent>> {
        self.events.subscribe()
    }
}
