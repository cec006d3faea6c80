//! `/dev/ppt*` link resolution under an alternate root.
