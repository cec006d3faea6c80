//! Where reservation files go: persistent root, GRUB or loader boot media.
