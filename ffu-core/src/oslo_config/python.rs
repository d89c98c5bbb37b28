//! Just enough of Python to read option definitions: a tokenizer and a parser of
//! statements into the few shapes that matter (assignments, imports, calls, returns), whose
//! expressions are literals, names, calls, lists, dicts, subscripts and `+`. Everything
//! else becomes [`Expr::Other`]: the reader never guesses what running code would build.

/// A token of Python source, with its 1-based line.
#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Name(String),
    /// A string literal, decoded; `None` for an f-string (built at run time).
    Str(Option<String>),
    Num(String),
    Op(&'static str),
    /// The end of a logical line.
    Newline,
}

/// An expression, as far as a static reader can know it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Expr {
    /// A name or a dotted chain of names (`cfg.StrOpt`, `conf.CONF`).
    Name(String),
    /// A string literal (adjacent literals joined).
    Str(String),
    /// A number literal, as written.
    Num(String),
    /// `True`, `False` or `None`.
    Const(&'static str),
    /// A list or tuple.
    List(Vec<Expr>),
    /// A dict literal.
    Dict(Vec<(Expr, Expr)>),
    /// A call, with its position: the line and the token index of its callee, which tells
    /// calls apart within a module.
    Call {
        func: Box<Expr>,
        args: Vec<Expr>,
        kwargs: Vec<(String, Expr)>,
        at: (u32, u32),
    },
    /// An attribute of something that is not a plain name (`f(x).name`).
    Attr(Box<Expr>, String),
    /// `value[index]`.
    Subscript(Box<Expr>, Box<Expr>),
    /// `left + right`.
    Add(Box<Expr>, Box<Expr>),
    /// Anything else (comprehensions, other operators, lambdas, starred arguments).
    Other,
}

impl Expr {
    /// The callee's dotted name, for a call of a name.
    pub(crate) fn call_name(&self) -> Option<&str> {
        match self {
            Expr::Call { func, .. } => match func.as_ref() {
                Expr::Name(name) => Some(name),
                _ => None,
            },
            _ => None,
        }
    }

