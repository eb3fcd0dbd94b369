//! Streaming GB18030 → UTF-8 decoding as a `Read` adapter, so a GBK CSV of
//! any size is decoded chunk by chunk and never held whole in memory.

use std::fmt;
use std::io::{self, Read};

use encoding_rs::{Decoder, DecoderResult};

const INPUT_CHUNK: usize = 64 * 1024;
/// GB18030 needs at most 2 UTF-8 bytes per input byte, plus slack for a
/// character carried over from the previous chunk.
const OUTPUT_CHUNK: usize = 2 * INPUT_CHUNK + 16;

/// Carried inside the `io::Error` when the input holds a byte sequence that
/// is not GB18030; `offset` counts from the start of the input.
#[derive(Debug)]
pub(crate) struct MalformedInput {
    pub offset: u64,
}

impl fmt::Display for MalformedInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid GB18030 bytes at offset {}", self.offset)
    }
}

impl std::error::Error for MalformedInput {}

pub(crate) struct Gb18030Reader<R> {
    inner: R,
    decoder: Decoder,
    input: Box<[u8]>,
    input_pos: usize,
    input_len: usize,
    /// Offset in the whole input of `input[0]`.
    input_offset: u64,
    output: Box<[u8]>,
    output_pos: usize,
    output_len: usize,
    inner_done: bool,
    finished: bool,
    /// Reported only after the good text before it has been read.
    pending_error: Option<u64>,
}

impl<R: Read> Gb18030Reader<R> {
    /// `start_offset`: where `inner` starts in the file, for error offsets.
    pub(crate) fn new(inner: R, start_offset: u64) -> Self {
        Self {
            inner,
            decoder: encoding_rs::GB18030.new_decoder_without_bom_handling(),
            input: vec![0; INPUT_CHUNK].into_boxed_slice(),
            input_pos: 0,
            input_len: 0,
            input_offset: start_offset,
            output: vec![0; OUTPUT_CHUNK].into_boxed_slice(),
            output_pos: 0,
            output_len: 0,
            inner_done: false,
            finished: false,
            pending_error: None,
        }
    }

    fn refill_input(&mut self) -> io::Result<()> {
        self.input_offset += self.input_len as u64;
        self.input_pos = 0;
        self.input_len = 0;
        loop {
            match self.inner.read(&mut self.input) {
                Ok(0) => {
                    self.inner_done = true;
                    return Ok(());
                }
                Ok(n) => {
                    self.input_len = n;
                    return Ok(());
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }
}

impl<R: Read> Read for Gb18030Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.output_pos < self.output_len {
                let n = buf.len().min(self.output_len - self.output_pos);
                buf[..n].copy_from_slice(&self.output[self.output_pos..self.output_pos + n]);
                self.output_pos += n;
                return Ok(n);
            }
            if let Some(offset) = self.pending_error.take() {
                self.finished = true;
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    MalformedInput { offset },
                ));
            }
            if self.finished || buf.is_empty() {
                return Ok(0);
            }
            if self.input_pos == self.input_len && !self.inner_done {
                self.refill_input()?;
            }
            let last = self.inner_done;
            let (result, read, written) = self.decoder.decode_to_utf8_without_replacement(
                &self.input[self.input_pos..self.input_len],
                &mut self.output,
                last,
            );
            self.input_pos += read;
            self.output_pos = 0;
            self.output_len = written;
            match result {
                DecoderResult::InputEmpty => self.finished = last,
                DecoderResult::OutputFull => {}
                DecoderResult::Malformed(bad, extra) => {
                    let end = self.input_offset + self.input_pos as u64;
                    self.pending_error =
                        Some(end.saturating_sub(u64::from(bad) + u64::from(extra)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hands out one byte per read, to cut every character.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    #[test]
    fn decodes_across_chunk_boundaries() {
        let text = "重庆市石柱土家族自治县,𠀀,abc\n".repeat(5000);
        let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
        let mut out = String::new();
        Gb18030Reader::new(&bytes[..], 0)
            .read_to_string(&mut out)
            .expect("valid GB18030");
        assert_eq!(out, text);

        let mut out = String::new();
        Gb18030Reader::new(Trickle(&bytes[..300]), 0)
            .read_to_string(&mut out)
            .expect("valid GB18030");
        assert_eq!(out.as_bytes(), &text.as_bytes()[..out.len()]);
    }

    #[test]
    fn reports_offset_of_bad_byte_after_good_text() {
        let (head, _, _) = encoding_rs::GB18030.encode("名称,值\n");
        let mut owned = head.into_owned();
        let bad_at = owned.len() as u64 + 10;
        owned.extend_from_slice(b"abc\nxxxxxx\xFFtail");
        let mut reader = Gb18030Reader::new(&owned[..], 0);
        let mut out = Vec::new();
        let err = reader.read_to_end(&mut out).expect_err("malformed");
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<MalformedInput>())
            .expect("MalformedInput");
        assert_eq!(inner.offset, bad_at);
        assert!(
            String::from_utf8(out)
                .expect("utf8")
                .starts_with("名称,值\nabc\nxxxxxx")
        );
    }

    #[test]
    fn truncated_character_at_end_is_an_error() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("名");
        let mut out = String::new();
        let err = Gb18030Reader::new(&bytes[..1], 7)
            .read_to_string(&mut out)
            .expect_err("cut character");
        let inner = err
            .get_ref()
            .and_then(|e| e.downcast_ref::<MalformedInput>())
            .expect("MalformedInput");
        assert_eq!(inner.offset, 7);
    }
}
