//! The encapsulation DSR (`0x20`) and the MPLS DSR (`0x44`): what the
//! flow's packets were wrapped in, shown by ra as the second `Flgs`
//! character and the `smpls`/`dmpls` columns.

use super::header::put_dsr_header;

const ENCAPSULATION_DSR: u8 = 0x20;
const MPLS_DSR: u8 = 0x44;
/// Bits ra 3.0.8 knows; higher ones are ignored by it (spec section 2.13).
const KNOWN_BITS: u32 = 0x07ff_ffff;
/// Shift of the label in a label stack entry (RFC 3032 section 2.1).
const LABEL_SHIFT: u32 = 12;

/// Appends the encapsulation DSR when either side's packets were
/// encapsulated.
pub fn put_encapsulation_dsr(out: &mut Vec<u8>, [source, destination]: [u32; 2]) {
    let (source, destination) = (source & KNOWN_BITS, destination & KNOWN_BITS);
    if source == 0 && destination == 0 {
        return;
    }
    put_dsr_header(out, ENCAPSULATION_DSR, 0, 0, 3);
    out.extend_from_slice(&source.to_be_bytes());
    out.extend_from_slice(&destination.to_be_bytes());
}

/// Appends the MPLS DSR with one label per side that had one: the 3.0.8
/// reader takes the first word as the source's label and the second as the
/// destination's.
pub fn put_mpls_dsr(out: &mut Vec<u8>, [source, destination]: [Option<u32>; 2]) {
    let entry = |label: u32| (label << LABEL_SHIFT).to_be_bytes();
    match (source, destination) {
        (None, None) => {}
        (Some(source), None) => {
            put_dsr_header(out, MPLS_DSR, 0x01, 0x10, 2);
            out.extend_from_slice(&entry(source));
        }
        (source, Some(destination)) => {
            put_dsr_header(out, MPLS_DSR, 0x03, 0x11, 3);
            out.extend_from_slice(&entry(source.unwrap_or(0)));
            out.extend_from_slice(&entry(destination));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encapsulation_layout() {
        let mut out = Vec::new();
        put_encapsulation_dsr(&mut out, [0x06, 0]);
        assert_eq!(out, [0x20, 0, 0, 3, 0, 0, 0, 6, 0, 0, 0, 0]);
        out.clear();
        put_encapsulation_dsr(&mut out, [0, 0]);
        assert!(out.is_empty());
    }

    #[test]
    fn mpls_layout() {
        let mut out = Vec::new();
        put_mpls_dsr(&mut out, [Some(16), None]);
        assert_eq!(out, [0x44, 0x01, 0x10, 2, 0, 1, 0, 0]);
        out.clear();
        put_mpls_dsr(&mut out, [Some(16), Some(17)]);
        assert_eq!(out, [0x44, 0x03, 0x11, 3, 0, 1, 0, 0, 0, 1, 0x10, 0]);
    }
}
