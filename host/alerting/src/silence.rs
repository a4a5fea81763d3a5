//! Silences (Alertmanager 0.25 `silence/silence.go`): matchers that mute
//! the alerts they match between `starts_at` and `ends_at`.
//!
//! A silence is pending before `starts_at`, expired after `ends_at` and
//! active in between (both ends inclusive). Only active silences mute.
//! [`Silences::set`] follows Alertmanager's update rules: a silence whose
//! matchers are unchanged and whose times may still change is updated in
//! place; otherwise the old one is expired and a new one (new id) created,
//! its start moved up to now when it lies in the past. Validation refuses
//! what Alertmanager refuses, with its messages. Times are Unix
//! milliseconds; 0 stands for Go's zero time (unset).

use std::collections::BTreeMap;

use pharos_model::{Labels, MatchOp, is_valid_legacy_label_name};

use crate::matchers::{AmMatcher, Matchers};

/// Where a silence is in its life at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SilenceState {
    /// `ends_at` has passed.
    Expired,
    /// Muting now.
    Active,
    /// `starts_at` lies ahead.
    Pending,
}

impl SilenceState {
    /// The API's name: `expired`, `active`, `pending`.
    pub fn as_str(self) -> &'static str {
        match self {
            SilenceState::Expired => "expired",
            SilenceState::Active => "active",
            SilenceState::Pending => "pending",
        }
    }
}

/// Why a silence is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    #[error("ID missing")]
    IdMissing,
    #[error("at least one matcher required")]
    NoMatchers,
    #[error("invalid label matcher {index}: {message}")]
    InvalidMatcher { index: usize, message: String },
    #[error("at least one matcher must not match the empty string")]
    AllMatchEmpty,
    #[error("invalid zero start timestamp")]
    ZeroStart,
    #[error("invalid zero end timestamp")]
    ZeroEnd,
    #[error("end time must not be before start time")]
    EndBeforeStart,
    #[error("invalid zero update timestamp")]
    ZeroUpdate,
    #[error("silence not found")]
    NotFound,
    /// API v2's check before storing (`POST /api/v2/silences`).
    #[error("failed to create silence: start time must be before end time")]
    StartNotBeforeEnd,
    /// API v2's check before storing.
    #[error("failed to create silence: end time can't be in the past")]
    EndInPast,
}

/// One silence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    /// Id (a UUID in Alertmanager); empty for a new silence.
    pub id: String,
    /// All must match for the silence to apply.
    pub matchers: Matchers,
    /// Start, Unix ms.
    pub starts_at: i64,
    /// End, Unix ms.
    pub ends_at: i64,
    /// Last change, Unix ms (set when stored).
    pub updated_at: i64,
    /// Author.
    pub created_by: String,
    /// Why.
    pub comment: String,
}

impl Silence {
    /// The state at `now`.
    pub fn state(&self, now: i64) -> SilenceState {
        if now < self.starts_at {
            SilenceState::Pending
        } else if now > self.ends_at {
            SilenceState::Expired
        } else {
            SilenceState::Active
        }
    }

    /// Whether the matchers accept the label set (whatever the state).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.matchers.matches(labels)
    }

    /// Alertmanager's validation of a silence about to be stored.
    pub fn validate(&self) -> Result<(), SilenceError> {
        if self.id.is_empty() {
            return Err(SilenceError::IdMissing);
        }
        if self.matchers.is_empty() {
            return Err(SilenceError::NoMatchers);
        }
        for (index, m) in self.matchers.iter().enumerate() {
            if !is_valid_legacy_label_name(m.name()) {
                return Err(SilenceError::InvalidMatcher {
                    index,
                    message: format!("invalid label name {:?}", m.name()),
                });
            }
        }
        if self.matchers.iter().all(matches_empty) {
            return Err(SilenceError::AllMatchEmpty);
        }
        if self.starts_at == 0 {
            return Err(SilenceError::ZeroStart);
        }
        if self.ends_at == 0 {
            return Err(SilenceError::ZeroEnd);
        }
        if self.ends_at < self.starts_at {
            return Err(SilenceError::EndBeforeStart);
        }
        if self.updated_at == 0 {
            return Err(SilenceError::ZeroUpdate);
        }
        Ok(())
    }

    /// The checks `POST /api/v2/silences` makes before storing.
    pub fn validate_for_api(&self, now: i64) -> Result<(), SilenceError> {
        if self.starts_at >= self.ends_at {
            return Err(SilenceError::StartNotBeforeEnd);
        }
        if self.ends_at < now {
            return Err(SilenceError::EndInPast);
        }
        Ok(())
    }
}

/// Alertmanager's notion of a matcher that matches the empty string: only
/// `=` and `=~` count (a `!=` never does, whatever its value).
fn matches_empty(m: &AmMatcher) -> bool {
    match m.op() {
        MatchOp::Equal | MatchOp::Regex => m.matches(""),
        MatchOp::NotEqual | MatchOp::NotRegex => false,
    }
}

