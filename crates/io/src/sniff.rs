//! Deciding what a file is from its first bytes, not from its extension:
//! users rename files, and Excel happily saves GBK text as "x.csv".

use std::fs::File;
use std::io::Read;
use std::path::Path;

use crate::error::{OpenError, display_name};
pub use crate::workbook_source::WorkbookFormat;

/// How much of the file is examined.
pub const SAMPLE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv(TextEncoding),
    Workbook(WorkbookFormat),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    /// UTF-8 starting with the byte-order mark EF BB BF (Excel's "CSV UTF-8").
    Utf8Bom,
    /// GB18030, a superset of GBK and GB2312 (Excel's plain "CSV" on Chinese Windows).
    Gb18030,
}

impl TextEncoding {
    pub fn name(self) -> &'static str {
        match self {
            Self::Utf8 | Self::Utf8Bom => "UTF-8",
            Self::Gb18030 => "GB18030",
        }
    }
}

pub(crate) const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0";
/// An ODS zip stores this uncompressed as its first entry, so it is in the sample.
const ODS_MIMETYPE: &[u8] = b"application/vnd.oasis.opendocument";
/// The stream name (UTF-16LE in the OLE directory) of an XLSX encrypted with a password to open:
/// such a file is an OLE file too, but no XLS.
const ENCRYPTED_PACKAGE: &[u8] = b"E\0n\0c\0r\0y\0p\0t\0e\0d\0P\0a\0c\0k\0a\0g\0e\0";

/// Looks at the first [`SAMPLE_BYTES`] of `path` and says what it is.
pub fn sniff(path: &Path) -> Result<FileKind, OpenError> {
    Ok(open_sniffed(path, &display_name(path))?.kind)
}

/// An opened file (positioned after its sample), its first bytes, and what they say it is.
pub(crate) struct Sniffed {
    pub file: File,
    pub sample: Vec<u8>,
    pub kind: FileKind,
}

/// Opens `path` and classifies it from its first [`SAMPLE_BYTES`]; `file_name` names it in errors.
pub(crate) fn open_sniffed(path: &Path, file_name: &str) -> Result<Sniffed, OpenError> {
    let io_err = |source| OpenError::Io {
        file: file_name.to_owned(),
        source,
    };
    let mut file = File::open(path).map_err(io_err)?;
    let (sample, truncated) = read_sample(&mut file).map_err(io_err)?;
    let kind =
        classify(&sample, truncated).map_err(|problem| problem.into_error(file_name.to_owned()))?;
    Ok(Sniffed { file, sample, kind })
}

/// Reads up to [`SAMPLE_BYTES`]; `truncated` tells whether the file goes on.
pub(crate) fn read_sample(file: &mut impl Read) -> std::io::Result<(Vec<u8>, bool)> {
    let mut sample = Vec::with_capacity(SAMPLE_BYTES + 1);
    // One byte more than the sample tells whether the file is longer.
    file.take(SAMPLE_BYTES as u64 + 1)
        .read_to_end(&mut sample)?;
    let truncated = sample.len() > SAMPLE_BYTES;
    sample.truncate(SAMPLE_BYTES);
    Ok((sample, truncated))
}

/// What is wrong with a sample, before the file name is known.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    Empty,
    Protected,
    Utf16,
    Binary,
    UnknownEncoding { byte_offset: u64 },
}

impl Problem {
    pub(crate) fn into_error(self, file: String) -> OpenError {
        match self {
            Self::Empty => OpenError::Empty { file },
            Self::Protected => OpenError::Protected { file },
            Self::Utf16 => OpenError::Utf16 { file },
            Self::Binary => OpenError::Binary { file },
            Self::UnknownEncoding { byte_offset } => {
                OpenError::UnknownEncoding { file, byte_offset }
            }
        }
    }
}

