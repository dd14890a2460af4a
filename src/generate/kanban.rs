//! Documents in the shape of the kanban example (`plans/kanban.yaml`).
//!
//! Per user: a board at the root, 1-5 lists with 0-3 labels each (keyed by colour, repeating
//! across lists), 0-40 cards keyed by id with 0-6 checklist items (ids restarting per card),
//! 0-5 members, 0-30 activity records with integer ids, settings with shortcuts. A messy user has
//! a checklist item id twice in one card, which stops its batch.

use serde_json::{Map, Value, json};

use super::{Rng, text};

const COLORS: [&str; 6] = ["green", "yellow", "orange", "red", "purple", "blue"];

fn epoch_ms(rng: &mut Rng) -> u64 {
    1_704_067_200_000 + rng.range(0, 300 * 86_400_000)
}

pub(super) fn document(rng: &mut Rng, n: u64, messy: bool) -> Value {
    let lists: Vec<Value> = (1..=rng.range(1, 5))
        .map(|i| {
            let labels: Map<String, Value> = (0..rng.range(0, 3))
                .map(|_| {
                    let c = rng.pick(&COLORS);
                    (
                        c.to_string(),
                        json!({"name": text(rng, 12), "color": format!("#{c}")}),
                    )
                })
                .collect();
            json!({"id": format!("l{i}"), "name": text(rng, 10), "closed": rng.below(8) == 0,
                   "wip.limit": rng.range(2, 8), "labels": labels})
        })
        .collect();
    let members: Map<String, Value> = (1..=rng.range(0, 5))
        .map(|i| {
            let m = json!({"fullName": format!("Member {n}.{i}"), "initials": format!("M{i}"), "avatar": null});
            (format!("m{i}"), m)
        })
        .collect();
    let mut cards = Map::new();
    for c in 1..=rng.range(0, 40) {
        let list = &lists[rng.below(lists.len())];
        let checklist: Vec<Value> = (1..=rng.range(0, 6))
            .map(|k| json!({"id": k, "text": text(rng, 20), "done": rng.below(2) == 0}))
            .collect();
        let labels: Vec<&String> = list["labels"]
            .as_object()
            .map_or(Vec::new(), |m| m.keys().collect());
        let desc_len = rng.range(0, 400) as usize;
        let card = json!({"listId": list["id"], "title": text(rng, 30), "desc": text(rng, desc_len),
            "due": if rng.below(3) == 0 { Value::Null } else { json!(super::timestamp(rng)) },
            "start": if rng.below(2) == 0 { json!(format!("{:02}/{:02}/2024", rng.range(1, 28), rng.range(1, 12))) } else { json!("next sprint") },
            "created": epoch_ms(rng), "labelIds": labels, "idMembers": members.keys().take(rng.below(3)).collect::<Vec<_>>(),
            "checklist": checklist, "badges": {"votes": rng.range(0, 9), "comments": rng.range(0, 20)}});
        cards.insert(format!("c_{c}"), card);
    }
    let card_ids: Vec<String> = cards.keys().cloned().collect();
    let activity: Vec<Value> = (1..=rng.range(0, 30))
        .map(|k| {
            let card = (!card_ids.is_empty()).then(|| card_ids[rng.below(card_ids.len())].clone());
            json!({"id": n * 1000 + k, "type": rng.pick(&["addCard", "moveCard", "commentCard"]),
                   "cardId": card, "at": epoch_ms(rng), "data": {"text": text(rng, 30)}})
        })
        .collect();
    if messy && let Some(Value::Object(card)) = cards.values_mut().next() {
        card["checklist"] = json!([{"id": 1, "text": "twice"}, {"id": 1, "text": "again"}]);
    }
    json!({"title": text(rng, 20), "version": rng.range(1, 4), "createdAt": epoch_ms(rng),
           "prefs": {"background": rng.pick(&COLORS), "card.covers": rng.below(2) == 0, "permissionLevel": "private"},
           "lists": lists, "cards": cards, "members": members, "activity": activity,
           "settings": {"theme": rng.pick(&["dark", "light"]), "ui.density": "compact", "shortcuts": ["g b", "n"]}})
}
