//! The parser: tokens to [`Tree`]s, with Go's error messages
//! (`template: NAME:LINE: ...`).
//!
//! It follows the structure of Go's `text/template/parse/parse.go`
//! (recursive descent over `itemList`, `action`, `pipeline`, `command`,
//! `operand`, `term`). Nesting (control blocks and parentheses) is bounded
//! by [`MAX_NESTING`] so no input can overflow the stack.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ast::{
    Arg, Branch, Command, List, Node, Number, Pipe, TemplateNode, TextNode, Tree, Variable,
};
use crate::lexer::{TokKind, Token, lex};

/// Deepest nesting of control structures and parenthesised pipelines the
/// parser accepts (Go allows 10000 parentheses; we stay well within a
/// 2 MiB stack in an unoptimised build).
pub const MAX_NESTING: usize = 100;

/// A parse failure: Go's full message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseFailure(pub String);

type PResult<T> = Result<T, ParseFailure>;

struct Parser<'a> {
    toks: &'a [Token],
    idx: usize,
    furthest: usize,
    parse_name: &'a str,
    text: Arc<str>,
    has_func: &'a dyn Fn(&str) -> bool,
    trees: &'a mut BTreeMap<String, Tree>,
    vars: Vec<String>,
    range_depth: usize,
    depth: usize,
    action_line: usize,
}

/// Parses `text` under `name`, returning every tree it defines: `name`
/// itself plus each `define`/`block`. Empty definitions do not replace
/// existing ones; two non-empty definitions of a name in one text fail.
pub(crate) fn parse(
    name: &str,
    text: &str,
    has_func: &dyn Fn(&str) -> bool,
) -> Result<BTreeMap<String, Tree>, ParseFailure> {
    let toks = lex(text);
    let mut trees = BTreeMap::new();
    let text: Arc<str> = Arc::from(text);
    let mut p = Parser {
        toks: &toks,
        idx: 0,
        furthest: 0,
        parse_name: name,
        text: text.clone(),
        has_func,
        trees: &mut trees,
        vars: vec!["$".to_string()],
        range_depth: 0,
        depth: 0,
        action_line: 0,
    };
    let root = p.parse_top()?;
    let tree = Tree {
        name: name.to_string(),
        parse_name: name.to_string(),
        text,
        root,
    };
    p.add(tree)?;
    Ok(trees)
}

