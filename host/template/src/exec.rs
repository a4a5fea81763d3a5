//! Execution: walks a [`Tree`] over a [`Value`], as Go's
//! `text/template/exec.go` does, with Go's error texts
//! (`template: NAME:LINE:COL: executing "NAME" at <NODE>: ...`).
//!
//! Recursion (nested control structures, parenthesised pipelines and
//! `{{template}}` calls) is bounded by [`MAX_EXEC_DEPTH`], so a recursive
//! template fails with an error instead of overflowing the stack.

use crate::ast::{Arg, Branch, Command, List, Node, Number, Pipe, TemplateNode, Tree, Variable};
use crate::funcs::{Context, Func, Param};
use crate::template::{MissingKey, Template};
use crate::value::{MapKind, Value};

/// Deepest recursion of execution before `exceeded maximum template
/// depth`: template calls, control structures and pipelines all count (Go
/// allows 100000 template calls; we keep to what a 2 MiB thread stack
/// holds even in an unoptimised build).
pub const MAX_EXEC_DEPTH: usize = 250;

/// Largest output a single execution may produce (64 MiB).
pub const MAX_OUTPUT: usize = 64 << 20;

/// A failed execution: Go's full message.
#[derive(Debug, Clone)]
pub(crate) struct ExecFailure(pub String);

type EResult<T> = Result<T, ExecFailure>;

