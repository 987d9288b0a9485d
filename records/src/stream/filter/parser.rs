//! Parses filter tokens into an [`Expr`] tree.
//!
//! The grammar follows ra 3.0.8's filter language, which is tcpdump's:
//!
//! ```text
//! expression := unary { ("and" | "&&" | "or" | "||") unary }
//! unary      := ("not" | "!") unary | "(" expression ")" | primitive
//! primitive  := "man" | protocol [qualified] | qualified | id
//! qualified  := [direction] [kind] id
//! direction  := "src" | "dst" | "src or dst" | "src and dst"
//! kind       := "host" | "net" | "port" | "proto"
//! protocol   := "tcp" | "udp" | "icmp" | "arp" | "rarp" | "ip" | "ipv4" | "ipv6"
//! ```
//!
//! `and` and `or` have equal precedence and associate to the left, so
//! `udp or tcp and port 53` means `(udp or tcp) and port 53`, and `not` binds
//! tightest. ra 3.0.8 selects records by the same rules (checked with
//! `ra -r`). A direction without a kind means `host`. An id without any
//! qualifier takes the qualifiers of the last primitive that had an id, so
//! `port 53 or 80` means `port 53 or port 80`. With no such primitive before
//! it, an id must be an address and means `host`.

use std::net::IpAddr;

use super::ast::{Direction, Expr, IpNetwork, PortRange, ProtocolClass};
use super::lexer::{tokenize, Token, TokenKind};
use super::names::{ip_protocol_number, service_port};
use super::FilterError;

/// Deepest nesting of parentheses and negations accepted. It bounds the
/// parser's recursion, so an expression from the network cannot exhaust the
/// stack.
const MAX_NESTING: usize = 64;

/// The kind of value an id is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdKind {
    Host,
    Net,
    Port,
    Proto,
}

/// The qualifiers of a primitive with an id, which a following bare id
/// takes over.
#[derive(Clone, Copy, Debug)]
struct Qualifiers {
    protocol: Option<ProtocolClass>,
    direction: Option<Direction>,
    kind: IdKind,
}

/// Parses a whole filter expression.
pub fn parse(expression: &str) -> Result<Expr, FilterError> {
    let tokens = tokenize(expression)?;
    let mut parser = Parser { tokens, position: 0, end_offset: expression.len(), inherited: None, depth: 0 };
    if parser.tokens.is_empty() {
        return Err(FilterError::new(0, "the expression is empty".to_string()));
    }

    let expr = parser.parse_expression()?;
    match parser.peek() {
        None => Ok(expr),
        Some(Token { kind: TokenKind::RightParen, offset }) => {
            Err(FilterError::new(offset, "')' has no matching '('".to_string()))
        }
        Some(token) => Err(FilterError::new(token.offset, "expected 'and' or 'or' between primitives".to_string())),
    }
}

struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    position: usize,
    /// Offset reported for errors at the end of the expression.
    end_offset: usize,
    /// Qualifiers of the last primitive that had an id.
    inherited: Option<Qualifiers>,
    /// Current nesting of parentheses and negations.
    depth: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Token<'a>> {
        self.tokens.get(self.position).copied()
    }

    fn peek_word(&self, ahead: usize) -> Option<&'a str> {
        match self.tokens.get(self.position + ahead) {
            Some(Token { kind: TokenKind::Word(word), .. }) => Some(word),
            _ => None,
        }
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.peek()?;
        self.position += 1;
        Some(token)
    }

    fn parse_expression(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.parse_unary()?;
        loop {
            let combine = match self.peek().map(|token| token.kind) {
                Some(TokenKind::And) => Expr::And,
                Some(TokenKind::Or) => Expr::Or,
                _ => return Ok(left),
            };
            self.position += 1;
            let right = self.parse_unary()?;
            left = combine(Box::new(left), Box::new(right));
        }
    }

    fn parse_unary(&mut self) -> Result<Expr, FilterError> {
        let Some(token) = self.next() else {
            return Err(FilterError::new(self.end_offset, "the expression ends where a primitive is expected".to_string()));
        };
        if self.depth >= MAX_NESTING {
            let reason = format!("more than {MAX_NESTING} nested parentheses or negations");
            return Err(FilterError::new(token.offset, reason));
        }

        self.depth += 1;
        let result = match token.kind {
            TokenKind::Not => self.parse_unary().map(|expr| Expr::Not(Box::new(expr))),
            TokenKind::LeftParen => self.parse_group(token.offset),
            TokenKind::RightParen => Err(FilterError::new(token.offset, "expected a primitive before ')'".to_string())),
            TokenKind::And | TokenKind::Or => {
                Err(FilterError::new(token.offset, "'and' and 'or' need an expression on both sides".to_string()))
            }
            TokenKind::Word(word) => self.parse_primitive(word, token.offset),
        };
        self.depth -= 1;
        result
    }

    fn parse_group(&mut self, open_offset: usize) -> Result<Expr, FilterError> {
        let expr = self.parse_expression()?;
        match self.next() {
            Some(Token { kind: TokenKind::RightParen, .. }) => Ok(expr),
            _ => Err(FilterError::new(open_offset, "'(' has no matching ')'".to_string())),
        }
    }

    fn parse_primitive(&mut self, word: &'a str, offset: usize) -> Result<Expr, FilterError> {
        let protocol = match word {
            "man" => return Ok(Expr::Management),
            "tcp" => ProtocolClass::Tcp,
            "udp" => ProtocolClass::Udp,
            "icmp" => ProtocolClass::Icmp,
            "arp" | "rarp" => ProtocolClass::Arp,
            "ip" => ProtocolClass::Ip,
            "ipv4" => ProtocolClass::Ipv4,
            "ipv6" => ProtocolClass::Ipv6,
            "src" | "dst" | "host" | "net" | "port" | "proto" => {
                self.position -= 1;
                return self.parse_qualified(None);
            }
            _ => return self.parse_bare_id(word, offset),
        };

        let qualified_follows = matches!(self.peek_word(0), Some("src" | "dst" | "host" | "net" | "port" | "proto"));
        if qualified_follows {
            self.parse_qualified(Some(protocol))
        } else {
            Ok(Expr::Protocol(protocol))
        }
    }

    /// Parses `[direction] [kind] id`, with `protocol` from a name before it.
    fn parse_qualified(&mut self, protocol: Option<ProtocolClass>) -> Result<Expr, FilterError> {
        let direction = self.parse_direction();
        let kind = match self.peek_word(0) {
            Some("host") => Some(IdKind::Host),
            Some("net") => Some(IdKind::Net),
            Some("port") => Some(IdKind::Port),
            Some("proto") => Some(IdKind::Proto),
            _ => None,
        };
        if kind.is_some() {
            self.position += 1;
        }

        let Some(Token { kind: TokenKind::Word(id), offset }) = self.peek() else {
            let offset = self.peek().map_or(self.end_offset, |token| token.offset);
            return Err(FilterError::new(offset, "expected an address, network, port or protocol".to_string()));
        };
        self.position += 1;

        let qualifiers = Qualifiers { protocol, direction, kind: kind.unwrap_or(IdKind::Host) };
        let expr = self.build_primitive(qualifiers, id, offset)?;
        self.inherited = Some(qualifiers);
        Ok(expr)
    }

    /// Parses `src`, `dst`, `src or dst` or `src and dst`, if present.
    fn parse_direction(&mut self) -> Option<Direction> {
        let (single, other) = match self.peek_word(0)? {
            "src" => (Direction::Src, "dst"),
            "dst" => (Direction::Dst, "src"),
            _ => return None,
        };
        self.position += 1;

        let joined = match self.peek().map(|token| token.kind) {
            Some(TokenKind::Or) => Direction::SrcOrDst,
            Some(TokenKind::And) => Direction::SrcAndDst,
            _ => return Some(single),
        };
        if self.peek_word(1) == Some(other) {
            self.position += 2;
            Some(joined)
        } else {
            Some(single)
        }
    }

    /// Parses an id that has no qualifier of its own.
    fn parse_bare_id(&mut self, word: &'a str, offset: usize) -> Result<Expr, FilterError> {
        if let Some(qualifiers) = self.inherited {
            return self.build_primitive(qualifiers, word, offset);
        }
        match word.parse::<IpAddr>() {
            Ok(address) => {
                self.inherited = Some(Qualifiers { protocol: None, direction: None, kind: IdKind::Host });
                Ok(Expr::Host(Direction::SrcOrDst, address))
            }
            Err(_) => {
                let reason = format!(
                    "unknown primitive '{word}'; expected man, tcp, udp, icmp, arp, rarp, ip, ipv4, ipv6, \
                     host, net, port, proto, src or dst"
                );
                Err(FilterError::new(offset, reason))
            }
        }
    }

    fn build_primitive(&mut self, qualifiers: Qualifiers, id: &str, offset: usize) -> Result<Expr, FilterError> {
        let direction = qualifiers.direction.unwrap_or(Direction::SrcOrDst);
        let primitive = match qualifiers.kind {
            IdKind::Host => Expr::Host(direction, parse_address(id, offset)?),
            IdKind::Net => Expr::Net(direction, self.parse_network(id, offset)?),
            IdKind::Port => Expr::Port(direction, parse_port_range(id, offset)?),
            IdKind::Proto => {
                if qualifiers.direction.is_some() {
                    return Err(FilterError::new(offset, "'src' and 'dst' do not apply to 'proto'".to_string()));
                }
                Expr::IpProtocol(parse_ip_protocol(id, offset)?)
            }
        };

        Ok(match (qualifiers.protocol, qualifiers.kind) {
            (None, _) | (Some(ProtocolClass::Ip), IdKind::Proto) => primitive,
            (Some(protocol), _) => Expr::And(Box::new(Expr::Protocol(protocol)), Box::new(primitive)),
        })
    }

    /// Parses `ADDRESS/LENGTH`, `ADDRESS mask MASK`, or a whole address as
    /// a network of one address.
    fn parse_network(&mut self, id: &str, offset: usize) -> Result<IpNetwork, FilterError> {
        if let Some((address, prefix)) = id.split_once('/') {
            let address = parse_address(address, offset)?;
            let too_long = || FilterError::new(offset, format!("invalid prefix length in '{id}'"));
            let prefix_bits = prefix.parse::<u8>().map_err(|_| too_long())?;
            return IpNetwork::new(address, prefix_bits).ok_or_else(too_long);
        }

        let address = id.parse::<IpAddr>().map_err(|_| {
            FilterError::new(offset, format!("invalid network '{id}': give it as ADDRESS/LENGTH, such as 10.0.0.0/8"))
        })?;
        if self.peek_word(0) != Some("mask") {
            let full_bits = if address.is_ipv4() { 32 } else { 128 };
            return Ok(IpNetwork { address, prefix_bits: full_bits });
        }

        self.position += 1;
        let Some(Token { kind: TokenKind::Word(mask), offset: mask_offset }) = self.next() else {
            return Err(FilterError::new(self.end_offset, "expected a mask after 'mask'".to_string()));
        };
        let prefix_bits = mask_prefix_bits(address, mask)
            .ok_or_else(|| FilterError::new(mask_offset, format!("invalid mask '{mask}' for network {address}")))?;
        IpNetwork::new(address, prefix_bits)
            .ok_or_else(|| FilterError::new(mask_offset, format!("invalid mask '{mask}'")))
    }
}

