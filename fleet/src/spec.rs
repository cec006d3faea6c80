//! What `--db` names: a SQLite file or a PostgreSQL URL, the backends this
//! build has, and the name shown in messages (no password). Both backends
//! and [`crate::fleet`] use it; it uses neither.

/// The database backends this build has (the `fleet` crate's cargo
/// features), in the order `--db` tries them.
pub fn backends() -> &'static [&'static str] {
    &[
        #[cfg(feature = "sqlite")]
        "sqlite",
        #[cfg(feature = "postgres")]
        "postgres",
    ]
}

/// Whether `spec` names a PostgreSQL database rather than a SQLite file.
pub fn is_postgres(spec: &str) -> bool {
    spec.starts_with("postgres://") || spec.starts_with("postgresql://")
}

/// The URL with any password replaced, for messages.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(redact("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact("host=/tmp dbname=x"), "host=/tmp dbname=x");
    }

    #[test]
    fn postgres_urls_are_told_from_files() {
        assert!(is_postgres("postgresql://h/db"));
        assert!(!is_postgres("./postgres.db"));
    }
}
