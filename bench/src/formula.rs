//! Budget rules of a suite: a whole number, or a small formula in the dimension `d` such as
//! `min(20*d, 400)` (the paper's rule, §16.1).
//!
//! Grammar (whitespace ignored):
//!
//! ```text
//! expr    := term (('+' | '-') term)*
//! term    := factor ('*' factor)*
//! factor  := NUMBER | 'd' | ('min' | 'max') '(' expr ',' expr ')' | '(' expr ')'
//! ```

use std::fmt;

/// A parsed budget rule.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    /// A number.
    Number(f64),
    /// The problem's dimension.
    Dim,
    /// Sum.
    Add(Box<Formula>, Box<Formula>),
    /// Difference.
    Sub(Box<Formula>, Box<Formula>),
    /// Product.
    Mul(Box<Formula>, Box<Formula>),
    /// Smaller of two.
    Min(Box<Formula>, Box<Formula>),
    /// Larger of two.
    Max(Box<Formula>, Box<Formula>),
}

impl Formula {
    /// Parses `text`; the error says what was expected where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
        let mut p = Parser { chars: &chars, pos: 0 };
        let f = p.expr()?;
        if p.pos != chars.len() {
            return Err(format!(
                "unexpected `{}` at character {}",
                chars[p.pos..].iter().collect::<String>(),
                p.pos + 1
            ));
        }
        Ok(f)
    }

    /// The value at dimension `d`.
    pub fn eval(&self, d: usize) -> f64 {
        match self {
            Formula::Number(v) => *v,
            Formula::Dim => d as f64,
            Formula::Add(a, b) => a.eval(d) + b.eval(d),
            Formula::Sub(a, b) => a.eval(d) - b.eval(d),
            Formula::Mul(a, b) => a.eval(d) * b.eval(d),
            Formula::Min(a, b) => a.eval(d).min(b.eval(d)),
            Formula::Max(a, b) => a.eval(d).max(b.eval(d)),
        }
    }
}

impl fmt::Display for Formula {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Formula::Number(v) => write!(f, "{v}"),
            Formula::Dim => write!(f, "d"),
            Formula::Add(a, b) => write!(f, "({a} + {b})"),
            Formula::Sub(a, b) => write!(f, "({a} - {b})"),
            Formula::Mul(a, b) => write!(f, "{a}*{b}"),
            Formula::Min(a, b) => write!(f, "min({a}, {b})"),
            Formula::Max(a, b) => write!(f, "max({a}, {b})"),
        }
    }
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected `{c}` at character {}", self.pos + 1))
        }
    }

    fn expr(&mut self) -> Result<Formula, String> {
        let mut left = self.term()?;
        while let Some(op @ ('+' | '-')) = self.peek() {
            self.pos += 1;
            let right = self.term()?;
            left = if op == '+' {
                Formula::Add(Box::new(left), Box::new(right))
            } else {
                Formula::Sub(Box::new(left), Box::new(right))
            };
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Formula, String> {
        let mut left = self.factor()?;
        while self.peek() == Some('*') {
            self.pos += 1;
            let right = self.factor()?;
            left = Formula::Mul(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Formula, String> {
        let rest: String = self.chars[self.pos..].iter().collect();
        for (name, is_min) in [("min", true), ("max", false)] {
            if rest.starts_with(&format!("{name}(")) {
                self.pos += name.len() + 1;
                let a = self.expr()?;
                self.expect(',')?;
                let b = self.expr()?;
                self.expect(')')?;
                return Ok(if is_min {
                    Formula::Min(Box::new(a), Box::new(b))
                } else {
                    Formula::Max(Box::new(a), Box::new(b))
                });
            }
        }
        match self.peek() {
            Some('d') => {
                self.pos += 1;
                Ok(Formula::Dim)
            }
            Some('(') => {
                self.pos += 1;
                let e = self.expr()?;
                self.expect(')')?;
                Ok(e)
            }
            Some(c) if c.is_ascii_digit() || c == '.' => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    self.pos += 1;
                }
                let s: String = self.chars[start..self.pos].iter().collect();
                s.parse::<f64>().map(Formula::Number).map_err(|_| format!("`{s}` is not a number"))
            }
            Some(c) => Err(format!(
                "unexpected `{c}` at character {}: expected a number, `d`, `min(…)` or `max(…)`",
                self.pos + 1
            )),
            None => Err("the formula ends early: expected a number, `d`, `min(…)` or `max(…)`".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_rule() {
        let f = Formula::parse("min(20*d, 400)").unwrap();
        let got: Vec<f64> = [5, 10, 12, 20, 30, 60].iter().map(|&d| f.eval(d)).collect();
        assert_eq!(got, vec![100.0, 200.0, 240.0, 400.0, 400.0, 400.0]);
    }

    #[test]
    fn other_forms() {
        assert_eq!(Formula::parse("10 * d").unwrap().eval(3), 30.0);
        assert_eq!(Formula::parse("d*4+2").unwrap().eval(3), 14.0);
        assert_eq!(Formula::parse("12").unwrap().eval(7), 12.0);
        assert_eq!(Formula::parse("max(d, min(2*d, 9))").unwrap().eval(6), 9.0);
        assert_eq!(Formula::parse("(d-1)*2").unwrap().eval(6), 10.0);
    }

    #[test]
    fn errors_say_where() {
        assert!(Formula::parse("min(20*d 400)").unwrap_err().contains("expected `,`"));
        assert!(Formula::parse("20*x").unwrap_err().contains("unexpected `x`"));
        assert!(Formula::parse("20*").unwrap_err().contains("ends early"));
        assert!(Formula::parse("20 d").unwrap_err().contains("unexpected `d`"));
    }
}
