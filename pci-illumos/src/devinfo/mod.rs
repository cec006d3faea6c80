//! The devinfo snapshot reader (cache file or live snapshot bytes).
