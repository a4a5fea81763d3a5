//! Go `text/template` for Pharos (work in progress).
