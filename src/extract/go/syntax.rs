//! The line syntax shared by `go.mod` and `go.work`: directives written one per line
//! (`require example.com/m v1.2.3`) or as a block (`require ( ... )`), `//` comments, and
//! quoted tokens. Semantics live in the files that use it.

use crate::extract::ExtractError;

/// One directive: `verb arg arg ... // comment`. A block entry carries its block's verb.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Directive {
    pub verb: String,
    pub args: Vec<String>,
    /// The text after `//`, trimmed.
    pub comment: Option<String>,
    /// 1-based line the directive is written on.
    pub line: u32,
}

impl Directive {
    /// `// indirect` (possibly followed by `; more text`) marks a requirement that no package
    /// of the main module imports directly.
    pub fn is_indirect(&self) -> bool {
        self.comment.as_deref().is_some_and(|c| {
            c == "indirect"
                || c.strip_prefix("indirect")
                    .is_some_and(|rest| rest.starts_with(';'))
        })
    }
}

/// Splits a go.mod-style file into directives, flattening blocks.
pub(super) fn parse(text: &str) -> Result<Vec<Directive>, ExtractError> {
    let mut directives = Vec::new();
    let mut open_block: Option<(String, u32)> = None;
    for (number, raw) in text.lines().enumerate() {
        let line = u32::try_from(number + 1).unwrap_or(u32::MAX);
        let (tokens, comment) = tokenize(raw, line)?;
        let Some(first) = tokens.first() else {
            continue;
        };
        if let Some((verb, _)) = &open_block {
            if first == ")" {
                if tokens.len() > 1 {
                    return Err(syntax(line, "unexpected text after `)`"));
                }
                open_block = None;
            } else {
                directives.push(Directive {
                    verb: verb.clone(),
                    args: tokens,
                    comment,
                    line,
                });
            }
            continue;
        }
        match tokens.as_slice() {
            [verb, open] if open == "(" => open_block = Some((verb.clone(), line)),
            [_, open, close] if open == "(" && close == ")" => {}
            [close, ..] if close == ")" => return Err(syntax(line, "`)` without an open block")),
            [verb, args @ ..] => {
                if args.iter().any(|a| a == "(" || a == ")") {
                    return Err(syntax(line, "parenthesis in the middle of a directive"));
                }
                directives.push(Directive {
                    verb: verb.clone(),
                    args: args.to_vec(),
                    comment,
                    line,
                });
            }
            [] => {}
        }
    }
    match open_block {
        Some((verb, line)) => Err(syntax(
            line,
            &format!("the `{verb} (` block is never closed"),
        )),
        None => Ok(directives),
    }
}

/// Splits one line into tokens and its trailing comment. `(`, `)` and `=>` are tokens of their
/// own; `"..."` and `` `...` `` are single tokens with the quotes removed.
fn tokenize(raw: &str, line: u32) -> Result<(Vec<String>, Option<String>), ExtractError> {
    let mut tokens = Vec::new();
    let mut chars = raw.char_indices().peekable();
    let mut current = String::new();
    let flush = |current: &mut String, tokens: &mut Vec<String>| {
        if !current.is_empty() {
            tokens.push(std::mem::take(current));
        }
    };
    while let Some((at, c)) = chars.next() {
        match c {
            '/' if raw[at..].starts_with("//") => {
                flush(&mut current, &mut tokens);
                let comment = raw[at + 2..].trim().to_string();
                return Ok((tokens, Some(comment)));
            }
            c if c.is_whitespace() => flush(&mut current, &mut tokens),
            '(' | ')' => {
                flush(&mut current, &mut tokens);
                tokens.push(c.to_string());
            }
            '=' if chars.peek().is_some_and(|&(_, next)| next == '>') => {
                chars.next();
                flush(&mut current, &mut tokens);
                tokens.push("=>".to_string());
            }
            '"' => {
                let mut closed = false;
                while let Some((_, q)) = chars.next() {
                    match q {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => {
                            if let Some((_, escaped)) = chars.next() {
                                current.push(escaped);
                            }
                        }
                        other => current.push(other),
                    }
                }
                if !closed {
                    return Err(syntax(line, "unterminated quoted string"));
                }
            }
            '`' => {
                let mut closed = false;
                for (_, q) in chars.by_ref() {
                    if q == '`' {
                        closed = true;
                        break;
                    }
                    current.push(q);
                }
                if !closed {
                    return Err(syntax(line, "unterminated raw string"));
                }
            }
            other => current.push(other),
        }
    }
    flush(&mut current, &mut tokens);
    Ok((tokens, None))
}

fn syntax(line: u32, message: &str) -> ExtractError {
    ExtractError::Syntax {
        line,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verbs_and_args(text: &str) -> Vec<(String, Vec<String>, u32)> {
        parse(text)
            .expect("parses")
            .into_iter()
            .map(|d| (d.verb, d.args, d.line))
            .collect()
    }

    #[test]
    fn flattens_blocks_and_keeps_lines() {
        let text =
            "module m\n\nrequire (\n\ta v1.0.0\n\n\tb v2.0.0 // indirect\n)\nrequire c v3.0.0\n";
        let got = verbs_and_args(text);
        assert_eq!(got.len(), 4);
        assert_eq!(
            got[1],
            ("require".into(), vec!["a".into(), "v1.0.0".into()], 4)
        );
        assert_eq!(got[2].2, 6);
        assert_eq!(
            got[3],
            ("require".into(), vec!["c".into(), "v3.0.0".into()], 8)
        );
        let all = parse(text).expect("parses");
        assert!(all[2].is_indirect());
        assert!(!all[1].is_indirect());
    }

    #[test]
    fn quotes_arrows_and_comments() {
        let got = verbs_and_args("replace \"a/b\" v1.0.0=>`../c` // local\n");
        assert_eq!(got[0].1, ["a/b", "v1.0.0", "=>", "../c"]);
    }

    #[test]
    fn indirect_with_extra_text() {
        let d = &parse("require a v1 // indirect; needed by b\n").expect("parses")[0];
        assert!(d.is_indirect());
        let d = &parse("require a v1 // indirectly\n").expect("parses")[0];
        assert!(!d.is_indirect());
    }

    #[test]
    fn unclosed_block_and_stray_paren_are_errors_with_lines() {
        let err = parse("module m\nrequire (\n\ta v1.0.0\n").expect_err("unclosed");
        assert_eq!(err.line(), Some(2));
        let err = parse("module m\n)\n").expect_err("stray");
        assert_eq!(err.line(), Some(2));
        let err = parse("module \"m\n").expect_err("unterminated");
        assert_eq!(err.line(), Some(1));
    }

    #[test]
    fn empty_block_on_one_line_is_allowed() {
        assert!(verbs_and_args("require ()\n").is_empty());
    }
}
