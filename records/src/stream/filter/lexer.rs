//! Splits a filter expression into tokens.
//!
//! Operators are `and`/`&&`, `or`/`||`, `not`/`!` and parentheses. Every
//! other run of characters up to whitespace, a parenthesis, `!`, `&` or `|`
//! is one word: a keyword, a number, an address (`10.0.0.1`, `fe80::1`), a
//! network (`10.0.0.0/8`) or a port range (`53-80`).

use super::FilterError;

/// One token and the byte offset where it starts in the expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Token<'a> {
    /// The token's kind.
    pub kind: TokenKind<'a>,
    /// Byte offset of the token's first character.
    pub offset: usize,
}

/// Kinds of token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind<'a> {
    /// `and` or `&&`.
    And,
    /// `or` or `||`.
    Or,
    /// `not` or `!`.
    Not,
    /// `(`.
    LeftParen,
    /// `)`.
    RightParen,
    /// Any other word.
    Word(&'a str),
}

fn is_word_char(character: char) -> bool {
    !character.is_whitespace() && !matches!(character, '(' | ')' | '!' | '&' | '|')
}

/// Splits `expression` into tokens.
///
/// Fails on a single `&` or `|`, which the filter language does not have.
pub fn tokenize(expression: &str) -> Result<Vec<Token<'_>>, FilterError> {
    let mut tokens = Vec::new();
    let mut characters = expression.char_indices().peekable();

    while let Some((offset, character)) = characters.next() {
        let kind = match character {
            _ if character.is_whitespace() => continue,
            '(' => TokenKind::LeftParen,
            ')' => TokenKind::RightParen,
            '!' => TokenKind::Not,
            '&' | '|' => {
                if characters.next_if(|&(_, next)| next == character).is_none() {
                    let reason = format!("'{character}' is not an operator; write '{character}{character}'");
                    return Err(FilterError::new(offset, reason));
                }
                if character == '&' {
                    TokenKind::And
                } else {
                    TokenKind::Or
                }
            }
            _ => {
                let mut end = offset + character.len_utf8();
                while let Some((next_offset, next)) = characters.next_if(|&(_, next)| is_word_char(next)) {
                    end = next_offset + next.len_utf8();
                }
                match &expression[offset..end] {
                    "and" => TokenKind::And,
                    "or" => TokenKind::Or,
                    "not" => TokenKind::Not,
                    word => TokenKind::Word(word),
                }
            }
        };
        tokens.push(Token { kind, offset });
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(expression: &str) -> Vec<TokenKind<'_>> {
        tokenize(expression).unwrap().into_iter().map(|token| token.kind).collect()
    }

    #[test]
    fn words_and_operators() {
        use TokenKind::*;
        assert_eq!(
            kinds("tcp and not (port 80 or port 443)"),
            [Word("tcp"), And, Not, LeftParen, Word("port"), Word("80"), Or, Word("port"), Word("443"), RightParen]
        );
    }

    #[test]
    fn symbol_operators_need_no_spaces() {
        use TokenKind::*;
        assert_eq!(kinds("!tcp&&udp||(arp)"), [Not, Word("tcp"), And, Word("udp"), Or, LeftParen, Word("arp"), RightParen]);
    }

    #[test]
    fn addresses_networks_and_ranges_are_single_words() {
        use TokenKind::*;
        assert_eq!(
            kinds("net 10.0.0.0/8 host fe80::1 port 53-80"),
            [Word("net"), Word("10.0.0.0/8"), Word("host"), Word("fe80::1"), Word("port"), Word("53-80")]
        );
    }

    #[test]
    fn offsets_point_at_token_starts() {
        let tokens = tokenize("  tcp ||udp").unwrap();
        let offsets: Vec<usize> = tokens.iter().map(|token| token.offset).collect();
        assert_eq!(offsets, [2, 6, 8]);
    }

    #[test]
    fn keywords_inside_words_stay_words() {
        assert_eq!(kinds("android ornot"), [TokenKind::Word("android"), TokenKind::Word("ornot")]);
    }

    #[test]
    fn single_ampersand_or_bar_is_rejected() {
        let error = tokenize("tcp & udp").unwrap_err();
        assert_eq!(error.offset, 4);
        assert!(error.reason.contains("'&&'"), "reason {}", error.reason);
        assert_eq!(tokenize("tcp | udp").unwrap_err().offset, 4);
    }

    #[test]
    fn empty_expression_has_no_tokens() {
        assert!(tokenize("   ").unwrap().is_empty());
    }
}
