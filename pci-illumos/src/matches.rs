//! `ppt_matches` parsing with libppt's exact semantics, and lints.