fn parse_address(text: &str, offset: usize) -> Result<IpAddr, FilterError> {
    text.parse::<IpAddr>().map_err(|_| {
        let reason = format!(
            "invalid address '{text}': expected an IPv4 or IPv6 address (host names, and primitives other than \
             host, net, port and proto, are not supported)"
        );
        FilterError::new(offset, reason)
    })
}

/// Returns the prefix length of a contiguous mask of the same family as
/// `address`.
fn mask_prefix_bits(address: IpAddr, mask: &str) -> Option<u8> {
    let bits: u128 = match (address, mask.parse::<IpAddr>().ok()?) {
        (IpAddr::V4(_), IpAddr::V4(mask)) => u128::from(u32::from(mask)) << 96,
        (IpAddr::V6(_), IpAddr::V6(mask)) => u128::from(mask),
        _ => return None,
    };
    let prefix_bits = bits.leading_ones();
    let contiguous = bits.checked_shl(prefix_bits).unwrap_or(0) == 0;
    if contiguous {
        u8::try_from(prefix_bits).ok()
    } else {
        None
    }
}

/// Parses a decimal or `0x` hexadecimal number.
fn parse_number<T: TryFrom<u32>>(text: &str) -> Option<T> {
    let value = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16).ok()?,
        None => text.parse::<u32>().ok()?,
    };
    T::try_from(value).ok()
}

