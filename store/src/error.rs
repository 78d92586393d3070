/// A store operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("unsupported database URL {url:?}: {reason}")]
    UnsupportedUrl { url: String, reason: String },
    #[error("cannot open the database {url}: {source}")]
    Open {
        /// The URL with any password removed.
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot migrate the database {url}: {source}")]
    Migrate {
        url: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error("database error while trying to {action}: {source}")]
    Database {
        action: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("the database holds a value that does not fit: {0}")]
    Corrupt(String),
    /// A page was asked for after a cursor that no page of that list gave.
    #[error("{0:?} is not a cursor of this list")]
    BadCursor(String),
    /// The database already mirrors another chain or other contracts.
    #[error(
        "this database mirrors {what} {stored}, not {given}: use a fresh database for another \
         chain or deployment"
    )]
    OtherMirror {
        what: &'static str,
        stored: String,
        given: String,
    },
}

impl StoreError {
    pub(crate) fn db(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| StoreError::Database { action, source }
    }

    /// As [`StoreError::db`], for a read on a connection of the read pool: a failure that may
    /// have broken its connection has every read connection checked before its next use.
    pub(crate) fn read(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
        move |source| {
            let error = StoreError::Database { action, source };
            crate::readers::note_failure(&error);
            error
        }
    }

    /// Whether retrying later may succeed: the database is unreachable, restarting or busy,
    /// rather than refusing what was asked.
    pub fn is_transient(&self) -> bool {
        let source = match self {
            StoreError::Open { source, .. } | StoreError::Database { source, .. } => source,
            _ => return false,
        };
        match source {
            sqlx::Error::Io(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
            | sqlx::Error::Protocol(_) => true,
            sqlx::Error::Database(e) => {
                let code = e.code().unwrap_or_default();
                // PostgreSQL: connection exceptions (08*), shutting down (57P0*), too many
                // connections (53300), serialization failures (40001, 40P01).
                // SQLite: SQLITE_BUSY (5) and SQLITE_LOCKED (6), extended codes included.
                // SQLite reports extended codes (517 is SQLITE_BUSY_SNAPSHOT): the primary
                // code is the low byte.
                let sqlite_busy = code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6));
                code.starts_with("08")
                    || code.starts_with("57P0")
                    || code == "53300"
                    || code == "40001"
                    || code == "40P01"
                    || sqlite_busy
            }
            _ => false,
        }
    }
}

/// `url` without its password, for messages and logs.
pub(crate) fn redact(url: &str) -> String {
    // scheme://user:password@host/... -> scheme://user:***@host/...
    if let Some((scheme, rest)) = url.split_once("://")
        && let Some((userinfo, host)) = rest.split_once('@')
        && let Some((user, _)) = userinfo.split_once(':')
    {
        return format!("{scheme}://{user}:***@{host}");
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/medledger"),
            "postgres://app:***@db:5432/medledger"
        );
        assert_eq!(
            redact("postgres://app@db/medledger"),
            "postgres://app@db/medledger"
        );
        assert_eq!(redact("sqlite:medledger.db"), "sqlite:medledger.db");
    }
}
