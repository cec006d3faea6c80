//! Config space saved by `pcieadm save-cfgspace -a`, joined to devinfo nodes.
