//! Lossless editor for GRUB `menu.lst`.