/// `truncated`: the sample is only the start of a longer file, so a
/// multi-byte character cut at its end is not an error.
pub(crate) fn classify(sample: &[u8], truncated: bool) -> Result<FileKind, Problem> {
    if sample.is_empty() {
        return Err(Problem::Empty);
    }
    if sample.starts_with(ZIP_MAGIC) {
        if contains(&sample[..sample.len().min(256)], ODS_MIMETYPE) {
            return Ok(FileKind::Workbook(WorkbookFormat::Ods));
        }
        return Ok(FileKind::Workbook(WorkbookFormat::Xlsx));
    }
    if sample.starts_with(OLE_MAGIC) {
        if contains(sample, ENCRYPTED_PACKAGE) {
            return Err(Problem::Protected);
        }
        return Ok(FileKind::Workbook(WorkbookFormat::Xls));
    }
    if sample.starts_with(b"\xFF\xFE") || sample.starts_with(b"\xFE\xFF") {
        return Err(Problem::Utf16);
    }
    if looks_binary(sample) {
        return Err(Problem::Binary);
    }
    if let Some(rest) = sample.strip_prefix(UTF8_BOM) {
        return match utf8_error_offset(rest, truncated) {
            None => Ok(FileKind::Csv(TextEncoding::Utf8Bom)),
            Some(offset) => Err(Problem::UnknownEncoding {
                byte_offset: (offset + UTF8_BOM.len()) as u64,
            }),
        };
    }
    let Some(utf8_bad) = utf8_error_offset(sample, truncated) else {
        return Ok(FileKind::Csv(TextEncoding::Utf8));
    };
    let Some(gb_bad) = gb18030_error_offset(sample, truncated) else {
        return Ok(FileKind::Csv(TextEncoding::Gb18030));
    };
    // The encoding that got further is the likelier one, so its failure
    // point is the likelier place of the real damage.
    Err(Problem::UnknownEncoding {
        byte_offset: utf8_bad.max(gb_bad) as u64,
    })
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// NUL bytes, a PDF, or more than 10% control characters.
fn looks_binary(sample: &[u8]) -> bool {
    if sample.starts_with(b"%PDF-") || sample.contains(&0) {
        return true;
    }
    let controls = sample
        .iter()
        .filter(|&&b| (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7F)
        .count();
    controls * 10 > sample.len()
}

fn utf8_error_offset(bytes: &[u8], truncated: bool) -> Option<usize> {
    match std::str::from_utf8(bytes) {
        Ok(_) => None,
        // A character cut by the end of the sample is not an error.
        Err(e) if e.error_len().is_none() && truncated => None,
        Err(e) => Some(e.valid_up_to()),
    }
}

fn gb18030_error_offset(bytes: &[u8], truncated: bool) -> Option<usize> {
    let mut decoder = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let capacity = decoder
        .max_utf8_buffer_length_without_replacement(bytes.len())
        .unwrap_or(bytes.len().saturating_mul(3));
    let mut out = vec![0u8; capacity];
    let (result, read, _) = decoder.decode_to_utf8_without_replacement(bytes, &mut out, !truncated);
    match result {
        encoding_rs::DecoderResult::Malformed(bad, extra) => {
            Some(read.saturating_sub(bad as usize + extra as usize))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multibyte_char_cut_at_sample_end_is_utf8() {
        let text = "姓名,身份证号\n张三,1\n李".as_bytes();
        let cut = &text[..text.len() - 1]; // inside the 3-byte "李"
        assert!(std::str::from_utf8(cut).is_err());
        assert_eq!(classify(cut, true), Ok(FileKind::Csv(TextEncoding::Utf8)));
    }

    #[test]
    fn gbk_is_gb18030() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("姓名,村\n张三,石柱村\n");
        assert_eq!(
            classify(&bytes, false),
            Ok(FileKind::Csv(TextEncoding::Gb18030))
        );
    }

    #[test]
    fn garbage_names_offset() {
        // Valid ASCII, then a lone 0xFF that is neither UTF-8 nor GB18030.
        let bytes = b"name,id\nzhang,1\n\xFF\xFF\xFFabc";
        assert_eq!(
            classify(bytes, false),
            Err(Problem::UnknownEncoding { byte_offset: 16 })
        );
    }

    #[test]
    fn magics() {
        assert_eq!(classify(b"", false), Err(Problem::Empty));
        assert_eq!(
            classify(b"PK\x03\x04rest", false),
            Ok(FileKind::Workbook(WorkbookFormat::Xlsx))
        );
        assert_eq!(
            classify(
                b"PK\x03\x04\0\0mimetypeapplication/vnd.oasis.opendocument.spreadsheet",
                false
            ),
            Ok(FileKind::Workbook(WorkbookFormat::Ods))
        );
        assert_eq!(
            classify(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", false),
            Ok(FileKind::Workbook(WorkbookFormat::Xls))
        );
        let mut encrypted = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1".to_vec();
        encrypted.extend_from_slice(ENCRYPTED_PACKAGE);
        assert_eq!(classify(&encrypted, false), Err(Problem::Protected));
        assert_eq!(classify(b"\xFF\xFEa\0b\0", false), Err(Problem::Utf16));
        assert_eq!(classify(b"a,b\n\x01\x02\x03", false), Err(Problem::Binary));
        assert_eq!(
            classify(b"\xEF\xBB\xBFa,b\n", false),
            Ok(FileKind::Csv(TextEncoding::Utf8Bom))
        );
    }
}
