//! The route tree (Alertmanager 0.25 `dispatch/route.go`): which routes an
//! alert's labels reach, and the options each route applies.
//!
//! Matching is depth first, left to right: a route matches when its
//! matchers do; then its children are tried in order, and the first child
//! that matches ends the search on that level unless it has `continue`.
//! When no child matches, the route itself is the result. Receiver,
//! `group_by` and the three timers are inherited from the parent when a
//! route leaves them out; `mute_time_intervals` and
//! `active_time_intervals` are not inherited (as in 0.25).
//!
//! Each route has Alertmanager's key (`{}/{owner="team-A"}/{env="prod"}`:
//! the sorted matchers of every route from the root) and its id (the key
//! with the child index after each level, `{}/{owner="team-A"}/0`, unique
//! where keys can repeat). Group keys are `<route key>:<group labels>`.

use std::collections::BTreeSet;
use std::time::Duration;

use pharos_model::Labels;

use crate::config::{AlertingConfig, ConfigError, RouteConfig, flatten};
use crate::located::Located;
use crate::matchers::{MatcherParseError, Matchers, parse_matcher};

/// Index of a route in its [`RouteTree`]; the root is 0, the order is the
/// tree's depth-first walk.
pub type RouteId = usize;

/// What applies to the alerts a route takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteOpts {
    /// Receiver name.
    pub receiver: String,
    /// Labels to group by.
    pub group_by: BTreeSet<String>,
    /// Group by all labels (`...`).
    pub group_by_all: bool,
    /// Wait before a new group's first notification.
    pub group_wait: Duration,
    /// Wait between notifications of a changed group.
    pub group_interval: Duration,
    /// Wait before an unchanged notification is repeated.
    pub repeat_interval: Duration,
    /// Time intervals that mute notifications.
    pub mute_time_intervals: Vec<String>,
    /// Time intervals outside which notifications are muted.
    pub active_time_intervals: Vec<String>,
}

impl Default for RouteOpts {
    /// Alertmanager's defaults for the root: 30s, 5m, 4h, no grouping.
    fn default() -> Self {
        RouteOpts {
            receiver: String::new(),
            group_by: BTreeSet::new(),
            group_by_all: false,
            group_wait: Duration::from_secs(30),
            group_interval: Duration::from_secs(300),
            repeat_interval: Duration::from_secs(4 * 3600),
            mute_time_intervals: Vec::new(),
            active_time_intervals: Vec::new(),
        }
    }
}

/// One node of the tree.
#[derive(Debug, Clone)]
pub struct Route {
    /// The parent, `None` for the root.
    pub parent: Option<RouteId>,
    /// Children in config order.
    pub children: Vec<RouteId>,
    /// Options, inheritance applied.
    pub opts: RouteOpts,
    /// Matchers, sorted as Alertmanager sorts them.
    pub matchers: Matchers,
    /// Whether matching continues with the next sibling.
    pub continue_matching: bool,
    /// Alertmanager's route key.
    pub key: String,
    /// The key with child indexes: unique in the tree.
    pub id: String,
}

/// The route tree.
#[derive(Debug, Clone)]
pub struct RouteTree {
    routes: Vec<Route>,
}

impl RouteTree {
    /// Builds the tree of a validated config.
    pub fn from_config(cfg: &AlertingConfig) -> Result<Self, ConfigError> {
        let root = cfg.route.as_ref().ok_or_else(|| ConfigError {
            key: "route".into(),
            span: None,
            message: "no routes provided".into(),
        })?;
        Ok(Self::new(root))
    }

    /// Builds the tree from a root route, with Alertmanager's defaults for
    /// what the root leaves out.
    pub fn new(root: &RouteConfig) -> Self {
        let mut tree = RouteTree { routes: Vec::new() };
        tree.add(root, None, 0);
        tree
    }

