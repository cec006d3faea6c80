//! Planning a reservation: which lines change in which files.