/// Builds a silence matcher from the API's parts, refusing a bad regex with
/// Alertmanager's message.
pub fn silence_matcher(
    index: usize,
    op: MatchOp,
    name: &str,
    value: &str,
) -> Result<AmMatcher, SilenceError> {
    AmMatcher::new(op, name, value).map_err(|e| SilenceError::InvalidMatcher {
        index,
        message: match e {
            // Alertmanager compiles a silence's pattern unanchored here, so
            // Go's fragment is cut from the pattern itself.
            crate::matchers::MatcherParseError::Regex { pattern, message } => {
                let message = crate::goregex::go_error(&pattern)
                    .map_or(message, |m| format!("error parsing regexp: {m}"));
                format!("invalid regular expression {pattern:?}: {message}")
            }
            other => other.to_string(),
        },
    })
}

/// Whether `b` may replace `a` in place at `now` without rewriting what
/// was silenced in the past.
pub fn can_update(a: &Silence, b: &Silence, now: i64) -> bool {
    if a.matchers != b.matchers {
        return false;
    }
    match a.state(now) {
        SilenceState::Active => {
            a.starts_at.div_euclid(1000) == b.starts_at.div_euclid(1000) && b.ends_at >= now
        }
        SilenceState::Pending => b.starts_at >= now,
        SilenceState::Expired => false,
    }
}

/// The silences, by id.
#[derive(Debug, Clone, Default)]
pub struct Silences {
    by_id: BTreeMap<String, Silence>,
}

impl Silences {
    /// No silences.
    pub fn new() -> Self {
        Self::default()
    }

    /// A silence by id.
    pub fn get(&self, id: &str) -> Option<&Silence> {
        self.by_id.get(id)
    }

    /// All silences, by id.
    pub fn iter(&self) -> impl Iterator<Item = &Silence> {
        self.by_id.values()
    }

    /// How many silences are in `state` at `now`.
    pub fn count(&self, state: SilenceState, now: i64) -> usize {
        self.by_id
            .values()
            .filter(|s| s.state(now) == state)
            .count()
    }

    /// Creates or updates a silence at `now`; `new_id` makes the id of a
    /// new one. Returns the id the silence is stored under.
    pub fn set(
        &mut self,
        mut sil: Silence,
        now: i64,
        new_id: impl FnOnce() -> String,
    ) -> Result<String, SilenceError> {
        let prev = if sil.id.is_empty() {
            None
        } else {
            Some(
                self.by_id
                    .get(&sil.id)
                    .cloned()
                    .ok_or(SilenceError::NotFound)?,
            )
        };
        if let Some(prev) = prev {
            if can_update(&prev, &sil, now) {
                return self.store(sil, now);
            }
            if prev.state(now) != SilenceState::Expired {
                self.expire(&prev.id, now)?;
            }
        }
        sil.id = new_id();
        if sil.starts_at < now {
            sil.starts_at = now;
        }
        self.store(sil, now)
    }

    fn store(&mut self, mut sil: Silence, now: i64) -> Result<String, SilenceError> {
        sil.updated_at = now;
        sil.validate()?;
        let id = sil.id.clone();
        tracing::debug!(silence = %id, state = sil.state(now).as_str(), "silence stored");
        self.by_id.insert(id.clone(), sil);
        Ok(id)
    }

    /// Expires a silence at `now`: an active one ends now, a pending one
    /// starts and ends now; an expired one is left as it is.
    pub fn expire(&mut self, id: &str, now: i64) -> Result<(), SilenceError> {
        let sil = self.by_id.get_mut(id).ok_or(SilenceError::NotFound)?;
        match sil.state(now) {
            SilenceState::Expired => return Ok(()),
            SilenceState::Active => sil.ends_at = now,
            SilenceState::Pending => {
                sil.starts_at = now;
                sil.ends_at = now;
            }
        }
        sil.updated_at = now;
        Ok(())
    }

    /// Ids of the active silences that mute `labels` at `now`.
    pub fn mutes(&self, labels: &Labels, now: i64) -> Vec<&str> {
        self.by_id
            .values()
            .filter(|s| s.state(now) == SilenceState::Active && s.matches(labels))
            .map(|s| s.id.as_str())
            .collect()
    }

    /// Drops silences that expired more than `retention_ms` before `now`;
    /// returns how many.
    pub fn gc(&mut self, now: i64, retention_ms: i64) -> usize {
        let before = self.by_id.len();
        self.by_id
            .retain(|_, s| s.ends_at.saturating_add(retention_ms) > now);
        before - self.by_id.len()
    }

    /// Inserts a silence as it is (restoring a snapshot), after validation.
    pub fn restore(&mut self, sil: Silence) -> Result<(), SilenceError> {
        sil.validate()?;
        self.by_id.insert(sil.id.clone(), sil);
        Ok(())
    }
}
