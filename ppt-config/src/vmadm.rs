//! vmadm `pci_devices`: generation and validation.
