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
    /// Builds the map. yaml-rust2 is stricter than serde_yaml about a few plain scalars; where it
    /// stops, the nodes seen so far keep their positions and the rest fall back to ancestors.
    pub fn new(text: &str) -> Locator {
        let mut b = Builder {
            stack: Vec::new(),
            spans: HashMap::new(),
            unplaced_map: None,
        };
        let _ = Parser::new_from_str(text).load(&mut b, false);
        Locator { spans: b.spans }
    }

    /// Where a document serde_yaml rejected without a position goes wrong: the scanner's error
    /// position, or the start of a second document.
    pub fn problem_pos(text: &str) -> Pos {
        struct Docs(Vec<Marker>);
        impl MarkedEventReceiver for Docs {
            fn on_event(&mut self, ev: Event, mark: Marker) {
                if ev == Event::DocumentStart {
                    self.0.push(mark);
                }
            }
        }
        let mut docs = Docs(Vec::new());
        match Parser::new_from_str(text).load(&mut docs, true) {
            Err(e) => to_pos(*e.marker()),
            Ok(()) => docs.0.get(1).map_or(Pos { line: 1, column: 1 }, |m| Pos {
                line: m.line(),
                column: m.col().max(1),
            }),
        }
    }

    /// Position of the value at `pointer`, or of its nearest located ancestor.
    pub fn pos(&self, pointer: &str) -> Option<Pos> {
        let mut p = pointer;
        loop {
            if let Some(s) = self.spans.get(p) {
                return Some(s.value);
            }
            match p.rfind('/') {
                Some(i) => p = &p[..i],
                // Nothing located at all: the start of the file is still a place to look.
                None => return Some(Pos { line: 1, column: 1 }),
            }
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

    #[test]
    fn locates_a_second_document() {
        assert_eq!(Locator::problem_pos("a: 1\n---\nb: 2\n").line, 2);
    }
}
