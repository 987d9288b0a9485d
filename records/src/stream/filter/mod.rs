//! The record filter that stream clients send with `FILTER: `.
//!
//! The language is a subset of ra 3.0.8's filter expressions, which follow
//! tcpdump's syntax. It has the protocol names `tcp`, `udp`, `icmp`, `arp`,
//! `rarp`, `ip`, `ipv4`, `ipv6` and `man`. It has `host A`, `net A/LEN`,
//! `net A mask M`, `port N`, `port N-M` and `proto N`, each optionally
//! preceded by `src`, `dst`, `src or dst` or `src and dst`. Operators are
//! `and`/`&&`, `or`/`||`, `not`/`!` and parentheses. The parser module
//! documents the grammar.
//!
//! ra's other primitives (`ttl`, `pkts gt N`, `ether host`, TCP flag names
//! and the like) are rejected as unknown, so the server replies with a
//! syntax error rather than send a selection that could differ from ra's.

mod ast;
mod eval;
mod lexer;
mod names;
mod parser;

use naudit_engine::flow::FlowRecord;

pub use ast::{Direction, Expr, IpNetwork, PortRange, ProtocolClass};
pub use eval::Subject;

/// Maximum length of an expression, in bytes. ra's filters are a few dozen
/// bytes, and the limit bounds the parse tree built from network input.
pub const MAX_EXPRESSION_BYTES: usize = 4096;

/// Error for an expression the filter cannot parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid filter expression at byte {offset}: {reason}")]
pub struct FilterError {
    /// Byte offset in the expression where the error was found.
    pub offset: usize,
    /// Description of the problem.
    pub reason: String,
}

impl FilterError {
    pub(crate) fn new(offset: usize, reason: String) -> FilterError {
        FilterError { offset, reason }
    }
}

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Filter {
    expr: Expr,
    expression: String,
}

impl Filter {
    /// Parses an expression such as `man or (tcp and dst port 80)`.
    pub fn parse(expression: &str) -> Result<Filter, FilterError> {
        if expression.len() > MAX_EXPRESSION_BYTES {
            let reason = format!("the expression is {} bytes long; the limit is {MAX_EXPRESSION_BYTES}", expression.len());
            return Err(FilterError::new(MAX_EXPRESSION_BYTES, reason));
        }
        parser::parse(expression).map(|expr| Filter { expr, expression: expression.to_string() })
    }

    /// Returns the expression as given.
    pub fn expression(&self) -> &str {
        &self.expression
    }

    /// Returns the parsed expression.
    pub fn expr(&self) -> &Expr {
        &self.expr
    }

    /// Returns true when the flow record satisfies the filter.
    pub fn matches_flow(&self, record: &FlowRecord) -> bool {
        self.expr.matches(Subject::Flow(record))
    }

    /// Returns true when management records (MARs) satisfy the filter.
    pub fn matches_management(&self) -> bool {
        self.expr.matches(Subject::Management)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ra_filter_passes_management_records() {
        assert!(Filter::parse("man or (tcp)").unwrap().matches_management());
        assert!(!Filter::parse("tcp").unwrap().matches_management());
        assert!(Filter::parse("not tcp").unwrap().matches_management());
    }

    #[test]
    fn overlong_expression_is_rejected() {
        let long = vec!["tcp"; MAX_EXPRESSION_BYTES].join(" or ");
        let error = Filter::parse(&long).unwrap_err();
        assert!(error.reason.contains("limit"), "reason {}", error.reason);
    }

    #[test]
    fn error_message_names_offset_and_reason() {
        let error = Filter::parse("tcp and (").unwrap_err();
        assert_eq!(error.to_string(), "invalid filter expression at byte 9: the expression ends where a primitive is expected");
    }
}
