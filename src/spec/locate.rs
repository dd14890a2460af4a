//! Maps JSON pointers into a YAML document back to line and column.
//!
//! serde_yaml gives values without positions, so a second pass with yaml-rust2's event parser records
//! where every node starts. Schema errors (reported as JSON pointers) and semantic errors (which keep
//! the pointer of the node they are about) are then located through [`Locator::pos`].

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::Marker;

use crate::diagnostic::Pos;

/// Where a node sits: the key that introduces it (for mapping values) and the value itself.
#[derive(Debug, Clone, Copy)]
struct Span {
    key: Option<Pos>,
    value: Pos,
}

#[derive(Debug, Default, Clone)]
pub struct Locator {
    spans: HashMap<String, Span>,
}

enum Frame {
    Map {
        pointer: String,
        pending_key: Option<(String, Pos)>,
        first: bool,
    },
    Seq {
        pointer: String,
        next: usize,
    },
}

struct Builder {
    stack: Vec<Frame>,
    spans: HashMap<String, Span>,
    /// Mapping nodes whose position is only known once their first key is seen.
    unplaced_map: Option<String>,
}

fn to_pos(m: Marker) -> Pos {
    // yaml-rust2 columns are 0-based; editors count from 1.
    Pos {
        line: m.line(),
        column: m.col() + 1,
    }
}

/// Escapes a key as a JSON pointer token (RFC 6901).
pub fn escape_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

impl Builder {
    /// The pointer of the node about to start, with the key position when it is a mapping value.
    fn next_child(&mut self) -> Option<(String, Option<Pos>)> {
        match self.stack.last_mut() {
            None => Some((String::new(), None)),
            Some(Frame::Seq { pointer, next }) => {
                let p = format!("{pointer}/{next}");
                *next += 1;
                Some((p, None))
            }
            Some(Frame::Map {
                pointer,
                pending_key,
                ..
            }) => {
                let (key, kpos) = pending_key.take()?;
                Some((format!("{pointer}/{}", escape_token(&key)), Some(kpos)))
            }
        }
    }

    /// In a mapping with no pending key, a scalar is a key.
    fn expecting_key(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame::Map {
                pending_key: None,
                ..
            })
        )
    }
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        match ev {
            Event::Scalar(text, ..) if self.expecting_key() => {
                let pos = to_pos(mark);
                if let Some(Frame::Map {
                    pointer,
                    pending_key,
                    first,
                }) = self.stack.last_mut()
                {
                    if *first {
                        *first = false;
                        if self.unplaced_map.as_deref() == Some(pointer.as_str()) {
                            if let Some(span) = self.spans.get_mut(pointer.as_str()) {
                                span.value = pos;
                            }
                            self.unplaced_map = None;
                        }
                    }
                    *pending_key = Some((text, pos));
                }
            }
            Event::Scalar(..) | Event::Alias(..) => {
                if let Some((p, key)) = self.next_child() {
                    self.spans.insert(
                        p,
                        Span {
                            key,
                            value: to_pos(mark),
                        },
                    );
                }
            }
            Event::SequenceStart(..) => {
                if let Some((p, key)) = self.next_child() {
                    self.spans.insert(
                        p.clone(),
                        Span {
                            key,
                            value: to_pos(mark),
                        },
                    );
                    self.stack.push(Frame::Seq {
                        pointer: p,
                        next: 0,
                    });
                }
            }
            Event::MappingStart(..) => {
                if let Some((p, key)) = self.next_child() {
                    // The marker of a block mapping points past its first token; the first key's
                    // position (seen next) is what a reader expects, so it replaces this one.
                    let value = Pos {
                        line: mark.line(),
                        column: mark.col().max(1),
                    };
                    self.spans.insert(p.clone(), Span { key, value });
                    self.unplaced_map = Some(p.clone());
                    self.stack.push(Frame::Map {
                        pointer: p,
                        pending_key: None,
                        first: true,
                    });
                }
            }
            Event::SequenceEnd | Event::MappingEnd => {
                self.stack.pop();
            }
            _ => {}
        }
    }
}

impl Locator {
    /// Builds the map; a document yaml-rust2 cannot parse yields an empty locator (serde_yaml will
    /// already have reported the syntax error with its own position).
    pub fn new(text: &str) -> Locator {
        let mut b = Builder {
            stack: Vec::new(),
            spans: HashMap::new(),
            unplaced_map: None,
        };
        if Parser::new_from_str(text).load(&mut b, false).is_err() {
            return Locator::default();
        }
        Locator { spans: b.spans }
    }

    /// Position of the value at `pointer`, or of its nearest located ancestor.
    pub fn pos(&self, pointer: &str) -> Option<Pos> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.spans.get(p) {
                return Some(s.value);
            }
            p = &p[..p.rfind('/')?];
        }
    }

    /// Position of the key introducing `pointer` (falls back to the value).
    pub fn key_pos(&self, pointer: &str) -> Option<Pos> {
        match self.spans.get(pointer) {
            Some(Span { key: Some(k), .. }) => Some(*k),
            _ => self.pos(pointer),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_nested_nodes() {
        let l = Locator::new("a: 1\nbb:\n  - x: 2\n    y: [3, 4]\n");
        assert_eq!(l.pos("/a"), Some(Pos { line: 1, column: 4 }));
        assert_eq!(l.key_pos("/a"), Some(Pos { line: 1, column: 1 }));
        assert_eq!(l.pos("/bb/0"), Some(Pos { line: 3, column: 5 }));
        assert_eq!(
            l.pos("/bb/0/y/1"),
            Some(Pos {
                line: 4,
                column: 12
            })
        );
        assert_eq!(l.key_pos("/bb/0/y"), Some(Pos { line: 4, column: 5 }));
        // Unknown pointers fall back to the closest ancestor.
        assert_eq!(l.pos("/bb/0/zzz"), Some(Pos { line: 3, column: 5 }));
    }
}
