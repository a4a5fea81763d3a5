//! Alert routing (work in progress).
