//! x86 PCI node names, unit addresses, paths and `compatible` lists.
