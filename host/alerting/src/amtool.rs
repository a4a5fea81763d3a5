//! The route tree as amtool 0.25 prints it, for `pharos check routes`:
//!
//! - [`routes_show`]: `amtool config routes show` — every route, its
//!   matchers (`default-route` when it has none), `continue: true` and its
//!   receiver (inherited ones too);
//! - [`routes_test`]: `amtool config routes test [--tree] LABELS…` — the
//!   receivers a label set reaches, comma-separated, in tree order
//!   (repeats kept); with the tree, first the routes on the way to each
//!   match, a receiver on the matched ones only.
//!
//! The texts are byte for byte amtool's (the system tests compare them),
//! down to the two no-break spaces amtool draws after a `│`;
//! amtool's warning on stderr about `--config.file` is not repeated.

use std::fmt::Write as _;

use pharos_model::Labels;

use crate::route::{Route, RouteId, RouteTree};

/// A route's label in the tree: its sorted matchers, or `default-route`.
fn label(r: &Route) -> String {
    if r.matchers.is_empty() {
        "default-route".to_owned()
    } else {
        r.matchers.to_string()
    }
}

/// Writes `id` and, below it, the children `keep` accepts; `prefix` is what
/// precedes the branch characters of this line.
fn branch(
    out: &mut String,
    tree: &RouteTree,
    id: RouteId,
    prefix: &str,
    last: bool,
    text: &dyn Fn(RouteId, &Route) -> String,
    keep: &dyn Fn(RouteId) -> bool,
) {
    let Some(r) = tree.get(id) else {
        return;
    };
    let _ = writeln!(
        out,
        "{prefix}{}{}",
        if last { "└── " } else { "├── " },
        text(id, r)
    );
    // amtool's continuation line: two no-break spaces after the bar.
    let inner = format!("{prefix}{}", if last { "    " } else { "│\u{a0}\u{a0} " });
    let kids: Vec<RouteId> = r.children.iter().copied().filter(|c| keep(*c)).collect();
    for (i, c) in kids.iter().enumerate() {
        branch(out, tree, *c, &inner, i + 1 == kids.len(), text, keep);
    }
}

/// `amtool config routes show`.
pub fn routes_show(tree: &RouteTree) -> String {
    let mut out = String::from("Routing tree:\n.\n");
    let text = |_: RouteId, r: &Route| {
        let mut s = label(r);
        if r.continue_matching {
            s.push_str("  continue: true");
        }
        let _ = write!(s, "  receiver: {}", r.opts.receiver);
        s
    };
    branch(&mut out, tree, 0, "", true, &text, &|_| true);
    out.push('\n');
    out
}

/// `amtool config routes test [--tree]` for a label set.
pub fn routes_test(tree: &RouteTree, labels: &Labels, with_tree: bool) -> String {
    let matched = tree.match_labels(labels);
    let mut out = String::new();
    if with_tree {
        // A route is drawn when it is a match or an ancestor of one.
        let mut on_path = vec![false; tree.walk().count()];
        for &m in &matched {
            let mut cur = Some(m);
            while let Some(id) = cur {
                if let Some(slot) = on_path.get_mut(id) {
                    *slot = true;
                }
                cur = tree.get(id).and_then(|r| r.parent);
            }
        }
        out.push_str("Matching routes:\n.\n");
        let text = |id: RouteId, r: &Route| {
            let mut s = label(r);
            if matched.contains(&id) {
                let _ = write!(s, "  receiver: {}", r.opts.receiver);
            }
            s
        };
        let keep = |id: RouteId| on_path.get(id).copied().unwrap_or(false);
        branch(&mut out, tree, 0, "", true, &text, &keep);
        out.push_str("\n\n");
    }
    let receivers: Vec<String> = matched
        .iter()
        .filter_map(|id| tree.get(*id).map(|r| r.opts.receiver.clone()))
        .collect();
    out.push_str(&receivers.join(","));
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AlertingConfig;
    use crate::route::parse_label_args;

    /// The tree of amtool's examples (checked against amtool 0.25).
    const CONFIG: &str = r#"
[route]
receiver = "root"

[[route.routes]]
matchers = ['a="1"']
continue = true

[[route.routes.routes]]
matchers = ['b="2"']
receiver = "r2"
continue = true

[[route.routes.routes]]
matchers = ['c="3"', 'z!~"x\\d+"']
receiver = "r3"

[[route.routes]]
matchers = ['a=~"1|2"', 'q="with \"quote\" and \\ back"']
receiver = "r4"

[[route.routes]]
receiver = "r5"
matchers = ['{a="1",b!="x"}']

[[route.routes.routes]]
receiver = "r6"

[[receivers]]
name = "root"
[[receivers]]
name = "r2"
[[receivers]]
name = "r3"
[[receivers]]
name = "r4"
[[receivers]]
name = "r5"
[[receivers]]
name = "r6"
"#;

    fn tree() -> RouteTree {
        let cfg = AlertingConfig::from_toml_str(CONFIG).expect("valid");
        RouteTree::from_config(&cfg).expect("tree")
    }

    #[test]
    fn show_as_amtool() {
        assert_eq!(
            routes_show(&tree()),
            r#"Routing tree:
.
└── default-route  receiver: root
    ├── {a="1"}  continue: true  receiver: root
    │__├── {b="2"}  continue: true  receiver: r2
    │__└── {c="3",z!~"x\\d+"}  receiver: r3
    ├── {a=~"1|2",q="with \"quote\" and \\ back"}  receiver: r4
    └── {a="1",b!="x"}  receiver: r5
        └── default-route  receiver: r6

"#
            .replace("__", "\u{a0}\u{a0} ")
        );
    }

    #[test]
    fn test_as_amtool() {
        let t = tree();
        let labels = parse_label_args(&["a=1", "b=2", "c=3"]).expect("labels");
        assert_eq!(
            routes_test(&t, &labels, true),
            r#"Matching routes:
.
└── default-route
    ├── {a="1"}
    │__├── {b="2"}  receiver: r2
    │__└── {c="3",z!~"x\\d+"}  receiver: r3
    └── {a="1",b!="x"}
        └── default-route  receiver: r6


r2,r3,r6
"#
            .replace("__", "\u{a0}\u{a0} ")
        );
        assert_eq!(routes_test(&t, &labels, false), "r2,r3,r6\n");
        let none = parse_label_args::<&str>(&[]).expect("labels");
        assert_eq!(
            routes_test(&t, &none, true),
            "Matching routes:\n.\n└── default-route  receiver: root\n\n\nroot\n"
        );
    }
}