fn parse_port_range(text: &str, offset: usize) -> Result<PortRange, FilterError> {
    let invalid = || {
        FilterError::new(
            offset,
            format!("invalid port '{text}': give a number from 0 to 65535, a range such as 53-80, or a service name"),
        )
    };
    let port = |part: &str| parse_number::<u16>(part).or_else(|| service_port(part)).ok_or_else(invalid);

    let range = match text.split_once('-').filter(|(first, _)| parse_number::<u16>(first).is_some()) {
        Some((first, last)) => PortRange { first: port(first)?, last: port(last)? },
        None => {
            let single = port(text)?;
            PortRange { first: single, last: single }
        }
    };
    if range.first > range.last {
        return Err(FilterError::new(offset, format!("invalid port range '{text}': the first port is above the last")));
    }
    Ok(range)
}

fn parse_ip_protocol(text: &str, offset: usize) -> Result<u8, FilterError> {
    parse_number::<u8>(text).or_else(|| ip_protocol_number(text)).ok_or_else(|| {
        FilterError::new(offset, format!("invalid protocol '{text}': give a number from 0 to 255 or a name such as sctp"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn boxed(expr: Expr) -> Box<Expr> {
        Box::new(expr)
    }

    fn and(left: Expr, right: Expr) -> Expr {
        Expr::And(boxed(left), boxed(right))
    }

    fn or(left: Expr, right: Expr) -> Expr {
        Expr::Or(boxed(left), boxed(right))
    }

    fn not(expr: Expr) -> Expr {
        Expr::Not(boxed(expr))
    }

    fn tcp() -> Expr {
        Expr::Protocol(ProtocolClass::Tcp)
    }

    fn udp() -> Expr {
        Expr::Protocol(ProtocolClass::Udp)
    }

    fn port(direction: Direction, number: u16) -> Expr {
        Expr::Port(direction, PortRange { first: number, last: number })
    }

    fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(a, b, c, d))
    }

    #[test]
    fn protocol_names() {
        let cases = [
            ("tcp", ProtocolClass::Tcp),
            ("udp", ProtocolClass::Udp),
            ("icmp", ProtocolClass::Icmp),
            ("arp", ProtocolClass::Arp),
            ("rarp", ProtocolClass::Arp),
            ("ip", ProtocolClass::Ip),
            ("ipv4", ProtocolClass::Ipv4),
            ("ipv6", ProtocolClass::Ipv6),
        ];
        for (text, class) in cases {
            assert_eq!(parse(text).unwrap(), Expr::Protocol(class), "expression {text}");
        }
        assert_eq!(parse("man").unwrap(), Expr::Management);
    }

    #[test]
    fn every_operator_spelling() {
        assert_eq!(parse("tcp and udp").unwrap(), and(tcp(), udp()));
        assert_eq!(parse("tcp && udp").unwrap(), and(tcp(), udp()));
        assert_eq!(parse("tcp or udp").unwrap(), or(tcp(), udp()));
        assert_eq!(parse("tcp || udp").unwrap(), or(tcp(), udp()));
        assert_eq!(parse("not tcp").unwrap(), not(tcp()));
        assert_eq!(parse("!tcp").unwrap(), not(tcp()));
        assert_eq!(parse("!!tcp").unwrap(), not(not(tcp())));
        assert_eq!(parse("(tcp)").unwrap(), tcp());
    }

    #[test]
    fn and_or_have_equal_precedence_left_to_right() {
        let port_53 = port(Direction::SrcOrDst, 53);
        assert_eq!(parse("udp or tcp and port 53").unwrap(), and(or(udp(), tcp()), port_53.clone()));
        assert_eq!(parse("tcp and port 53 or udp").unwrap(), or(and(tcp(), port_53.clone()), udp()));
        assert_eq!(parse("udp or (tcp and port 53)").unwrap(), or(udp(), and(tcp(), port_53)));
    }

    #[test]
    fn not_binds_tightest() {
        assert_eq!(parse("not tcp and udp").unwrap(), and(not(tcp()), udp()));
        assert_eq!(parse("not (tcp and udp)").unwrap(), not(and(tcp(), udp())));
    }

    #[test]
    fn ra_remote_filter_wrapper() {
        // ra sends "man or (<expression>)" for `ra -S host - <expression>`.
        let expected = or(Expr::Management, and(udp(), port(Direction::SrcOrDst, 53)));
        assert_eq!(parse("man or (udp and port 53)").unwrap(), expected);
    }

    #[test]
    fn host_with_every_direction() {
        let address = v4(192, 0, 2, 1);
        assert_eq!(parse("host 192.0.2.1").unwrap(), Expr::Host(Direction::SrcOrDst, address));
        assert_eq!(parse("src host 192.0.2.1").unwrap(), Expr::Host(Direction::Src, address));
        assert_eq!(parse("dst host 192.0.2.1").unwrap(), Expr::Host(Direction::Dst, address));
        assert_eq!(parse("src or dst host 192.0.2.1").unwrap(), Expr::Host(Direction::SrcOrDst, address));
        assert_eq!(parse("src and dst host 192.0.2.1").unwrap(), Expr::Host(Direction::SrcAndDst, address));
        assert_eq!(parse("dst or src host 192.0.2.1").unwrap(), Expr::Host(Direction::SrcOrDst, address));
    }

    #[test]
    fn direction_or_address_is_not_a_direction_pair() {
        let expected = or(Expr::Host(Direction::Src, v4(192, 0, 2, 1)), Expr::Host(Direction::Dst, v4(192, 0, 2, 2)));
        assert_eq!(parse("src 192.0.2.1 or dst 192.0.2.2").unwrap(), expected);
    }

    #[test]
    fn bare_address_means_host() {
        assert_eq!(parse("192.0.2.1").unwrap(), Expr::Host(Direction::SrcOrDst, v4(192, 0, 2, 1)));
        let v6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(parse("src ::1").unwrap(), Expr::Host(Direction::Src, v6));
    }

    #[test]
    fn bare_id_takes_last_qualifiers() {
        let expected = or(port(Direction::Dst, 53), port(Direction::Dst, 80));
        assert_eq!(parse("dst port 53 or 80").unwrap(), expected);

        let host = Expr::Host(Direction::SrcOrDst, v4(192, 0, 2, 1));
        let expected = or(and(host, port(Direction::SrcOrDst, 80)), port(Direction::SrcOrDst, 53));
        assert_eq!(parse("host 192.0.2.1 and port 80 or 53").unwrap(), expected);

        let tcp_port = |number| and(tcp(), port(Direction::Dst, number));
        assert_eq!(parse("tcp dst port 21 or 20").unwrap(), or(tcp_port(21), tcp_port(20)));
    }

    #[test]
    fn protocol_qualifier_restricts_primitive() {
        assert_eq!(parse("udp dst port 53").unwrap(), and(udp(), port(Direction::Dst, 53)));
        let arp_host = and(Expr::Protocol(ProtocolClass::Arp), Expr::Host(Direction::SrcOrDst, v4(10, 0, 0, 1)));
        assert_eq!(parse("arp host 10.0.0.1").unwrap(), arp_host);
    }

    #[test]
    fn net_forms() {
        let network = IpNetwork { address: v4(10, 0, 0, 0), prefix_bits: 8 };
        assert_eq!(parse("net 10.0.0.0/8").unwrap(), Expr::Net(Direction::SrcOrDst, network));
        assert_eq!(parse("dst net 10.1.2.3/8").unwrap(), Expr::Net(Direction::Dst, network));
        assert_eq!(parse("net 10.0.0.0 mask 255.0.0.0").unwrap(), Expr::Net(Direction::SrcOrDst, network));
        let host_network = IpNetwork { address: v4(10, 0, 0, 1), prefix_bits: 32 };
        assert_eq!(parse("net 10.0.0.1").unwrap(), Expr::Net(Direction::SrcOrDst, host_network));
        let v6 = IpNetwork { address: "ff02::".parse().unwrap(), prefix_bits: 16 };
        assert_eq!(parse("src net ff02::/16").unwrap(), Expr::Net(Direction::Src, v6));
    }

    #[test]
    fn port_forms() {
        assert_eq!(parse("port 0x50").unwrap(), port(Direction::SrcOrDst, 80));
        assert_eq!(parse("port domain").unwrap(), port(Direction::SrcOrDst, 53));
        assert_eq!(parse("src port ftp-data").unwrap(), port(Direction::Src, 20));
        let range = Expr::Port(Direction::SrcOrDst, PortRange { first: 53, last: 80 });
        assert_eq!(parse("port 53-80").unwrap(), range);
    }

    #[test]
    fn proto_forms() {
        assert_eq!(parse("proto 17").unwrap(), Expr::IpProtocol(17));
        assert_eq!(parse("ip proto 58").unwrap(), Expr::IpProtocol(58));
        assert_eq!(parse("proto sctp").unwrap(), Expr::IpProtocol(132));
        let ipv6_icmp = and(Expr::Protocol(ProtocolClass::Ipv6), Expr::IpProtocol(58));
        assert_eq!(parse("ipv6 proto 58").unwrap(), ipv6_icmp);
    }

    /// Returns the error offset and reason for an expression that must fail.
    fn error_of(expression: &str) -> (usize, String) {
        let error = parse(expression).expect_err(expression);
        (error.offset, error.reason)
    }

    #[test]
    fn syntax_errors_name_their_offset() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "empty"),
            ("tcp and (", 9, "ends where a primitive"),
            ("tcp and", 7, "ends where a primitive"),
            ("tcp or", 6, "ends where a primitive"),
            ("and tcp", 0, "both sides"),
            ("tcp and and udp", 8, "both sides"),
            ("(tcp", 0, "no matching ')'"),
            ("tcp)", 3, "no matching '('"),
            ("()", 1, "before ')'"),
            ("tcp udp", 4, "'and' or 'or'"),
            ("17", 0, "unknown primitive '17'"),
            ("foo", 0, "unknown primitive 'foo'"),
            ("tcp or 80", 7, "unknown primitive '80'"),
            ("host", 4, "expected an address"),
            ("port", 4, "expected an address"),
            ("host example.com", 5, "invalid address"),
            ("host 1.2.3", 5, "invalid address"),
            ("net 10.0.0.0/33", 4, "prefix length"),
            ("net 10.0.0", 4, "ADDRESS/LENGTH"),
            ("net 10.0.0.0 mask 255.0.255.0", 18, "invalid mask"),
            ("net 10.0.0.0 mask ffff::", 18, "invalid mask"),
            ("net 10.0.0.0 mask", 17, "after 'mask'"),
            ("port 70000", 5, "invalid port"),
            ("port -1", 5, "invalid port"),
            ("port 80-53", 5, "first port is above"),
            ("port no-such-service", 5, "invalid port"),
            ("proto 256", 6, "invalid protocol"),
            ("src proto 6", 10, "do not apply"),
            ("tcp & udp", 4, "'&&'"),
        ];
        for &(expression, offset, reason) in cases {
            let (actual_offset, actual_reason) = error_of(expression);
            assert_eq!(actual_offset, offset, "offset for {expression:?}: {actual_reason}");
            assert!(actual_reason.contains(reason), "reason for {expression:?}: {actual_reason}");
        }
    }

    #[test]
    fn deep_nesting_is_rejected_without_overflow() {
        let deep = format!("{}tcp{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(error_of(&deep).1.contains("nested"));
        let negations = format!("{}tcp", "!".repeat(10_000));
        assert!(error_of(&negations).1.contains("nested"));
        let allowed = format!("{}tcp{}", "(".repeat(MAX_NESTING - 1), ")".repeat(MAX_NESTING - 1));
        assert_eq!(parse(&allowed).unwrap(), tcp());
    }

    #[test]
    fn long_flat_expression_parses() {
        let long = vec!["tcp"; 5_000].join(" or ");
        assert!(parse(&long).is_ok());
    }
}
