//! PLACEHOLDER until the decoders land: every packet stops at the link layer.

use super::{DecodeError, DecodeStop, Decoded, Layer};
use crate::packet::LinkType;

/// Decodes a packet of `link_type` from its first byte to the transport header.
pub fn decode_packet(link_type: LinkType, _data: &[u8]) -> Decoded {
    Decoded {
        stop: Some(DecodeStop { layer: Layer::Link, error: DecodeError::UnsupportedLinkType(link_type.0) }),
        ..Decoded::EMPTY
    }
}