impl Parser<'_> {
    fn line(&self) -> usize {
        self.toks
            .get(self.furthest)
            .or_else(|| self.toks.last())
            .map_or(1, |t| t.line)
    }

    fn errorf(&self, msg: impl Into<String>) -> ParseFailure {
        ParseFailure(format!(
            "template: {}:{}: {}",
            self.parse_name,
            self.line(),
            msg.into()
        ))
    }

    fn next(&mut self) -> Token {
        let i = self.idx.min(self.toks.len().saturating_sub(1));
        if self.idx < self.toks.len() {
            self.idx += 1;
        }
        self.furthest = self.furthest.max(i);
        self.toks.get(i).cloned().unwrap_or(Token {
            kind: TokKind::Eof,
            pos: self.text.len(),
            val: String::new(),
            line: 1,
        })
    }

    fn backup(&mut self) {
        self.idx = self.idx.saturating_sub(1);
    }

    fn peek(&mut self) -> Token {
        let t = self.next();
        self.backup();
        t
    }

    fn next_non_space(&mut self) -> Token {
        loop {
            let t = self.next();
            if t.kind != TokKind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Token {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn expect(&mut self, kind: TokKind, context: &str) -> PResult<Token> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    fn unexpected(&self, t: &Token, context: &str) -> ParseFailure {
        if t.kind == TokKind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != t.line {
                extra = format!(
                    " in action started at {}:{}",
                    self.parse_name, self.action_line
                );
                if t.val.ends_with(" action") {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{t}{extra}"));
        }
        self.errorf(format!("unexpected {t} in {context}"))
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.errorf(format!("max nesting depth exceeded ({MAX_NESTING})")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    fn add(&mut self, tree: Tree) -> PResult<()> {
        match self.trees.get(&tree.name) {
            Some(old) if !old.is_empty() => {
                if !tree.is_empty() {
                    return Err(self.errorf(format!(
                        "template: multiple definition of template {}",
                        crate::fmt::quote(&tree.name)
                    )));
                }
            }
            _ => {
                self.trees.insert(tree.name.clone(), tree);
            }
        }
        Ok(())
    }

    fn parse_top(&mut self) -> PResult<List> {
        let mut list = List { nodes: Vec::new() };
        while self.peek().kind != TokKind::Eof {
            if self.peek().kind == TokKind::LeftDelim {
                let save = self.idx;
                self.next();
                if self.next_non_space().kind == TokKind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.idx = save;
            }
            match self.text_or_action()? {
                Some(Ctl::End) => return Err(self.errorf("unexpected {{end}}")),
                Some(Ctl::Else(_)) => return Err(self.errorf("unexpected {{else}}")),
                Some(Ctl::Node(n)) => list.nodes.push(n),
                None => {}
            }
        }
        Ok(list)
    }

    fn parse_definition(&mut self) -> PResult<()> {
        let context = "define clause";
        let t = self.next_non_space();
        if !matches!(t.kind, TokKind::String | TokKind::RawString) {
            return Err(self.unexpected(&t, context));
        }
        let name = self.unquote(&t.val)?;
        self.expect(TokKind::RightDelim, context)?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let (root, end) = self.item_list()?;
        self.vars = saved_vars;
        self.range_depth = saved_range;
        if !matches!(end, Ctl::End) {
            return Err(self.errorf(format!("unexpected {} in {context}", end.describe())));
        }
        let tree = Tree {
            name,
            parse_name: self.parse_name.to_string(),
            text: self.text.clone(),
            root,
        };
        self.add(tree)
    }

    /// Reads nodes up to an `{{end}}` or `{{else}}`, which it returns.
    fn item_list(&mut self) -> PResult<(List, Ctl)> {
        let mut list = List { nodes: Vec::new() };
        while self.peek_non_space().kind != TokKind::Eof {
            match self.text_or_action()? {
                Some(Ctl::Node(n)) => list.nodes.push(n),
                Some(c) => return Ok((list, c)),
                None => {}
            }
        }
        Err(self.errorf("unexpected EOF"))
    }

    fn text_or_action(&mut self) -> PResult<Option<Ctl>> {
        let t = self.next_non_space();
        match t.kind {
            TokKind::Text => Ok(Some(Ctl::Node(Node::Text(TextNode {
                pos: t.pos,
                text: t.val,
            })))),
            TokKind::LeftDelim => {
                let saved = self.action_line;
                self.action_line = t.line;
                let r = self.action();
                self.action_line = saved;
                r.map(Some)
            }
            TokKind::Comment => Ok(None),
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Ctl> {
        let t = self.next_non_space();
        match t.kind {
            TokKind::Block => return self.block_control(),
            TokKind::Break => return self.loop_control(t, true),
            TokKind::Continue => return self.loop_control(t, false),
            TokKind::Else => return self.else_control(),
            TokKind::End => {
                let t = self.expect(TokKind::RightDelim, "end")?;
                let _ = t;
                return Ok(Ctl::End);
            }
            TokKind::If => return self.branch_control("if").map(|b| Ctl::Node(Node::If(b))),
            TokKind::Range => {
                return self
                    .branch_control("range")
                    .map(|b| Ctl::Node(Node::Range(b)));
            }
            TokKind::With => {
                return self
                    .branch_control("with")
                    .map(|b| Ctl::Node(Node::With(b)));
            }
            TokKind::Template => return self.template_control(),
            _ => {}
        }
        self.backup();
        let pos = self.peek().pos;
        let pipe = self.pipeline("command", TokKind::RightDelim)?;
        Ok(Ctl::Node(Node::Action(crate::ast::ActionNode {
            pos,
            pipe,
        })))
    }

    fn loop_control(&mut self, t: Token, is_break: bool) -> PResult<Ctl> {
        let word = if is_break { "break" } else { "continue" };
        let n = self.next_non_space();
        if n.kind != TokKind::RightDelim {
            return Err(self.unexpected(&n, &format!("{{{{{word}}}}}")));
        }
        if self.range_depth == 0 {
            return Err(self.errorf(format!("{{{{{word}}}}} outside {{{{range}}}}")));
        }
        Ok(Ctl::Node(if is_break {
            Node::Break(t.pos)
        } else {
            Node::Continue(t.pos)
        }))
    }

    fn else_control(&mut self) -> PResult<Ctl> {
        let p = self.peek_non_space();
        if p.kind == TokKind::If {
            return Ok(Ctl::Else(true));
        }
        let t = self.expect(TokKind::RightDelim, "else")?;
        {
            let _ = t;
            Ok(Ctl::Else(false))
        }
    }

    fn branch_control(&mut self, context: &str) -> PResult<Branch> {
        self.enter()?;
        let mark = self.vars.len();
        let r = self.branch_inner(context);
        self.vars.truncate(mark);
        self.leave();
        r
    }

    fn branch_inner(&mut self, context: &str) -> PResult<Branch> {
        let pipe = self.pipeline(context, TokKind::RightDelim)?;
        let pos = pipe.pos;
        if context == "range" {
            self.range_depth += 1;
        }
        let r = self.item_list();
        if context == "range" {
            self.range_depth -= 1;
        }
        let (list, next) = r?;
        let mut else_list = None;
        match next {
            Ctl::End => {}
            Ctl::Else(has_if) => {
                if context == "if" && has_if {
                    // `{{else if x}}` is `{{else}}{{if x}}...{{end}}{{end}}`
                    // with one shared `{{end}}`.
                    self.next_non_space();
                    let inner = self.branch_control("if")?;
                    else_list = Some(List {
                        nodes: vec![Node::If(inner)],
                    });
                } else {
                    if has_if {
                        // Not allowed after range/with: Go reads the `if`
                        // token as the start of the else list.
                        let t = self.next_non_space();
                        return Err(self.unexpected(&t, "input"));
                    }
                    let (el, next) = self.item_list()?;
                    if !matches!(next, Ctl::End) {
                        return Err(self.errorf(format!("expected end; found {}", next.describe())));
                    }
                    else_list = Some(el);
                }
            }
            Ctl::Node(_) => {}
        }
        Ok(Branch {
            pos,
            pipe,
            list,
            else_list,
        })
    }

    fn template_name(&mut self, t: &Token, context: &str) -> PResult<String> {
        match t.kind {
            TokKind::String | TokKind::RawString => self.unquote(&t.val),
            _ => Err(self.unexpected(t, context)),
        }
    }

    fn template_control(&mut self) -> PResult<Ctl> {
        let context = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let mut pipe = None;
        if self.next_non_space().kind != TokKind::RightDelim {
            self.backup();
            pipe = Some(self.pipeline(context, TokKind::RightDelim)?);
        }
        Ok(Ctl::Node(Node::Template(TemplateNode {
            pos: t.pos,
            name,
            pipe,
        })))
    }

    fn block_control(&mut self) -> PResult<Ctl> {
        let context = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, context)?;
        let pipe = self.pipeline(context, TokKind::RightDelim)?;
        self.enter()?;
        let saved_vars = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let r = self.item_list();
        self.vars = saved_vars;
        self.range_depth = saved_range;
        self.leave();
        let (root, end) = r?;
        if !matches!(end, Ctl::End) {
            return Err(self.errorf(format!("unexpected {} in {context}", end.describe())));
        }
        self.add(Tree {
            name: name.clone(),
            parse_name: self.parse_name.to_string(),
            text: self.text.clone(),
            root,
        })?;
        Ok(Ctl::Node(Node::Template(TemplateNode {
            pos: t.pos,
            name,
            pipe: Some(pipe),
        })))
    }

    fn pipeline(&mut self, context: &str, end: TokKind) -> PResult<Pipe> {
        let pos = self.peek_non_space().pos;
        let mut pipe = Pipe {
            pos,
            is_assign: false,
            decl: Vec::new(),
            cmds: Vec::new(),
        };
        loop {
            let v = self.peek_non_space();
            if v.kind != TokKind::Variable {
                break;
            }
            let save = self.idx;
            self.next_non_space();
            let after = self.peek();
            let next = self.peek_non_space();
            match next.kind {
                TokKind::Assign | TokKind::Declare => {
                    pipe.is_assign = next.kind == TokKind::Assign;
                    self.next_non_space();
                    pipe.decl.push(Variable {
                        pos: v.pos,
                        ident: vec![v.val.clone()],
                    });
                    self.vars.push(v.val);
                }
                TokKind::Char if next.val == "," => {
                    self.next_non_space();
                    pipe.decl.push(Variable {
                        pos: v.pos,
                        ident: vec![v.val.clone()],
                    });
                    self.vars.push(v.val);
                    if context == "range" && pipe.decl.len() < 2 {
                        match self.peek_non_space().kind {
                            TokKind::Variable | TokKind::RightDelim | TokKind::RightParen => {
                                continue;
                            }
                            _ => return Err(self.errorf("range can only initialize variables")),
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = after;
                    self.idx = save;
                }
            }
            break;
        }
        loop {
            let t = self.next_non_space();
            if t.kind == end {
                self.check_pipeline(&pipe, context)?;
                return Ok(pipe);
            }
            match t.kind {
                TokKind::Bool
                | TokKind::CharConstant
                | TokKind::Complex
                | TokKind::Dot
                | TokKind::Field
                | TokKind::Identifier
                | TokKind::Number
                | TokKind::Nil
                | TokKind::RawString
                | TokKind::String
                | TokKind::Variable
                | TokKind::LeftParen => {
                    self.backup();
                    let c = self.command()?;
                    pipe.cmds.push(c);
                }
                _ => return Err(self.unexpected(&t, context)),
            }
        }
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args.first(),
                Some(Arg::Bool(..) | Arg::Dot(_) | Arg::Nil(_) | Arg::Number(_) | Arg::String(..))
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Command> {
        let pos = self.peek_non_space().pos;
        let mut cmd = Command {
            pos,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(op) = self.operand()? {
                cmd.args.push(op);
            }
            let t = self.next();
            match t.kind {
                TokKind::Space => continue,
                TokKind::RightDelim | TokKind::RightParen => self.backup(),
                TokKind::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command"));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != TokKind::Field {
            return Ok(Some(node));
        }
        let chain_pos = self.peek().pos;
        let mut fields = Vec::new();
        while self.peek().kind == TokKind::Field {
            let f = self.next();
            fields.extend(f.val[1..].split('.').map(str::to_string));
        }
        Ok(Some(match node {
            // Go gives the merged node the position of the chain (the
            // first `.field` after the term); errors report that column.
            Arg::Field(_, mut idents) => {
                idents.extend(fields);
                Arg::Field(chain_pos, idents)
            }
            Arg::Variable(mut v) => {
                v.ident.extend(fields);
                v.pos = chain_pos;
                Arg::Variable(v)
            }
            Arg::Bool(..) | Arg::String(..) | Arg::Number(_) | Arg::Nil(_) | Arg::Dot(_) => {
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    crate::fmt::quote(&node.to_string())
                )));
            }
            other => Arg::Chain(chain_pos, Box::new(other), fields),
        }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        Ok(Some(match t.kind {
            TokKind::Identifier => {
                if !(self.has_func)(&t.val) {
                    return Err(self.errorf(format!(
                        "function {} not defined",
                        crate::fmt::quote(&t.val)
                    )));
                }
                Arg::Identifier(t.pos, t.val)
            }
            TokKind::Dot => Arg::Dot(t.pos),
            TokKind::Nil => Arg::Nil(t.pos),
            TokKind::Variable => {
                let ident: Vec<String> = t.val.split('.').map(str::to_string).collect();
                if !self.vars.iter().any(|v| Some(v) == ident.first()) {
                    return Err(self.errorf(format!(
                        "undefined variable {}",
                        crate::fmt::quote(&ident[0])
                    )));
                }
                Arg::Variable(Variable { pos: t.pos, ident })
            }
            TokKind::Field => {
                Arg::Field(t.pos, t.val[1..].split('.').map(str::to_string).collect())
            }
            TokKind::Bool => Arg::Bool(t.pos, t.val == "true"),
            TokKind::CharConstant | TokKind::Complex | TokKind::Number => {
                let n = self.number(&t)?;
                Arg::Number(Box::new(n))
            }
            TokKind::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", TokKind::RightParen);
                self.leave();
                Arg::Pipe(Box::new(p?))
            }
            TokKind::String | TokKind::RawString => {
                let s = self.unquote(&t.val)?;
                Arg::String(t.pos, t.val, s)
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        }))
    }

    fn unquote(&self, quoted: &str) -> PResult<String> {
        crate::literal::unquote(quoted).map_err(|e| self.errorf(e))
    }

    fn number(&self, t: &Token) -> PResult<Number> {
        crate::literal::parse_number(t.pos, &t.val, t.kind == TokKind::CharConstant)
            .map_err(|e| self.errorf(e))
    }
}

/// What `text_or_action` produced: a node, or a closing `{{end}}`/`{{else}}`.
enum Ctl {
    Node(Node),
    End,
    /// Whether an `if` follows (`{{else if}}`).
    Else(bool),
}

impl Ctl {
    fn describe(&self) -> &'static str {
        match self {
            Ctl::End => "{{end}}",
            Ctl::Else(_) => "{{else}}",
            Ctl::Node(_) => "node",
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<BTreeMap<String, Tree>, ParseFailure> {
        parse("t", text, &|n| n == "printf")
    }

    #[test]
    fn errors_like_go() {
        assert_eq!(
            p("{{ foo }}").unwrap_err().0,
            r#"template: t:1: function "foo" not defined"#
        );
        assert_eq!(
            p("{{ .x }").unwrap_err().0,
            r#"template: t:1: unexpected "}" in operand"#
        );
        assert_eq!(
            p("{{end}}").unwrap_err().0,
            "template: t:1: unexpected {{end}}"
        );
        assert_eq!(
            p("{{if 1}}").unwrap_err().0,
            "template: t:1: unexpected EOF"
        );
        assert!(p(&"{{(".repeat(10000)).is_err());
        assert!(p(&"{{if 1}}".repeat(10000)).is_err());
    }
}
