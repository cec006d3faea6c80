//! Which driver the kernel binds to each node after the next boot.
