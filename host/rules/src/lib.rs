//! Recording and alerting rules (work in progress).
