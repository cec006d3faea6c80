//! Lossless editor for `ppt_aliases` (driver_aliases syntax).
