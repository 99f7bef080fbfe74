//! The host classes of Paper B's ground truth, as a type.
//!
//! Paper B labels darknet senders with 14 classes (Table 2) plus `unknown`. Ground-truth files
//! (`ip,class`) spell them as the reference code does (`mirai`, `unk_bruteforcer`, ...);
//! [`PaperBClass::parse`] reads those spellings, and any other class a user brings is kept as
//! [`PaperBClass::Other`] rather than refused. [`Display`](std::fmt::Display) writes the
//! reference code's spelling back, so files written from these values read the same as the
//! reference code's.
//!
//! ```
//! use darknet_core::class::PaperBClass;
//! assert_eq!(PaperBClass::parse("unk_bruteforcer"), PaperBClass::UnkBruteforcer);
//! assert_eq!(PaperBClass::UnkBruteforcer.to_string(), "unk_bruteforcer");
//! assert_eq!(PaperBClass::parse("my_honeypot_bots"), PaperBClass::Other("my_honeypot_bots".into()));
//! assert!(PaperBClass::parse("unknown").is_unknown());
//! assert_eq!(PaperBClass::PAPER.len(), 14);
//! ```

use std::fmt;
use std::str::FromStr;

/// A Paper B host class: one of the 14 classes of Paper B's Table 2, `unknown`, or a class of
/// the user's own ground truth. Ordered as Table 2, then `unknown`, then the user's classes by
/// name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PaperBClass {
    /// Mirai-like spreaders (`mirai`).
    Mirai,
    /// Unattributed brute-forcers (`unk_bruteforcer`).
    UnkBruteforcer,
    /// Unattributed spammers (`unk_spammer`).
    UnkSpammer,
    /// The Shadowserver Foundation's scanners (`shadowserver`).
    Shadowserver,
    /// Driftnet's scanners (`driftnet`).
    Driftnet,
    /// The Internet Census project's scanners (`internetcensus`).
    InternetCensus,
    /// Censys's scanners (`censys`).
    Censys,
    /// Rapid7's scanners (`rapid7`).
    Rapid7,
    /// Onyphe's scanners (`onyphe`).
    Onyphe,
    /// Net Systems Research's scanners (`netsystems`).
    Netsystems,
    /// Shodan's scanners (`shodan`).
    Shodan,
    /// Unattributed exploiters (`unk_exploiter`).
    UnkExploiter,
    /// SecurityTrails's scanners (`securitytrails`).
    SecurityTrails,
    /// Intrinsec's scanners (`intrinsec`).
    Intrinsec,
    /// No known class (`unknown`): a neighbour in Paper B's kNN, never scored.
    Unknown,
    /// A class outside Paper B's, as spelled in the ground truth.
    Other(String),
}

impl PaperBClass {
    /// The 14 classes of Paper B's Table 2, in the table's order (by support).
    pub const PAPER: [PaperBClass; 14] = [
        PaperBClass::Mirai,
        PaperBClass::UnkBruteforcer,
        PaperBClass::UnkSpammer,
        PaperBClass::Shadowserver,
        PaperBClass::Driftnet,
        PaperBClass::InternetCensus,
        PaperBClass::Censys,
        PaperBClass::Rapid7,
        PaperBClass::Onyphe,
        PaperBClass::Netsystems,
        PaperBClass::Shodan,
        PaperBClass::UnkExploiter,
        PaperBClass::SecurityTrails,
        PaperBClass::Intrinsec,
    ];

    /// The spelling of `unknown`.
    pub const UNKNOWN_NAME: &'static str = "unknown";

    /// The reference code's spelling (`mirai`, `unk_bruteforcer`, ..., `unknown`), or the
    /// user's own for [`PaperBClass::Other`].
    pub fn name(&self) -> &str {
        match self {
            PaperBClass::Mirai => "mirai",
            PaperBClass::UnkBruteforcer => "unk_bruteforcer",
            PaperBClass::UnkSpammer => "unk_spammer",
            PaperBClass::Shadowserver => "shadowserver",
            PaperBClass::Driftnet => "driftnet",
            PaperBClass::InternetCensus => "internetcensus",
            PaperBClass::Censys => "censys",
            PaperBClass::Rapid7 => "rapid7",
            PaperBClass::Onyphe => "onyphe",
            PaperBClass::Netsystems => "netsystems",
            PaperBClass::Shodan => "shodan",
            PaperBClass::UnkExploiter => "unk_exploiter",
            PaperBClass::SecurityTrails => "securitytrails",
            PaperBClass::Intrinsec => "intrinsec",
            PaperBClass::Unknown => Self::UNKNOWN_NAME,
            PaperBClass::Other(s) => s,
        }
    }

    /// Reads a ground-truth spelling: the reference code's names exactly (surrounding spaces
    /// ignored); anything else is the user's own class, kept as written (trimmed). An empty
    /// string is [`PaperBClass::Unknown`].
    pub fn parse(s: &str) -> Self {
        let s = s.trim();
        if s.is_empty() || s == Self::UNKNOWN_NAME {
            return PaperBClass::Unknown;
        }
        Self::PAPER
            .into_iter()
            .find(|c| c.name() == s)
            .unwrap_or_else(|| PaperBClass::Other(s.to_string()))
    }

    /// `true` for [`PaperBClass::Unknown`].
    pub fn is_unknown(&self) -> bool {
        *self == PaperBClass::Unknown
    }

    /// `true` for the 14 classes of Paper B (not `unknown`, not a user's own class).
    pub fn is_paper_class(&self) -> bool {
        !matches!(self, PaperBClass::Unknown | PaperBClass::Other(_))
    }
}

impl fmt::Display for PaperBClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PaperBClass {
    type Err = std::convert::Infallible;

    /// As [`PaperBClass::parse`]: never fails.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(PaperBClass::parse(s))
    }
}

impl serde::Serialize for PaperBClass {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for PaperBClass {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(PaperBClass::parse(&s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_round_trips() {
        for c in PaperBClass::PAPER {
            assert_eq!(PaperBClass::parse(&c.to_string()), c);
            assert!(c.is_paper_class());
        }
        assert_eq!(PaperBClass::parse(" unknown "), PaperBClass::Unknown);
        assert_eq!(PaperBClass::parse(""), PaperBClass::Unknown);
        let own = PaperBClass::parse("Mirai");
        assert_eq!(
            own,
            PaperBClass::Other("Mirai".into()),
            "spellings are exact"
        );
        assert_eq!(own.to_string(), "Mirai");
        assert!(!own.is_paper_class() && !own.is_unknown());
    }

    #[test]
    fn matches_the_synthetic_generator_names() {
        let names: Vec<String> = PaperBClass::PAPER.iter().map(|c| c.to_string()).collect();
        assert_eq!(names, crate::synth::PAPER_B_CLASSES_NAMES[..14]);
        assert_eq!(
            crate::synth::PAPER_B_CLASSES_NAMES[14],
            PaperBClass::UNKNOWN_NAME
        );
    }
}
