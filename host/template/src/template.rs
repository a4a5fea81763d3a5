//! [`Template`]: a set of named templates sharing functions and options,
//! like a Go `*template.Template` and its associated templates.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ast::Tree;
use crate::error::Error;
use crate::funcs::FuncMap;
use crate::value::Value;

/// What a missing map key yields (Go's `missingkey=` option).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissingKey {
    /// The invalid value, printed `<no value>` (Go's default).
    #[default]
    Default,
    /// The zero value of the map's element type.
    Zero,
    /// An execution error.
    Error,
}

/// A named template plus every template defined alongside it.
#[derive(Debug, Clone)]
pub struct Template {
    name: String,
    trees: BTreeMap<String, Arc<Tree>>,
    funcs: FuncMap,
    missing_key: MissingKey,
}

impl Template {
    /// An empty template set whose main template is `name`, with Go's
    /// built-in functions only.
    pub fn new(name: impl Into<String>) -> Self {
        Template {
            name: name.into(),
            trees: BTreeMap::new(),
            funcs: FuncMap::new(),
            missing_key: MissingKey::Default,
        }
    }

    /// Adds functions (they must be added before parsing text using them).
    pub fn funcs(mut self, funcs: FuncMap) -> Self {
        self.funcs.extend(funcs);
        self
    }

    /// Sets the `missingkey` option.
    pub fn missing_key(mut self, mk: MissingKey) -> Self {
        self.missing_key = mk;
        self
    }

    /// The main template's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Parses `text` as the body of the main template (its `define`s join
    /// the set).
    pub fn parse(&mut self, text: &str) -> Result<&mut Self, Error> {
        let name = self.name.clone();
        self.parse_named(&name, text)
    }

    /// Parses `text` as the body of template `name` of this set, as Go's
    /// `t.New(name).Parse(text)`. A later non-empty definition of a name
    /// replaces an earlier one.
    pub fn parse_named(&mut self, name: &str, text: &str) -> Result<&mut Self, Error> {
        let funcs = &self.funcs;
        let has = |n: &str| funcs.contains(n) || crate::funcs::go::builtins().contains(n);
        let trees = crate::parser::parse(name, text, &has).map_err(|e| Error::Parse(e.0))?;
        for (n, t) in trees {
            let keep_old = t.is_empty() && self.trees.contains_key(&n);
            if !keep_old {
                self.trees.insert(n, Arc::new(t));
            }
        }
        Ok(self)
    }

    /// Whether a template called `name` is defined.
    pub fn lookup(&self, name: &str) -> bool {
        self.trees.contains_key(name)
    }

    /// The names of all templates in the set.
    pub fn template_names(&self) -> impl Iterator<Item = &str> {
        self.trees.keys().map(String::as_str)
    }

    /// Runs the main template on `data`.
    pub fn execute(&self, data: &Value) -> Result<String, Error> {
        match self.trees.get(&self.name) {
            Some(t) => crate::exec::execute(self, t, data).map_err(|e| Error::Exec(e.0)),
            None => Err(Error::Exec(format!(
                "template: {}: {} is an incomplete or empty template",
                self.name,
                crate::fmt::quote(&self.name)
            ))),
        }
    }

    /// Runs the template `name` of the set on `data` (Go's
    /// `ExecuteTemplate`).
    pub fn execute_template(&self, name: &str, data: &Value) -> Result<String, Error> {
        match self.trees.get(name) {
            Some(t) => crate::exec::execute(self, t, data).map_err(|e| Error::Exec(e.0)),
            None => Err(Error::Exec(format!(
                "template: no template {} associated with template {}",
                crate::fmt::quote(name),
                crate::fmt::quote(&self.name)
            ))),
        }
    }

    pub(crate) fn tree(&self, name: &str) -> Option<&Tree> {
        self.trees.get(name).map(|t| t.as_ref())
    }

    pub(crate) fn funcs_map(&self) -> &FuncMap {
        &self.funcs
    }

    pub(crate) fn missing_key_option(&self) -> MissingKey {
        self.missing_key
    }
}