    /// A keyword argument of a call.
    pub(crate) fn kwarg(&self, key: &str) -> Option<&Expr> {
        match self {
            Expr::Call { kwargs, .. } => kwargs.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// A positional argument of a call.
    pub(crate) fn arg(&self, index: usize) -> Option<&Expr> {
        match self {
            Expr::Call { args, .. } => args.get(index),
            _ => None,
        }
    }

    /// Calls everywhere inside this expression (itself included), outermost first.
    pub(crate) fn walk_calls<'a>(&'a self, out: &mut Vec<&'a Expr>) {
        match self {
            Expr::Call {
                func, args, kwargs, ..
            } => {
                out.push(self);
                func.walk_calls(out);
                for arg in args {
                    arg.walk_calls(out);
                }
                for (_, value) in kwargs {
                    value.walk_calls(out);
                }
            }
            Expr::List(items) => items.iter().for_each(|a| a.walk_calls(out)),
            Expr::Dict(pairs) => pairs.iter().for_each(|(k, v)| {
                k.walk_calls(out);
                v.walk_calls(out);
            }),
            Expr::Attr(value, _) => value.walk_calls(out),
            Expr::Subscript(a, b) | Expr::Add(a, b) => {
                a.walk_calls(out);
                b.walk_calls(out);
            }
            Expr::Name(_) | Expr::Str(_) | Expr::Num(_) | Expr::Const(_) | Expr::Other => {}
        }
    }
}

/// A statement of the shapes that matter, with its first line.
#[derive(Debug, Clone)]
pub(crate) enum Stmt {
    /// `a = b = value` (or `a += value`, read as `a = a + value`).
    Assign(Vec<String>, Expr),
    /// `import a.b [as c]`: (bound name, module).
    Import(Vec<(String, String)>),
    /// `from m import a [as b]`: (bound name, `m.a`), `m` made absolute.
    FromImport(Vec<(String, String)>),
    /// `def name(...)`: later `return`s belong to it.
    Def(String),
    /// `return value`.
    Return(Expr),
    /// An expression on its own (a call).
    Expr(Expr),
}

/// Parses a module's text; `module` is its dotted name (for relative imports) and
/// `is_package` whether it is an `__init__.py`.
pub(crate) fn parse_module(text: &str, module: &str, is_package: bool) -> Vec<(u32, Stmt)> {
    let tokens = tokenize(text);
    let mut statements = Vec::new();
    let mut start = 0;
    for (index, (_, tok)) in tokens.iter().enumerate() {
        if *tok == Tok::Newline {
            if index > start {
                let line = tokens[start].0;
                if let Some(stmt) = statement(&tokens[start..index], module, is_package) {
                    statements.push((line, stmt));
                }
            }
            start = index + 1;
        }
    }
    statements
}

/// One logical line's statement, or `None` for shapes that do not matter.
fn statement(tokens: &[(u32, Tok)], module: &str, is_package: bool) -> Option<Stmt> {
    let mut parser = Parser { tokens, at: 0 };
    match &tokens[0].1 {
        Tok::Name(word) if word == "import" => return Some(Stmt::Import(parser.import())),
        Tok::Name(word) if word == "from" => {
            return Some(Stmt::FromImport(parser.import_from(module, is_package)));
        }
        Tok::Name(word) if word == "def" => match tokens.get(1) {
            Some((_, Tok::Name(name))) => return Some(Stmt::Def(name.clone())),
            _ => return None,
        },
        Tok::Name(word) if word == "return" => {
            parser.at = 1;
            return Some(Stmt::Return(parser.expr_list()));
        }
        Tok::Name(word) if is_keyword(word) => return None,
        _ => {}
    }
    let mut targets = Vec::new();
    loop {
        let before = parser.at;
        if let Some(Tok::Name(name)) = parser.peek() {
            let name = name.clone();
            parser.at += 1;
            let dotted = parser.dotted_rest(name);
            match parser.peek() {
                Some(Tok::Op("=")) => {
                    parser.at += 1;
                    targets.push(dotted);
                    continue;
                }
                Some(Tok::Op("+=")) if targets.is_empty() => {
                    parser.at += 1;
                    let value = parser.expr_list();
                    let sum = Expr::Add(Box::new(Expr::Name(dotted.clone())), Box::new(value));
                    return Some(Stmt::Assign(vec![dotted], sum));
                }
                _ => {}
            }
        }
        parser.at = before;
        break;
    }
    let value = parser.expr_list();
    if targets.is_empty() {
        Some(Stmt::Expr(value))
    } else {
        Some(Stmt::Assign(targets, value))
    }
}

fn is_keyword(word: &str) -> bool {
    matches!(
        word,
        "if" | "elif"
            | "else"
            | "for"
            | "while"
            | "try"
            | "except"
            | "finally"
            | "with"
            | "class"
            | "raise"
            | "pass"
            | "del"
            | "global"
            | "nonlocal"
            | "assert"
            | "break"
            | "continue"
            | "async"
            | "yield"
            | "lambda"
    )
}

struct Parser<'a> {
    tokens: &'a [(u32, Tok)],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.tokens.get(self.at).map(|(_, t)| t)
    }

    fn line(&self) -> u32 {
        self.tokens
            .get(self.at)
            .or_else(|| self.tokens.last())
            .map_or(0, |(l, _)| *l)
    }

    fn eat(&mut self, op: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Op(o)) if *o == op) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// `.b.c` after a name: the dotted name.
    fn dotted_rest(&mut self, mut name: String) -> String {
        while matches!(self.peek(), Some(Tok::Op("."))) {
            if let Some((_, Tok::Name(next))) = self.tokens.get(self.at + 1) {
                name.push('.');
                name.push_str(next);
                self.at += 2;
            } else {
                break;
            }
        }
        name
    }

    fn import(&mut self) -> Vec<(String, String)> {
        self.at = 1;
        let mut out = Vec::new();
        while let Some(Tok::Name(first)) = self.peek() {
            let first = first.clone();
            self.at += 1;
            let module = self.dotted_rest(first);
            if self.eat_word("as") {
                if let Some(Tok::Name(alias)) = self.peek() {
                    out.push((alias.clone(), module));
                    self.at += 1;
                }
            } else {
                // `import a.b` binds `a`, and `a.b.x` is then reachable by its full name.
                out.push((module.clone(), module));
            }
            if !self.eat(",") {
                break;
            }
        }
        out
    }

    fn eat_word(&mut self, word: &str) -> bool {
        if matches!(self.peek(), Some(Tok::Name(w)) if w == word) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn import_from(&mut self, module: &str, is_package: bool) -> Vec<(String, String)> {
        self.at = 1;
        let mut dots = 0;
        while self.eat(".") {
            dots += 1;
        }
        let mut base = match self.peek() {
            Some(Tok::Name(name)) if name != "import" => {
                let name = name.clone();
                self.at += 1;
                self.dotted_rest(name)
            }
            _ => String::new(),
        };
        if dots > 0 {
            // Relative to the package: a module's package is its name without the last part.
            let mut parts: Vec<&str> = module.split('.').collect();
            let drop = if is_package { dots - 1 } else { dots };
            parts.truncate(parts.len().saturating_sub(drop));
            let mut absolute = parts.join(".");
            if !base.is_empty() {
                absolute.push('.');
                absolute.push_str(&base);
            }
            base = absolute;
        }
        if !self.eat_word("import") {
            return Vec::new();
        }
        self.eat("(");
        let mut out = Vec::new();
        while let Some(Tok::Name(name)) = self.peek() {
            let name = name.clone();
            self.at += 1;
            let mut bound = name.clone();
            if self.eat_word("as") {
                if let Some(Tok::Name(alias)) = self.peek() {
                    bound.clone_from(alias);
                    self.at += 1;
                }
            }
            let full = if base.is_empty() {
                name
            } else {
                format!("{base}.{name}")
            };
            out.push((bound, full));
            if !self.eat(",") {
                break;
            }
        }
        out
    }

    /// An expression, or a bare tuple of them (`return a, b`).
    fn expr_list(&mut self) -> Expr {
        let first = self.expr();
        if !matches!(self.peek(), Some(Tok::Op(","))) {
            return first;
        }
        let mut items = vec![first];
        while self.eat(",") {
            if self.at_end_of_expr() {
                break;
            }
            items.push(self.expr());
        }
        Expr::List(items)
    }

    fn at_end_of_expr(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(Tok::Op(")" | "]" | "}" | "," | ":" | "="))
        )
    }

    /// An expression: primaries joined by `+`; any other operator makes it [`Expr::Other`].
    fn expr(&mut self) -> Expr {
        let mut value = self.primary();
        loop {
            match self.peek() {
                Some(Tok::Op("+")) => {
                    self.at += 1;
                    let right = self.primary();
                    value = Expr::Add(Box::new(value), Box::new(right));
                }
                None | Some(Tok::Op(")" | "]" | "}" | "," | ":" | "=")) => return value,
                // A comprehension's `for`: the caller sees it and gives up on the whole.
                Some(Tok::Name(word)) if word == "for" => return value,
                _ => {
                    self.skip_rest();
                    return Expr::Other;
                }
            }
        }
    }

    /// Skips to the end of the current expression: a `,`, `:` or closing bracket at depth 0
    /// (a `lambda`'s own `:` excepted).
    fn skip_rest(&mut self) {
        let mut depth = 0usize;
        let mut lambdas = 0usize;
        while let Some(tok) = self.peek() {
            match tok {
                Tok::Op("(" | "[" | "{") => depth += 1,
                Tok::Op(")" | "]" | "}") if depth == 0 => return,
                Tok::Op(")" | "]" | "}") => depth -= 1,
                Tok::Name(w) if w == "lambda" && depth == 0 => lambdas += 1,
                Tok::Op(":") if depth == 0 && lambdas > 0 => lambdas -= 1,
                Tok::Op("," | ":" | "=") if depth == 0 => return,
                _ => {}
            }
            self.at += 1;
        }
    }

    fn primary(&mut self) -> Expr {
        let line = self.line();
        let Some(tok) = self.peek().cloned() else {
            return Expr::Other;
        };
        let column = self.at as u32;
        let mut value = match tok {
            Tok::Name(word) => {
                self.at += 1;
                match word.as_str() {
                    "True" => Expr::Const("True"),
                    "False" => Expr::Const("False"),
                    "None" => Expr::Const("None"),
                    "lambda" | "not" | "yield" | "await" => {
                        self.skip_rest();
                        return Expr::Other;
                    }
                    _ => Expr::Name(word),
                }
            }
            Tok::Str(first) => {
                self.at += 1;
                let mut text = first;
                while let Some(Tok::Str(more)) = self.peek() {
                    text = match (text, more) {
                        (Some(a), Some(b)) => Some(a + b),
                        _ => None,
                    };
                    self.at += 1;
                }
                text.map_or(Expr::Other, Expr::Str)
            }
            Tok::Num(n) => {
                self.at += 1;
                Expr::Num(n)
            }
            Tok::Op("-") => {
                self.at += 1;
                if let Some(Tok::Num(n)) = self.peek().cloned() {
                    self.at += 1;
                    Expr::Num(format!("-{n}"))
                } else {
                    self.skip_rest();
                    return Expr::Other;
                }
            }
            Tok::Op("(") => {
                self.at += 1;
                self.sequence(")", true)
            }
            Tok::Op("[") => {
                self.at += 1;
                self.sequence("]", false)
            }
            Tok::Op("{") => {
                self.at += 1;
                self.dict()
            }
            _ => {
                self.skip_rest();
                return Expr::Other;
            }
        };
        // Postfix: attributes, calls, subscripts.
        loop {
            match self.peek() {
                Some(Tok::Op(".")) => {
                    let Some((_, Tok::Name(attr))) = self.tokens.get(self.at + 1) else {
                        return value;
                    };
                    let attr = attr.clone();
                    self.at += 2;
                    value = match value {
                        Expr::Name(name) => Expr::Name(format!("{name}.{attr}")),
                        other => Expr::Attr(Box::new(other), attr),
                    };
                }
                Some(Tok::Op("(")) => {
                    self.at += 1;
                    value = self.call(value, (line, column));
                }
                Some(Tok::Op("[")) => {
                    self.at += 1;
                    let index = self.expr();
                    if self.eat("]") {
                        value = Expr::Subscript(Box::new(value), Box::new(index));
                    } else {
                        self.skip_to_close("]");
                        value = Expr::Other;
                    }
                }
                _ => return value,
            }
        }
    }

    /// Skips past the bracket that closes the one just opened.
    fn skip_to_close(&mut self, close: &str) {
        let mut depth = 0usize;
        while let Some(tok) = self.peek().cloned() {
            self.at += 1;
            match tok {
                Tok::Op("(" | "[" | "{") => depth += 1,
                Tok::Op(c) if depth == 0 && c == close => return,
                Tok::Op(")" | "]" | "}") => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
    }

    /// The items up to `close`; a comprehension becomes [`Expr::Other`]; `(x)` is `x`.
    fn sequence(&mut self, close: &'static str, paren: bool) -> Expr {
        let mut items = Vec::new();
        let mut trailing_comma = false;
        loop {
            if self.eat(close) {
                break;
            }
            let item = self.expr();
            if matches!(self.peek(), Some(Tok::Name(w)) if w == "for") {
                self.skip_to_close(close);
                return Expr::Other;
            }
            items.push(item);
            trailing_comma = self.eat(",");
            if !trailing_comma && !self.eat(close) {
                self.skip_to_close(close);
                return Expr::Other;
            } else if !trailing_comma {
                break;
            }
        }
        if paren && items.len() == 1 && !trailing_comma {
            return items.pop().unwrap_or(Expr::Other);
        }
        Expr::List(items)
    }

    fn dict(&mut self) -> Expr {
        let mut pairs = Vec::new();
        loop {
            if self.eat("}") {
                return Expr::Dict(pairs);
            }
            let key = self.expr();
            if !self.eat(":") {
                // A set, a comprehension or `**spread`: not read.
                self.skip_to_close("}");
                return Expr::Other;
            }
            let value = self.expr();
            if matches!(self.peek(), Some(Tok::Name(w)) if w == "for") {
                self.skip_to_close("}");
                return Expr::Other;
            }
            pairs.push((key, value));
            if !self.eat(",") {
                if !self.eat("}") {
                    self.skip_to_close("}");
                    return Expr::Other;
                }
                return Expr::Dict(pairs);
            }
        }
    }

    fn call(&mut self, func: Expr, at: (u32, u32)) -> Expr {
        let mut args = Vec::new();
        let mut kwargs = Vec::new();
        loop {
            if self.eat(")") {
                break;
            }
            if matches!(self.peek(), Some(Tok::Op("*" | "**"))) {
                self.at += 1;
                self.expr();
                args.push(Expr::Other);
            } else if let (Some((_, Tok::Name(key))), Some((_, Tok::Op("=")))) =
                (self.tokens.get(self.at), self.tokens.get(self.at + 1))
            {
                let key = key.clone();
                self.at += 2;
                kwargs.push((key, self.expr()));
            } else {
                let arg = self.expr();
                if matches!(self.peek(), Some(Tok::Name(w)) if w == "for") {
                    self.skip_to_close(")");
                    args.push(Expr::Other);
                    break;
                }
                args.push(arg);
            }
            if !self.eat(",") {
                if !self.eat(")") {
                    self.skip_to_close(")");
                }
                break;
            }
        }
        Expr::Call {
            func: Box::new(func),
            args,
            kwargs,
            at,
        }
    }
}

/// The tokens of a module, each with its line; `Newline` ends each logical line.
fn tokenize(text: &str) -> Vec<(u32, Tok)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut line = 1u32;
    let mut depth = 0usize;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                if depth == 0 && !matches!(tokens.last(), Some((_, Tok::Newline)) | None) {
                    tokens.push((line, Tok::Newline));
                }
                line += 1;
                i += 1;
            }
            '#' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => {
                line += 1;
                i += 2;
            }
            ' ' | '\t' | '\r' | '\x0c' => i += 1,
            _ if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if i < chars.len()
                    && matches!(chars[i], '\'' | '"')
                    && word.len() <= 2
                    && word.chars().all(|p| "rRuUbBfF".contains(p))
                {
                    let (tok, next, lines) = string(&chars, i, &word);
                    tokens.push((line, tok));
                    line += lines;
                    i = next;
                } else {
                    tokens.push((line, Tok::Name(word)));
                }
            }
            '\'' | '"' => {
                let (tok, next, lines) = string(&chars, i, "");
                tokens.push((line, tok));
                line += lines;
                i = next;
            }
            _ if c.is_ascii_digit()
                || (c == '.' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || chars[i] == '_')
                {
                    i += 1;
                }
                tokens.push((line, Tok::Num(chars[start..i].iter().collect())));
            }
            _ => {
                let (op, len) = operator(&chars[i..]);
                match op {
                    "(" | "[" | "{" => depth += 1,
                    ")" | "]" | "}" => depth = depth.saturating_sub(1),
                    _ => {}
                }
                tokens.push((line, Tok::Op(op)));
                i += len;
            }
        }
    }
    tokens.push((line, Tok::Newline));
    tokens
}

