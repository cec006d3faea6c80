//! ppt driver ioctl numbers and structures (plain data, checked on every Unix).
