//! The relabel actions, named and parsed as Prometheus does: names are
//! case-insensitive (`Keep` is `keep`), and an unknown name is refused with
//! Prometheus' text `unknown relabel action "foo"`.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};

/// What one relabel step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Action {
    /// Matches `regex` against the joined source values and, on a match,
    /// writes the expanded `replacement` into the expanded `target_label`.
    #[default]
    Replace,
    /// Drops the label set unless the joined source values match `regex`.
    Keep,
    /// Drops the label set when the joined source values match `regex`.
    Drop,
    /// Drops the label set unless the joined source values equal the value
    /// of `target_label`.
    KeepEqual,
    /// Drops the label set when the joined source values equal the value of
    /// `target_label`.
    DropEqual,
    /// Sets `target_label` to the md5 of the joined source values modulo
    /// `modulus`.
    HashMod,
    /// Copies every label whose name matches `regex` to the name given by
    /// the expanded `replacement`.
    LabelMap,
    /// Removes every label whose name matches `regex`.
    LabelDrop,
    /// Removes every label whose name does not match `regex`.
    LabelKeep,
    /// Sets `target_label` to the lower-cased joined source values.
    Lowercase,
    /// Sets `target_label` to the upper-cased joined source values.
    Uppercase,
}

impl Action {
    /// Every action, in Prometheus' documentation order.
    pub const ALL: [Action; 11] = [
        Action::Replace,
        Action::Lowercase,
        Action::Uppercase,
        Action::Keep,
        Action::Drop,
        Action::KeepEqual,
        Action::DropEqual,
        Action::HashMod,
        Action::LabelMap,
        Action::LabelDrop,
        Action::LabelKeep,
    ];

    /// The name as written in a config file.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Replace => "replace",
            Action::Keep => "keep",
            Action::Drop => "drop",
            Action::KeepEqual => "keepequal",
            Action::DropEqual => "dropequal",
            Action::HashMod => "hashmod",
            Action::LabelMap => "labelmap",
            Action::LabelDrop => "labeldrop",
            Action::LabelKeep => "labelkeep",
            Action::Lowercase => "lowercase",
            Action::Uppercase => "uppercase",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An action name that is not one of [`Action::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown relabel action {0:?}")]
pub struct UnknownAction(pub String);

impl FromStr for Action {
    type Err = UnknownAction;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Action::ALL
            .into_iter()
            .find(|a| a.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownAction(s.to_owned()))
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(de::Error::custom)
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_ignore_case() {
        for a in Action::ALL {
            assert_eq!(a.as_str().parse::<Action>(), Ok(a));
            assert_eq!(a.as_str().to_uppercase().parse::<Action>(), Ok(a));
        }
        assert_eq!("KeepEqual".parse::<Action>(), Ok(Action::KeepEqual));
    }

    #[test]
    fn unknown_names_use_prometheus_text() {
        let err = "foo".parse::<Action>().unwrap_err();
        assert_eq!(err.to_string(), r#"unknown relabel action "foo""#);
        let err = "".parse::<Action>().unwrap_err();
        assert_eq!(err.to_string(), r#"unknown relabel action """#);
    }
}
