//! Once every document is read, the places read again as a whole: objects whose keys are ids
//! rather than names become keyed objects (their members one place), and arrays of elements
//! holding arrays like themselves become trees (every level folded into the first).

use super::profile::{Kinds, Node};

impl Kinds {
    pub fn fold_keyed(&mut self) {
        self.by.values_mut().for_each(Node::fold_keyed);
    }
}

impl Node {
    /// Objects whose keys are ids rather than names: keys on average each in at most a third of
    /// the objects, over members all objects of one shape or four or more scalars; keys with
    /// digits over members of one shape; or members naming their own key.
    pub fn fold_keyed(&mut self) {
        for f in self.fields.values_mut() {
            f.fold_keyed();
        }
        if let Some(i) = &mut self.items {
            i.fold_keyed();
        }
        if let Some(k) = &mut self.kinds {
            k.fold_keyed();
        }
        if self.keyed || self.objects == 0 || self.fields.len() < 2 {
            return;
        }
        let named = self.members_seen > 0 && self.self_named * 10 >= self.members_seen * 9;
        let total: u64 = self.fields.values().map(|f| f.seen).sum();
        let rare = total * 3 <= self.objects * self.fields.len() as u64;
        let objects = self.fields.values().all(|f| f.objects == f.seen - f.nulls);
        let scalars = self
            .fields
            .values()
            .all(|f| f.objects == 0 && f.arrays == 0);
        // Keys with digits (`c_1`, `m7`, dates), over members of one shape: ids even where every
        // document uses the same few.
        let digits = self
            .fields
            .keys()
            .filter(|k| k.bytes().any(|b| b.is_ascii_digit()))
            .count();
        let id_like = digits * 5 >= self.fields.len() * 4 && objects && self.one_shape();
        // Rare keys alone are ids over members of one shape, or over many scalar members (a
        // few optional fields are not a map).
        let members = (objects && self.one_shape()) || (scalars && self.fields.len() >= 4);
        if named || id_like || (rare && self.objects > 1 && members) {
            self.make_keyed();
            // The members merged may now show keyed objects of their own (attachments keyed by
            // id in items keyed by id: one each, until merged).
            if let Some(i) = &mut self.items {
                i.fold_keyed();
            }
        }
    }

    /// Arrays of objects whose elements hold an array of elements like themselves (`children`)
    /// are trees: every level below is folded into the first.
    pub fn fold_trees(&mut self) {
        for f in self.fields.values_mut() {
            f.fold_trees();
        }
        if let Some(i) = &mut self.items {
            i.fold_trees();
        }
        // Only arrays: validate reads trees from arrays of objects.
        if self.arrays == 0 || self.keyed {
            return;
        }
        let Some(elements) = self.items.as_deref_mut() else {
            return;
        };
        if elements.objects == 0 || elements.keyed {
            return;
        }
        let key = elements.fields.iter().find_map(|(k, f)| {
            let inner = f.items.as_deref()?;
            (f.arrays > 0 && !f.keyed && inner.objects > 0 && similar(elements, inner))
                .then(|| k.clone())
        });
        let Some(key) = key else { return };
        // Every deeper level's elements join these; the key keeps the arrays' own counts.
        while let Some(inner) = elements.fields.get_mut(&key).and_then(|f| f.items.take()) {
            let mut inner = *inner;
            let below = inner.fields.remove(&key);
            let docs = elements.docs;
            elements.absorb(inner);
            elements.docs = docs;
            if let Some(below) = below {
                let f = elements.fields.get_mut(&key).expect("the tree's key");
                let items = below.items.clone();
                let mut counts = below;
                counts.items = None;
                f.absorb(counts);
                f.items = items;
            }
        }
        elements.recursive = Some(key);
    }

    /// Whether the members (objects) share most of their keys with the widest of them.
    fn one_shape(&self) -> bool {
        let Some(widest) = self.fields.values().max_by_key(|f| f.fields.len()) else {
            return false;
        };
        self.fields
            .values()
            .all(|f| similar(widest, f) || f.fields.is_empty())
    }
}

/// Two places whose objects share most of the keys of the one with fewer.
fn similar(a: &Node, b: &Node) -> bool {
    let shared = a
        .fields
        .keys()
        .filter(|k| b.fields.contains_key(*k))
        .count();
    let fewer = a.fields.len().min(b.fields.len());
    fewer > 0 && shared * 2 > fewer
}
