//! Releases and the edges between them.

use serde::{Deserialize, Serialize};

/// Index of a release in its catalog; releases are numbered in upgrade order, so comparing
/// ids compares releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ReleaseId(pub(crate) u32);

impl ReleaseId {
    /// The position of the release in the catalog's upgrade order, from 0.
    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// Whether the release lies within a lifetime of `since` and `until` (either open):
    /// the one test behind every `exists_at` (services, components, databases,
    /// extensions).
    pub(crate) fn within(self, since: Option<ReleaseId>, until: Option<ReleaseId>) -> bool {
        since.is_none_or(|since| since <= self) && until.is_none_or(|until| self <= until)
    }
}

/// One release of the cloud, such as `newton` or `2023.1`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Release {
    /// Canonical name.
    pub name: String,
    /// Other names accepted wherever a release name is (`antelope` for `2023.1`).
    pub aliases: Vec<String>,
    /// Release date as `YYYY-MM-DD`, when known.
    pub date: Option<String>,
    /// Whether this is a SLURP release (may be upgraded to the next SLURP release directly).
    pub slurp: bool,
}

/// Which skip-level edges a catalog declares implicitly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SkipLevel {
    /// Only `N -> N+1` and declared edges.
    #[default]
    None,
    /// Also an edge between every two consecutive SLURP releases.
    Slurp,
}

/// An allowed upgrade edge that skips releases (beyond `N -> N+1`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkipEdge {
    /// Release upgraded from.
    pub from: ReleaseId,
    /// Release upgraded to.
    pub to: ReleaseId,
    /// Why the edge exists, such as `SLURP`.
    pub reason: String,
}
