//! Hex-dump parsing for byte-exact unit tests.

/// Parses hex digits into bytes, ignoring whitespace, so that expected
/// records can be written word by word as in an annotated dump.
///
/// # Panics
///
/// Panics on a character that is not a hex digit or on an odd digit count.
pub fn parse(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(|byte| !byte.is_ascii_whitespace()).collect();
    assert!(digits.len() % 2 == 0, "odd number of hex digits in {text:?}");
    digits
        .chunks(2)
        .map(|pair| {
            let pair = std::str::from_utf8(pair).expect("hex text is ASCII");
            u8::from_str_radix(pair, 16).unwrap_or_else(|_| panic!("invalid hex byte {pair:?} in {text:?}"))
        })
        .collect()
}
