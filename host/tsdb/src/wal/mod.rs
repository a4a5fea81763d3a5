//! Write-ahead log. (Being written.)
