//! Support for `pptctl` benchmarks: the generator of large synthetic hosts.
