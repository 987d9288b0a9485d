//! IEEE 802.11 data frame headers (IEEE 802.11-2020 section 9.3.2) and the
//! radiotap header in front of them (<https://www.radiotap.org>).

use super::bytes::{array_at, check_len, tail, u8_at};
use super::DecodeError;

/// Length of the fixed radiotap header.
const RADIOTAP_FIXED_LEN: usize = 8;
/// Length of a data frame header with three addresses and no QoS field.
const DATA_HEADER_LEN: usize = 24;
/// Frame type value of data frames.
const TYPE_DATA: u8 = 2;

/// Returns the 802.11 frame after a radiotap header.
pub fn skip_radiotap(data: &[u8]) -> Result<&[u8], DecodeError> {
    check_len(data, RADIOTAP_FIXED_LEN)?;
    let version = u8_at(data, 0);
    if version != 0 {
        return Err(DecodeError::InvalidVersion(version));
    }
    // The only little-endian length field in the walk.
    let len = usize::from(u16::from_le_bytes([u8_at(data, 2), u8_at(data, 3)]));
    if len < RADIOTAP_FIXED_LEN {
        return Err(DecodeError::InvalidHeaderLength(len));
    }
    check_len(data, len)?;
    Ok(tail(data, len))
}

/// A borrowed 802.11 MAC header of a data frame that carries a body.
#[derive(Clone, Copy, Debug)]
pub struct DataFrameHeader<'a> {
    data: &'a [u8],
    header_len: usize,
    /// The frame control flags byte (To DS, From DS, protected, order).
    flags: u8,
}

impl<'a> DataFrameHeader<'a> {
    /// Checks that `data` starts with a whole 802.11 header. Returns
    /// `Ok(None)` for frames that carry no readable LLC body: management
    /// and control frames, null data frames and protected frames.
    pub fn new(data: &'a [u8]) -> Result<Option<Self>, DecodeError> {
        check_len(data, 2)?;
        Self::with_control(data, u8_at(data, 0), u8_at(data, 1))
    }

    /// Like [`DataFrameHeader::new`], for a frame whose two frame control
    /// bytes are swapped, as some CAPWAP access points send them (Wireshark
    /// 4 swaps them by default in CAPWAP data).
    pub fn new_swapped(data: &'a [u8]) -> Result<Option<Self>, DecodeError> {
        check_len(data, 2)?;
        Self::with_control(data, u8_at(data, 1), u8_at(data, 0))
    }

    fn with_control(data: &'a [u8], control: u8, flags: u8) -> Result<Option<Self>, DecodeError> {
        let (frame_type, subtype) = ((control >> 2) & 0x3, control >> 4);
        if frame_type != TYPE_DATA || subtype & 0x4 != 0 || flags & 0x40 != 0 {
            return Ok(None);
        }
        let mut header_len = DATA_HEADER_LEN;
        if flags & 0x03 == 0x03 {
            header_len += 6;
        }
        if subtype & 0x8 != 0 {
            header_len += 2;
            if flags & 0x80 != 0 {
                header_len += 4;
            }
        }
        check_len(data, header_len)?;
        Ok(Some(DataFrameHeader { data, header_len, flags }))
    }

    fn address(&self, index: usize) -> [u8; 6] {
        let start = 4 + 6 * index;
        array_at(self.data, start..start + 6)
    }

    /// The destination address, chosen by the To DS and From DS bits.
    pub fn dst_mac(&self) -> [u8; 6] {
        match self.flags & 0x03 {
            0x00 | 0x02 => self.address(0),
            _ => self.address(2),
        }
    }

    /// The source address, chosen by the To DS and From DS bits.
    pub fn src_mac(&self) -> [u8; 6] {
        match self.flags & 0x03 {
            0x00 | 0x01 => self.address(1),
            0x02 => self.address(2),
            _ => array_at(self.data, 24..30),
        }
    }

    /// The frame body, an LLC header first.
    pub fn payload(&self) -> &'a [u8] {
        tail(self.data, self.header_len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::bytes::assert_every_cut_truncated;

    fn data_frame(control: u8, flags: u8, len: usize) -> Vec<u8> {
        let mut frame = vec![0u8; len];
        frame[0] = control;
        frame[1] = flags;
        for (index, byte) in frame.iter_mut().enumerate().skip(4).take(24) {
            *byte = index as u8;
        }
        frame
    }

    #[test]
    fn data_to_ds() {
        let frame = data_frame(0x08, 0x01, 24);
        let header = DataFrameHeader::new(&frame).unwrap().unwrap();
        assert_eq!(header.src_mac(), [10, 11, 12, 13, 14, 15]);
        assert_eq!(header.dst_mac(), [16, 17, 18, 19, 20, 21]);
        assert_every_cut_truncated(&frame, |data| DataFrameHeader::new(data).map(|_| ()));
    }

    #[test]
    fn qos_data_with_four_addresses() {
        let frame = data_frame(0x88, 0x03, 32);
        let header = DataFrameHeader::new(&frame).unwrap().unwrap();
        assert_eq!(header.src_mac(), [24, 25, 26, 27, 0, 0]);
        assert!(header.payload().is_empty());
        assert_every_cut_truncated(&frame, |data| DataFrameHeader::new(data).map(|_| ()));
    }

    #[test]
    fn swapped_frame_control() {
        let frame = data_frame(0x01, 0x08, 24);
        assert!(DataFrameHeader::new(&frame).unwrap().is_none());
        let header = DataFrameHeader::new_swapped(&frame).unwrap().unwrap();
        assert_eq!(header.src_mac(), [10, 11, 12, 13, 14, 15]);
        assert_every_cut_truncated(&frame, |data| DataFrameHeader::new_swapped(data).map(|_| ()));
    }

    #[test]
    fn protected_and_management_frames_have_no_body() {
        assert!(DataFrameHeader::new(&data_frame(0x08, 0x41, 24)).unwrap().is_none());
        assert!(DataFrameHeader::new(&data_frame(0x80, 0x00, 24)).unwrap().is_none());
    }

    #[test]
    fn radiotap_length() {
        let frame = [0, 0, 10, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0x08];
        assert_eq!(skip_radiotap(&frame), Ok(&frame[10..]));
        assert_every_cut_truncated(&frame[..10], |data| skip_radiotap(data).map(|_| ()));
        assert_eq!(skip_radiotap(&[0, 0, 4, 0, 0, 0, 0, 0]), Err(DecodeError::InvalidHeaderLength(4)));
    }
}
