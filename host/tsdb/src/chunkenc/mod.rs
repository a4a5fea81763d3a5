//! Chunk encodings. (Being written: XorAppender / XorIter.)

use pharos_model::Sample;

/// Placeholder until the XOR chunk lands.
pub struct XorIter<'a>(std::marker::PhantomData<&'a ()>);

impl<'a> XorIter<'a> {
    pub fn new(_bytes: &'a [u8]) -> Self {
        XorIter(std::marker::PhantomData)
    }
}

impl Iterator for XorIter<'_> {
    type Item = Sample;
    fn next(&mut self) -> Option<Sample> {
        None
    }
}
