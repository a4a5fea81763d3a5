//! Chunk encodings. (Being written.)
