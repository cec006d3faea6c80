//! Live illumos readers (devinfo driver snapshot, /dev/pptN config reads).
