//! Meta's cursor paging, shared by the list endpoints (message templates, the block list):
//! `limit` (1 to 1000, 25 when absent), opaque `after`/`before` cursors, and an answer's
//! `paging.cursors` with `next`/`previous` links while there is more.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{json, Value};

use crate::error::GraphError;

/// What one listing calls its cursors (`tpl`, `blk`): a cursor of one list is refused by another.
#[derive(Clone, Copy)]
pub struct Cursors(pub &'static str);

/// The `[start, end)` slice of a list one request asks for.
#[derive(Debug, PartialEq)]
pub struct Page {
    pub start: usize,
    pub end: usize,
    pub limit: usize,
}

impl Cursors {
    /// The opaque cursor of the item at `index` (base64, like Meta's).
    pub fn cursor(self, index: usize) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}:{index}", self.0))
    }

    fn parse(self, c: &str) -> Option<usize> {
        let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(c)
            .ok()?;
        String::from_utf8(raw)
            .ok()?
            .strip_prefix(self.0)?
            .strip_prefix(':')?
            .parse()
            .ok()
    }

    /// The page of a `len`-item list that `q`'s `limit` and `after`/`before` ask for.
    pub fn page(self, q: &HashMap<String, String>, len: usize) -> Result<Page, GraphError> {
        let limit = match q.get("limit") {
            None => 25,
            Some(l) => l
                .parse()
                .ok()
                .filter(|n| (1..=1000).contains(n))
                .ok_or_else(|| {
                    GraphError::invalid_parameter(format!(
                        "limit must be a number from 1 to 1000, got {l:?}"
                    ))
                })?,
        };
        let read = |c: &String| {
            self.parse(c).ok_or_else(|| {
                GraphError::invalid_parameter(format!("cursor {c:?} is not one this API gave out"))
            })
        };
        let (start, end) = match (q.get("after"), q.get("before")) {
            (Some(a), _) => {
                let i = read(a)?.saturating_add(1);
                (i, i.saturating_add(limit))
            }
            (None, Some(b)) => {
                let i = read(b)?.min(len);
                (i.saturating_sub(limit), i)
            }
            (None, None) => (0, limit),
        };
        let start = start.min(len);
        Ok(Page {
            start,
            end: end.min(len).max(start),
            limit,
        })
    }

    /// `paging` of a non-empty page: its cursors, and links to the pages beside it that exist.
    /// `base` is the listing's URL; `extra` (`&name=value…`) keeps the request's filters.
    pub fn paging(self, page: &Page, len: usize, base: &str, extra: &str) -> Value {
        let Page { start, end, limit } = *page;
        let mut paging =
            json!({"cursors": {"before": self.cursor(start), "after": self.cursor(end - 1)}});
        if end < len {
            paging["next"] = json!(format!(
                "{base}?limit={limit}{extra}&after={}",
                self.cursor(end - 1)
            ));
        }
        if start > 0 {
            paging["previous"] = json!(format!(
                "{base}?limit={limit}{extra}&before={}",
                self.cursor(start)
            ));
        }
        paging
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TPL: Cursors = Cursors("tpl");

    fn query(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn cursors_round_trip_within_their_own_listing_only() {
        assert_eq!(TPL.parse(&TPL.cursor(7)), Some(7));
        assert_eq!(Cursors("blk").parse(&TPL.cursor(7)), None);
        assert_eq!(TPL.parse("garbage!"), None);
    }

    #[test]
    fn pages_follow_limit_and_cursors_and_stay_inside_the_list() {
        let page = |q: &[(&str, &str)]| TPL.page(&query(q), 5);
        assert_eq!(
            page(&[]).unwrap(),
            Page {
                start: 0,
                end: 5,
                limit: 25
            }
        );
        assert_eq!(
            page(&[("limit", "2")]).unwrap(),
            Page {
                start: 0,
                end: 2,
                limit: 2
            }
        );
        let after = TPL.cursor(1);
        assert_eq!(
            page(&[("limit", "2"), ("after", &after)]).unwrap(),
            Page {
                start: 2,
                end: 4,
                limit: 2
            }
        );
        let before = TPL.cursor(4);
        assert_eq!(
            page(&[("limit", "3"), ("before", &before)]).unwrap(),
            Page {
                start: 1,
                end: 4,
                limit: 3
            }
        );
        let past = TPL.cursor(9);
        assert_eq!(
            page(&[("after", &past)]).unwrap(),
            Page {
                start: 5,
                end: 5,
                limit: 25
            },
            "empty, not a panic"
        );
        assert!(page(&[("limit", "0")]).is_err());
        assert!(page(&[("after", "nope")]).is_err());
    }

    #[test]
    fn links_go_only_where_there_is_more() {
        let middle = Page {
            start: 2,
            end: 4,
            limit: 2,
        };
        let paging = TPL.paging(&middle, 5, "http://h/v21.0/1/x", "&status=APPROVED");
        assert_eq!(
            paging["next"],
            format!(
                "http://h/v21.0/1/x?limit=2&status=APPROVED&after={}",
                TPL.cursor(3)
            )
        );
        assert_eq!(
            paging["previous"],
            format!(
                "http://h/v21.0/1/x?limit=2&status=APPROVED&before={}",
                TPL.cursor(2)
            )
        );
        let all = TPL.paging(
            &Page {
                start: 0,
                end: 5,
                limit: 25,
            },
            5,
            "b",
            "",
        );
        assert!(all.get("next").is_none() && all.get("previous").is_none());
    }
}
