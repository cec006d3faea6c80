//! Kernel `driver_aliases`/`ppt_aliases` syntax.
