//! Atomic, locked file writes with backups.