    fn add(&mut self, cfg: &RouteConfig, parent: Option<RouteId>, index: usize) -> RouteId {
        let mut opts = parent
            .and_then(|p| self.routes.get(p))
            .map_or_else(RouteOpts::default, |p| p.opts.clone());
        if let Some(r) = cfg.receiver.as_ref().filter(|r| !r.is_empty()) {
            opts.receiver = r.value.clone();
        }
        if let Some(group_by) = &cfg.group_by {
            opts.group_by_all = group_by.iter().any(|l| l.as_str() == "...");
            opts.group_by = group_by
                .iter()
                .filter(|l| l.as_str() != "...")
                .map(|l| l.value.clone())
                .collect();
        }
        let dur = |d: &Option<Located<pharos_model::PromDuration>>, dflt: Duration| {
            d.as_ref().map_or(dflt, |d| d.get())
        };
        opts.group_wait = dur(&cfg.group_wait, opts.group_wait);
        opts.group_interval = dur(&cfg.group_interval, opts.group_interval);
        opts.repeat_interval = dur(&cfg.repeat_interval, opts.repeat_interval);
        opts.mute_time_intervals = cfg
            .mute_time_intervals
            .iter()
            .map(|s| s.value.clone())
            .collect();
        opts.active_time_intervals = cfg
            .active_time_intervals
            .iter()
            .map(|s| s.value.clone())
            .collect();
        let mut matchers = Matchers(flatten(&cfg.matchers));
        matchers.sort();
        let (key, id) = match parent.and_then(|p| self.routes.get(p)) {
            Some(p) => (
                format!("{}/{matchers}", p.key),
                format!("{}/{matchers}/{index}", p.id),
            ),
            None => (matchers.to_string(), matchers.to_string()),
        };
        let id_self = self.routes.len();
        self.routes.push(Route {
            parent,
            children: Vec::new(),
            opts,
            matchers,
            continue_matching: cfg.continue_matching,
            key,
            id,
        });
        for (i, child) in cfg.routes.iter().enumerate() {
            let c = self.add(child, Some(id_self), i);
            if let Some(me) = self.routes.get_mut(id_self) {
                me.children.push(c);
            }
        }
        id_self
    }

    /// The root route.
    pub fn root(&self) -> &Route {
        // `new` always pushes the root first.
        &self.routes[0]
    }

    /// A route by id.
    pub fn get(&self, id: RouteId) -> Option<&Route> {
        self.routes.get(id)
    }

    /// All routes in depth-first order (Alertmanager's `Walk`).
    pub fn walk(&self) -> impl Iterator<Item = (RouteId, &Route)> {
        self.routes.iter().enumerate()
    }

    /// The routes an alert with these labels goes to, in order.
    pub fn match_labels(&self, labels: &Labels) -> Vec<RouteId> {
        let mut out = Vec::new();
        self.match_from(0, labels, &mut out);
        out
    }

    /// Returns whether `id` matched; appends its results.
    fn match_from(&self, id: RouteId, labels: &Labels, out: &mut Vec<RouteId>) -> bool {
        let Some(route) = self.routes.get(id) else {
            return false;
        };
        if !route.matchers.matches(labels) {
            return false;
        }
        let before = out.len();
        for &child in &route.children {
            let matched = self.match_from(child, labels, out);
            let cont = self.routes.get(child).is_some_and(|c| c.continue_matching);
            if matched && !cont {
                break;
            }
        }
        if out.len() == before {
            out.push(id);
        }
        true
    }

    /// The receivers a label set reaches, in tree order, as `amtool config
    /// routes test` prints them (joined by commas there).
    pub fn receivers_for(&self, labels: &Labels) -> Vec<String> {
        self.match_labels(labels)
            .into_iter()
            .filter_map(|id| self.routes.get(id).map(|r| r.opts.receiver.clone()))
            .collect()
    }

    /// The group labels of an alert on a route: the `group_by` labels it
    /// has, or all of them for `...`.
    pub fn group_labels(&self, id: RouteId, labels: &Labels) -> Labels {
        let Some(route) = self.routes.get(id) else {
            return Labels::empty();
        };
        let mut b = labels.to_builder();
        b.retain(|l| route.opts.group_by_all || route.opts.group_by.contains(&l.name));
        b.build()
    }
}

/// A label argument of `amtool config routes test` / `pharos check
/// routes` that is not `name=value`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelArgError {
    /// Not a matcher at all.
    #[error(transparent)]
    Parse(#[from] MatcherParseError),
    /// A matcher, but not `=`.
    #[error("labels must be specified as key=value pairs")]
    NotEqual,
}

/// Parses label arguments as amtool does (`severity=page`,
/// `service="pay ments"`): each is a matcher that must use `=`; a later
/// one replaces an earlier one of the same name.
pub fn parse_label_args<S: AsRef<str>>(args: &[S]) -> Result<Labels, LabelArgError> {
    let mut pairs = Vec::with_capacity(args.len());
    for a in args {
        let m = parse_matcher(a.as_ref())?;
        if m.op() != pharos_model::MatchOp::Equal {
            return Err(LabelArgError::NotEqual);
        }
        pairs.push((m.name().to_owned(), m.value().to_owned()));
    }
    Ok(Labels::from_pairs(pairs))
}

/// Alertmanager's group key: `<route key>:<group labels>` with the labels
/// printed as Go prints a label set (`{a="b", c="d"}`, sorted).
pub fn group_key(route_key: &str, group_labels: &Labels) -> String {
    format!("{route_key}:{}", label_set_string(group_labels))
}

/// A label set as Prometheus' `model.LabelSet.String()` prints it:
/// `{a="b", c="d"}`, sorted by name, values quoted as Go's `%q`.
pub fn label_set_string(labels: &Labels) -> String {
    let parts: Vec<String> = labels
        .iter()
        .map(|l| format!("{}={}", l.name, go_quote(&l.value)))
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Go's `strconv.Quote` for the printable text that label values are.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
