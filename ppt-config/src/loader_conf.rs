//! Lossless editor for loader `loader.conf.local`.
