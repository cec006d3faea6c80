//! The compiled `ppt_matches` matcher.