/// Where execution is, for error messages.
#[derive(Clone, Copy)]
enum At<'a> {
    None,
    Arg(&'a Arg),
    Var(&'a Variable),
    Num(&'a Number),
    Cmd(&'a Command),
    Pipe(&'a Pipe),
    Node(&'a Node),
    Tmpl(&'a TemplateNode),
    Branch(&'a Branch, &'static str),
}

impl At<'_> {
    fn pos_and_text(&self) -> Option<(usize, String)> {
        Some(match self {
            At::None => return None,
            At::Arg(a) => (a.pos(), a.to_string()),
            At::Var(v) => (v.pos, v.to_string()),
            At::Num(n) => (n.pos, n.text.clone()),
            At::Cmd(c) => (c.pos, c.to_string()),
            At::Pipe(p) => (p.pos, p.to_string()),
            At::Node(n) => (node_pos(n), n.to_string()),
            At::Tmpl(t) => (t.pos, Node::Template((*t).clone()).to_string()),
            At::Branch(b, kind) => {
                let node = match *kind {
                    "if" => Node::If((*b).clone()),
                    "with" => Node::With((*b).clone()),
                    _ => Node::Range((*b).clone()),
                };
                (b.pos, node.to_string())
            }
        })
    }
}

fn node_pos(n: &Node) -> usize {
    match n {
        Node::Text(t) => t.pos,
        Node::Action(a) => a.pos,
        Node::If(b) | Node::Range(b) | Node::With(b) => b.pos,
        Node::Template(t) => t.pos,
        Node::Break(p) | Node::Continue(p) => *p,
    }
}

#[derive(PartialEq, Eq)]
enum Flow {
    Normal,
    Break,
    Continue,
}

pub(crate) struct State<'a> {
    set: &'a Template,
    tree: &'a Tree,
    at: At<'a>,
    vars: Vec<(String, Value)>,
    depth: usize,
    pub(crate) out: String,
}

/// Runs `tree` of `set` on `data`.
pub(crate) fn execute(set: &Template, tree: &Tree, data: &Value) -> Result<String, ExecFailure> {
    let mut s = State {
        set,
        tree,
        at: At::None,
        vars: vec![("$".to_string(), data.clone())],
        depth: 0,
        out: String::new(),
    };
    s.walk_list(data, &tree.root)?;
    Ok(s.out)
}

impl<'a> State<'a> {
    fn errorf(&self, msg: impl Into<String>) -> ExecFailure {
        let msg = msg.into();
        let name = &self.tree.name;
        match self.at.pos_and_text() {
            None => ExecFailure(format!("template: {name}: {msg}")),
            Some((pos, text)) => {
                let src = &self.tree.text;
                let pos = pos.min(src.len());
                let before = src.get(..pos).unwrap_or("");
                let (line, col) = match before.rfind('\n') {
                    None => (1, pos),
                    Some(nl) => (1 + before.matches('\n').count(), pos - (nl + 1)),
                };
                let ctx = text;
                ExecFailure(format!(
                    "template: {}:{line}:{col}: executing {} at <{ctx}>: {msg}",
                    self.tree.parse_name,
                    crate::fmt::quote(name)
                ))
            }
        }
    }

    /// Counts a nesting level (control structure or pipeline); the same
    /// budget as template calls, so the native stack stays bounded.
    fn enter(&mut self) -> EResult<()> {
        if self.depth >= MAX_EXEC_DEPTH {
            return Err(self.errorf(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            )));
        }
        self.depth += 1;
        Ok(())
    }

    fn enter_template(&mut self) -> EResult<()> {
        self.enter()
    }

    fn write(&mut self, s: &str) -> EResult<()> {
        if self.out.len() + s.len() > MAX_OUTPUT {
            return Err(self.errorf(format!("output exceeds {MAX_OUTPUT} bytes")));
        }
        self.out.push_str(s);
        Ok(())
    }

    fn walk_list(&mut self, dot: &Value, list: &'a List) -> EResult<Flow> {
        for n in &list.nodes {
            let f = self.walk(dot, n)?;
            if f != Flow::Normal {
                return Ok(f);
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &Value, node: &'a Node) -> EResult<Flow> {
        self.at = At::Node(node);
        match node {
            Node::Text(t) => {
                self.write(&t.text)?;
            }
            Node::Action(a) => {
                let v = self.eval_pipeline(dot, &a.pipe)?;
                if a.pipe.decl.is_empty() {
                    self.at = At::Node(node);
                    self.print_value(&v)?;
                }
            }
            Node::If(b) | Node::With(b) => {
                self.enter()?;
                let mark = self.vars.len();
                let r = self.walk_if_or_with(dot, b, matches!(node, Node::With(_)));
                self.vars.truncate(mark);
                self.depth -= 1;
                return r;
            }
            Node::Range(b) => {
                self.enter()?;
                let mark = self.vars.len();
                let r = self.walk_range(dot, b);
                self.vars.truncate(mark);
                self.depth -= 1;
                r?;
            }
            Node::Template(t) => self.walk_template(dot, t)?,
            Node::Break(_) => return Ok(Flow::Break),
            Node::Continue(_) => return Ok(Flow::Continue),
        }
        Ok(Flow::Normal)
    }

    fn print_value(&mut self, v: &Value) -> EResult<()> {
        match v {
            Value::Missing => self.write("<no value>"),
            Value::Func(f) => Err(self.errorf(format!(
                "can't print {} of type {}",
                self.at.pos_and_text().map(|(_, t)| t).unwrap_or_default(),
                f.type_name()
            ))),
            Value::Struct(st) if st.pointer => {
                // Go prints what a pointer points to.
                let mut inner = (**st).clone();
                inner.pointer = false;
                let s = crate::fmt::sprint(&[Value::Struct(std::sync::Arc::new(inner))]);
                self.write(&s)
            }
            _ => {
                let s = crate::fmt::sprint(std::slice::from_ref(v));
                self.write(&s)
            }
        }
    }

    fn walk_if_or_with(&mut self, dot: &Value, b: &'a Branch, with: bool) -> EResult<Flow> {
        let val = self.eval_pipeline(dot, &b.pipe)?;
        if val.truth() {
            if with {
                self.walk_list(&val, &b.list)
            } else {
                self.walk_list(dot, &b.list)
            }
        } else if let Some(e) = &b.else_list {
            self.walk_list(dot, e)
        } else {
            Ok(Flow::Normal)
        }
    }

    fn walk_range(&mut self, dot: &Value, b: &'a Branch) -> EResult<()> {
        self.at = At::Branch(b, "range");
        let val = self.eval_pipeline(dot, &b.pipe)?;
        let mark = self.vars.len();
        let items: Vec<(Value, Value)> = match &val {
            Value::List(l) => l
                .items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Int(i as i64), v.clone()))
                .collect(),
            Value::Map(m) => m
                .entries
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), v.clone()))
                .collect(),
            Value::Missing | Value::Nil => Vec::new(),
            other => {
                return Err(self.errorf(format!(
                    "range can't iterate over {}",
                    crate::fmt::value_v(other, false, 0)
                )));
            }
        };
        if items.is_empty() {
            if let Some(e) = &b.else_list {
                self.walk_list(dot, e)?;
            }
            return Ok(());
        }
        let decl = &b.pipe.decl;
        for (index, elem) in items {
            if !decl.is_empty() {
                if b.pipe.is_assign {
                    let v = if decl.len() > 1 {
                        index.clone()
                    } else {
                        elem.clone()
                    };
                    self.set_var(&decl[0].ident[0], v)?;
                } else {
                    self.set_top_var(1, elem.clone());
                }
            }
            if decl.len() > 1 {
                if b.pipe.is_assign {
                    self.set_var(&decl[1].ident[0], elem.clone())?;
                } else {
                    self.set_top_var(2, index);
                }
            }
            let flow = self.walk_list(&elem, &b.list);
            self.vars.truncate(mark);
            if flow? == Flow::Break {
                break;
            }
        }
        Ok(())
    }

    fn walk_template(&mut self, dot: &Value, t: &'a TemplateNode) -> EResult<()> {
        self.at = At::Tmpl(t);
        let Some(tree) = self.set.tree(&t.name) else {
            return Err(self.errorf(format!(
                "template {} not defined",
                crate::fmt::quote(&t.name)
            )));
        };
        let new_dot = match &t.pipe {
            Some(p) => self.eval_pipeline(dot, p)?,
            None => Value::Missing,
        };
        self.at = At::Tmpl(t);
        self.enter_template()?;
        let saved_vars =
            std::mem::replace(&mut self.vars, vec![("$".to_string(), new_dot.clone())]);
        let saved_tree = std::mem::replace(&mut self.tree, tree);
        let r = self.walk_list(&new_dot, &tree.root);
        self.tree = saved_tree;
        self.vars = saved_vars;
        self.depth -= 1;
        r.map(|_| ())
    }

    fn set_var(&mut self, name: &str, v: Value) -> EResult<()> {
        for (n, val) in self.vars.iter_mut().rev() {
            if n == name {
                *val = v;
                return Ok(());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn set_top_var(&mut self, n: usize, v: Value) {
        let len = self.vars.len();
        if let Some(slot) = len.checked_sub(n).and_then(|i| self.vars.get_mut(i)) {
            slot.1 = v;
        }
    }

    fn var_value(&self, name: &str) -> EResult<Value> {
        for (n, v) in self.vars.iter().rev() {
            if n == name {
                return Ok(v.clone());
            }
        }
        Err(self.errorf(format!("undefined variable: {name}")))
    }

    fn eval_pipeline(&mut self, dot: &Value, pipe: &'a Pipe) -> EResult<Value> {
        self.enter()?;
        self.at = At::Pipe(pipe);
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            match self.eval_command(dot, cmd, value.take()) {
                Ok(v) => value = Some(v),
                Err(e) => {
                    self.depth -= 1;
                    return Err(e);
                }
            }
        }
        self.depth -= 1;
        let value = value.unwrap_or_default();
        for v in &pipe.decl {
            if pipe.is_assign {
                self.set_var(&v.ident[0], value.clone())?;
            } else {
                self.vars.push((v.ident[0].clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &[Arg], fin: &Option<Value>) -> EResult<()> {
        if args.len() > 1 || fin.is_some() {
            let first = args.first().map(ToString::to_string).unwrap_or_default();
            return Err(self.errorf(format!("can't give argument to non-function {first}")));
        }
        Ok(())
    }

    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'a Command,
        fin: Option<Value>,
    ) -> EResult<Value> {
        let Some(first) = cmd.args.first() else {
            return Err(self.errorf("empty command"));
        };
        match first {
            Arg::Field(_, idents) => {
                self.at = At::Arg(first);
                return self.eval_field_chain(
                    dot,
                    dot.clone(),
                    At::Arg(first),
                    idents,
                    &cmd.args,
                    fin,
                );
            }
            Arg::Chain(_, base, fields) => {
                return self.eval_chain(dot, first, base, fields, &cmd.args, fin);
            }
            Arg::Identifier(_, name) => {
                return self.eval_function(dot, name, At::Arg(first), At::Cmd(cmd), &cmd.args, fin);
            }
            Arg::Pipe(p) => {
                self.not_a_function(&cmd.args, &fin)?;
                return self.eval_pipeline(dot, p);
            }
            Arg::Variable(v) => return self.eval_variable(dot, v, &cmd.args, fin),
            _ => {}
        }
        self.at = At::Arg(first);
        self.not_a_function(&cmd.args, &fin)?;
        match first {
            Arg::Bool(_, b) => Ok(Value::Bool(*b)),
            Arg::Dot(_) => Ok(dot.clone()),
            Arg::Nil(_) => Err(self.errorf("nil is not a command")),
            Arg::Number(n) => self.ideal_constant(n),
            Arg::String(_, _, s) => Ok(Value::from(s.as_str())),
            _ => Err(self.errorf(format!(
                "can't evaluate command {}",
                crate::fmt::quote(&first.to_string())
            ))),
        }
    }

    fn ideal_constant(&mut self, n: &'a Number) -> EResult<Value> {
        self.at = At::Num(n);
        let t = &n.text;
        let is_hex_int = t.len() > 2
            && t.starts_with('0')
            && (t.as_bytes()[1] | 0x20) == b'x'
            && !t.contains(['p', 'P']);
        let is_rune = t.starts_with('\'');
        if n.is_complex {
            return Err(self.errorf("complex constants are not supported"));
        }
        if n.is_float && !is_hex_int && !is_rune && t.contains(['.', 'e', 'E', 'p', 'P']) {
            return Ok(Value::Float(n.float));
        }
        if n.is_int {
            return Ok(Value::Int(n.int));
        }
        if n.is_uint {
            return Err(self.errorf(format!("{t} overflows int")));
        }
        Ok(Value::Missing)
    }

    fn eval_chain(
        &mut self,
        dot: &Value,
        node: &'a Arg,
        base: &'a Arg,
        fields: &'a [String],
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> EResult<Value> {
        self.at = At::Arg(node);
        if let Arg::Nil(_) = base {
            return Err(self.errorf(format!("indirection through explicit nil in {node}")));
        }
        let pipe = self.eval_arg(dot, &Param::Any, base, true)?;
        self.eval_field_chain(dot, pipe, At::Arg(node), fields, args, fin)
    }

    fn eval_variable(
        &mut self,
        dot: &Value,
        v: &'a Variable,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> EResult<Value> {
        self.at = At::Var(v);
        let value = self.var_value(&v.ident[0])?;
        if v.ident.len() == 1 {
            self.not_a_function(args, &fin)?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, At::Var(v), &v.ident[1..], args, fin)
    }

    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        node: At<'a>,
        idents: &'a [String],
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> EResult<Value> {
        let n = idents.len();
        for ident in &idents[..n.saturating_sub(1)] {
            receiver = self.eval_field(dot, ident, node, &[], None, receiver)?;
        }
        match idents.last() {
            Some(last) => self.eval_field(dot, last, node, args, fin, receiver),
            None => Ok(receiver),
        }
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        node: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
        receiver: Value,
    ) -> EResult<Value> {
        self.at = node;
        match &receiver {
            Value::Missing => {
                if self.set.missing_key_option() == MissingKey::Error {
                    return Err(self.errorf(format!(
                        "nil data; no entry for key {}",
                        crate::fmt::quote(name)
                    )));
                }
                return Ok(Value::Missing);
            }
            Value::Nil => {
                return Err(self.errorf(format!("nil pointer evaluating interface {{}}.{name}")));
            }
            _ => {}
        }
        if let Some(m) = crate::funcs::alertmanager::method(&receiver, name) {
            return self.eval_call(dot, &m, false, node, name, args, fin);
        }
        let has_args = args.len() > 1 || fin.is_some();
        let field = match &receiver {
            Value::Struct(s) => s.field(name).cloned(),
            Value::Object(o) => o.field(name),
            Value::Map(m) => {
                if has_args {
                    return Err(self.errorf(format!("{name} is not a method but has arguments")));
                }
                return Ok(match m.entries.get(name) {
                    Some(v) => v.clone(),
                    None => match self.set.missing_key_option() {
                        MissingKey::Default => Value::Missing,
                        MissingKey::Zero => match m.kind {
                            MapKind::Any => Value::Nil,
                            _ => Value::from(""),
                        },
                        MissingKey::Error => {
                            return Err(self.errorf(format!(
                                "map has no entry for key {}",
                                crate::fmt::quote(name)
                            )));
                        }
                    },
                });
            }
            _ => None,
        };
        if let Some(f) = field {
            if has_args {
                return Err(self.errorf(format!(
                    "{name} has arguments but cannot be invoked as function"
                )));
            }
            return Ok(f);
        }
        Err(self.errorf(format!(
            "can't evaluate field {name} in type {}",
            receiver.type_name()
        )))
    }

    fn eval_function(
        &mut self,
        dot: &Value,
        name: &str,
        ident: At<'a>,
        node: At<'a>,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> EResult<Value> {
        self.at = ident;
        let (f, builtin) = match self.set.funcs_map().get(name) {
            Some(f) => (f.clone(), false),
            None => match crate::funcs::go::builtins().get(name) {
                Some(f) => (f.clone(), true),
                None => {
                    return Err(self.errorf(format!(
                        "{} is not a defined function",
                        crate::fmt::quote(name)
                    )));
                }
            },
        };
        self.eval_call(dot, &f, builtin, node, name, args, fin)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        dot: &Value,
        f: &Func,
        builtin: bool,
        node: At<'a>,
        name: &str,
        args: &'a [Arg],
        fin: Option<Value>,
    ) -> EResult<Value> {
        let args = args.get(1..).unwrap_or(&[]);
        let params = f.params();
        let num_in = args.len() + usize::from(fin.is_some());
        let mut num_fixed = args.len();
        if f.is_variadic() {
            num_fixed = params.len().saturating_sub(1);
            if num_in < num_fixed {
                return Err(self.errorf(format!(
                    "wrong number of args for {name}: want at least {} got {}",
                    params.len() - 1,
                    args.len()
                )));
            }
        } else if num_in != params.len() {
            return Err(self.errorf(format!(
                "wrong number of args for {name}: want {} got {num_in}",
                params.len()
            )));
        }
        if builtin && (name == "and" || name == "or") {
            let mut v = Value::Missing;
            for a in args {
                v = self.eval_arg(dot, &Param::Reflect, a, false)?;
                if v.truth() == (name == "or") {
                    return Ok(v);
                }
            }
            if let Some(fv) = fin {
                v = self.validate_type(fv, &Param::Reflect)?;
            }
            return Ok(v);
        }
        let mut argv = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let p = if i < num_fixed {
                &params[i]
            } else {
                params.last().unwrap_or(&Param::Any)
            };
            argv.push(self.eval_arg(dot, p, a, false)?);
        }
        if let Some(fv) = fin {
            let p = if f.is_variadic() {
                if num_in - 1 < num_fixed {
                    &params[num_in - 1]
                } else {
                    params.last().unwrap_or(&Param::Any)
                }
            } else {
                params.last().unwrap_or(&Param::Any)
            };
            argv.push(self.validate_type(fv, p)?);
        }
        let r = f.call(self, argv);
        r.map_err(|e| {
            self.at = node;
            self.errorf(format!("error calling {name}: {e}"))
        })
    }

    /// Go's `validateType`: can `v` be passed as a parameter of type `p`?
    fn validate_type(&self, v: Value, p: &Param) -> EResult<Value> {
        if matches!(v, Value::Missing) {
            if p.nillable() {
                return Ok(Value::Nil);
            }
            return Err(self.errorf(format!("invalid value; expected {}", p.go_name())));
        }
        let ok = match p {
            Param::Any | Param::Reflect => true,
            Param::String => matches!(v, Value::String(_)),
            Param::Float => matches!(v, Value::Float(_)),
            Param::Int => matches!(v, Value::Int(_)),
            Param::Bool => matches!(v, Value::Bool(_)),
            Param::Time => matches!(v, Value::Time(_)),
            Param::Named(n) => matches!(v, Value::Nil) || v.type_name() == *n,
        };
        if ok {
            return Ok(v);
        }
        if matches!(v, Value::Nil) {
            return Err(self.errorf(format!("invalid value; expected {}", p.go_name())));
        }
        Err(self.errorf(format!(
            "wrong type for value; expected {}; got {}",
            p.go_name(),
            v.type_name()
        )))
    }

    /// Go's `evalArg`: evaluates an argument for a parameter of type `p`.
    fn eval_arg(&mut self, dot: &Value, p: &Param, a: &'a Arg, chain_base: bool) -> EResult<Value> {
        self.at = At::Arg(a);
        let v = match a {
            Arg::Dot(_) => Some(dot.clone()),
            Arg::Nil(_) => {
                if p.nillable() || chain_base {
                    return Ok(Value::Nil);
                }
                return Err(self.errorf(format!("cannot assign nil to {}", p.go_name())));
            }
            Arg::Field(_, idents) => Some(self.eval_field_chain(
                dot,
                dot.clone(),
                At::Arg(a),
                idents,
                std::slice::from_ref(a),
                None,
            )?),
            Arg::Variable(v) => Some(self.eval_variable(dot, v, &[], None)?),
            Arg::Pipe(pipe) => Some(self.eval_pipeline(dot, pipe)?),
            Arg::Identifier(_, name) => {
                Some(self.eval_function(dot, name, At::Arg(a), At::Arg(a), &[], None)?)
            }
            Arg::Chain(_, base, fields) => {
                Some(self.eval_chain(dot, a, base, fields, &[], None)?)
            }
            _ => None,
        };
        if let Some(v) = v {
            if chain_base {
                return Ok(v);
            }
            self.at = At::Arg(a);
            return self.validate_type(v, p);
        }
        self.at = At::Arg(a);
        match p {
            Param::Bool => match a {
                Arg::Bool(_, b) => Ok(Value::Bool(*b)),
                _ => Err(self.errorf(format!("expected bool; found {a}"))),
            },
            Param::Float => match a {
                Arg::Number(n) if n.is_float => Ok(Value::Float(n.float)),
                _ => Err(self.errorf(format!("expected float; found {a}"))),
            },
            Param::Int => match a {
                Arg::Number(n) if n.is_int => Ok(Value::Int(n.int)),
                _ => Err(self.errorf(format!("expected integer; found {a}"))),
            },
            Param::String => match a {
                Arg::String(_, _, s) => Ok(Value::from(s.as_str())),
                _ => Err(self.errorf(format!("expected string; found {a}"))),
            },
            Param::Any | Param::Reflect => match a {
                Arg::Bool(_, b) => Ok(Value::Bool(*b)),
                Arg::Number(n) => self.ideal_constant(n),
                Arg::String(_, _, s) => Ok(Value::from(s.as_str())),
                _ => Err(self.errorf(format!("can't handle {a} for arg of type {}", p.go_name()))),
            },
            Param::Time | Param::Named(_) => {
                Err(self.errorf(format!("can't handle {a} for arg of type {}", p.go_name())))
            }
        }
    }
}

impl Context for State<'_> {
    fn execute_template(&mut self, name: &str, data: Value) -> Result<String, String> {
        let Some(tree) = self.set.tree(name) else {
            return Err(format!(
                "template: no template {} associated with template {}",
                crate::fmt::quote(name),
                crate::fmt::quote(&self.tree.name)
            ));
        };
        if self.depth + 1 > MAX_EXEC_DEPTH {
            return Err(format!(
                "exceeded maximum template depth ({MAX_EXEC_DEPTH})"
            ));
        }
        let mut sub = State {
            set: self.set,
            tree,
            at: At::None,
            vars: vec![("$".to_string(), data.clone())],
            depth: self.depth + 1,
            out: String::new(),
        };
        sub.walk_list(&data, &tree.root).map_err(|e| e.0)?;
        Ok(sub.out)
    }
}
