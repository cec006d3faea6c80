//! Lossless editor for `ppt_matches`.
