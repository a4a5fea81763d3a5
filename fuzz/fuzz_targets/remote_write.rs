//! A remote-write request body as the receiver gets it: snappy, then the
//! protobuf `WriteRequest` within the receiver's limits, then the batch it
//! appends. The first byte picks whether the rest is the body as sent
//! (snappy already) or a protobuf to compress first, so the fuzzer also
//! reaches the protobuf decoder.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        pharos::api::fuzz::remote_write(rest);
    } else {
        let body = snap::raw::Encoder::new()
            .compress_vec(rest)
            .unwrap_or_default();
        pharos::api::fuzz::remote_write(&body);
    }
});