fn operator(rest: &[char]) -> (&'static str, usize) {
    const OPS: [&str; 47] = [
        "**=", "//=", ">>=", "<<=", "...", "==", "!=", "<=", ">=", "+=", "-=", "*=", "/=", "%=",
        "&=", "|=", "^=", "->", "**", "//", "<<", ">>", ":=", "@=", "(", ")", "[", "]", "{", "}",
        ",", ":", ".", ";", "=", "+", "-", "*", "/", "%", "<", ">", "&", "|", "^", "~", "@",
    ];
    for op in OPS {
        if op.chars().zip(rest).filter(|(a, b)| a == *b).count() == op.len()
            && rest.len() >= op.len()
        {
            return (op, op.len());
        }
    }
    ("?", 1)
}

/// A string literal at `start` (its opening quote), after the prefix `prefix`: the token,
/// the index after it and the line breaks inside it.
fn string(chars: &[char], start: usize, prefix: &str) -> (Tok, usize, u32) {
    let quote = chars[start];
    let triple = chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote);
    let raw = prefix.contains(['r', 'R']);
    let formatted = prefix.contains(['f', 'F']);
    let mut i = start + if triple { 3 } else { 1 };
    let mut text = String::new();
    let mut lines = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == quote
            && (!triple || (chars.get(i + 1) == Some(&quote) && chars.get(i + 2) == Some(&quote)))
        {
            i += if triple { 3 } else { 1 };
            let tok = Tok::Str((!formatted).then_some(text));
            return (tok, i, lines);
        }
        if c == '\n' {
            lines += 1;
            if !triple {
                // An unterminated string: end it at the line break.
                break;
            }
        }
        if c == '\\' && i + 1 < chars.len() {
            let next = chars[i + 1];
            if next == '\n' {
                lines += 1;
            }
            if raw {
                text.push(c);
                text.push(next);
            } else {
                match next {
                    'n' => text.push('\n'),
                    't' => text.push('\t'),
                    '\n' => {}
                    other => text.push(other),
                }
            }
            i += 2;
            continue;
        }
        text.push(c);
        i += 1;
    }
    (Tok::Str(None), i, lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Stmt {
        parse_module(text, "pkg.mod", false).remove(0).1
    }

    #[test]
    fn reads_an_option_list_with_help_text_and_operators() {
        let text = "opts = [\n    cfg.StrOpt('driver',\n        default=\"x\" 'y',\n        help=_('a %s') % 'b',\n        deprecated_group='DEFAULT'),\n]\n";
        let Stmt::Assign(targets, Expr::List(items)) = one(text) else {
            panic!("not a list assignment");
        };
        assert_eq!(targets, ["opts"]);
        assert_eq!(items[0].call_name(), Some("cfg.StrOpt"));
        assert_eq!(items[0].arg(0), Some(&Expr::Str("driver".into())));
        assert_eq!(items[0].kwarg("default"), Some(&Expr::Str("xy".into())));
        assert_eq!(items[0].kwarg("help"), Some(&Expr::Other));
        assert_eq!(
            items[0].kwarg("deprecated_group"),
            Some(&Expr::Str("DEFAULT".into()))
        );
    }

    #[test]
    fn relative_imports_become_absolute() {
        let Stmt::FromImport(names) = one("from . import conf as c, other\n") else {
            panic!("not an import");
        };
        assert_eq!(
            names,
            [
                ("c".to_owned(), "pkg.conf".to_owned()),
                ("other".to_owned(), "pkg.other".to_owned())
            ]
        );
    }

    #[test]
    fn comprehensions_and_fstrings_are_not_read() {
        let Stmt::Assign(_, value) = one("x = [o for o in opts]\n") else {
            panic!()
        };
        assert_eq!(value, Expr::Other);
        let Stmt::Assign(_, value) = one("x = f'{a}'\n") else {
            panic!()
        };
        assert_eq!(value, Expr::Other);
    }

    #[test]
    fn lines_count_through_triple_quoted_strings() {
        let statements = parse_module("a = '''x\ny\n'''\nb = 1\n", "m", false);
        assert_eq!(statements[1].0, 4);
    }
}
