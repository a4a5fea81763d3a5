//! No input may panic or overflow the stack: deep nesting fails with an
//! error, recursion stops at the depth limit, and mangled templates from
//! the recorded cases only ever produce `Ok` or `Err`.
#![allow(clippy::unwrap_used)]

use pharos_template::funcs::prometheus;
use pharos_template::{Error, Template, Value};

/// Runs `f` on a thread with a 2 MiB stack (the default for spawned
/// threads, and what tokio gives its workers).
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn run(text: &str) -> Result<String, Error> {
    let mut t = Template::new("t").funcs(prometheus::funcs(Default::default()));
    t.parse(text)?;
    t.execute(&Value::string_map([("a", "b")]))
}

#[test]
fn deep_nesting_is_an_error() {
    on_small_stack(|| {
        let parens = format!("{{{{{}1{}}}}}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(matches!(run(&parens), Err(Error::Parse(_))));
        let ifs = "{{if 1}}".repeat(100_000);
        assert!(matches!(run(&ifs), Err(Error::Parse(_))));
        let ranges = "{{range .}}".repeat(100_000);
        assert!(matches!(run(&ranges), Err(Error::Parse(_))));
    });
}

#[test]
fn nesting_within_limit_runs() {
    on_small_stack(|| {
        let n = pharos_template::MAX_NESTING - 1;
        let text = format!("{}x{}", "{{if 1}}".repeat(n), "{{end}}".repeat(n));
        assert_eq!(run(&text).as_deref(), Ok("x"));
        let parens = format!("{{{{{}1{}}}}}", "(".repeat(n), ")".repeat(n));
        assert_eq!(run(&parens).as_deref(), Ok("1"));
    });
}

#[test]
fn recursion_stops_at_the_limit() {
    on_small_stack(|| {
        let err = run(r#"{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}"#).unwrap_err();
        assert!(
            err.to_string().contains("exceeded maximum template depth"),
            "{err}"
        );
        // Worst case: every level nests as deep as the parser allows.
        let n = pharos_template::MAX_NESTING - 4;
        let text = format!(
            r#"{{{{define "r"}}}}{}{{{{template "r" (((.)))}}}}{}{{{{end}}}}{{{{template "r" .}}}}"#,
            "{{with 1}}".repeat(n),
            "{{end}}".repeat(n)
        );
        let err = run(&text).unwrap_err();
        assert!(
            err.to_string().contains("exceeded maximum template depth"),
            "{err}"
        );
    });
}

#[test]
fn mangled_templates_never_panic() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/prometheus.cases"
    ))
    .expect("cases");
    let templates: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("template: "))
        .map(str::to_string)
        .collect();
    let alphabet: Vec<char> = "{}()|$.\"'`-+ 0123456789abcxyz:=,\\\n/*é".chars().collect();
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rand = move |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    on_small_stack(move || {
        for round in 0..4000 {
            let mut chars: Vec<char> = templates[round % templates.len()].chars().collect();
            for _ in 0..1 + rand(4) {
                let pos = rand(chars.len() + 1);
                match rand(3) {
                    0 if pos < chars.len() => {
                        chars.remove(pos);
                    }
                    1 if pos < chars.len() => chars[pos] = alphabet[rand(alphabet.len())],
                    _ => chars.insert(pos, alphabet[rand(alphabet.len())]),
                }
            }
            let t: String = chars.into_iter().collect();
            let data = pharos_template::rules::RuleTemplateData {
                labels: [("instance".to_string(), "h:1".to_string())].into(),
                value: 1.5,
                ..Default::default()
            };
            let _ =
                pharos_template::rules::expand_rule_template("x", &t, &data, Default::default());
        }
    });
}
