//! A list the operator moves through: items, the selected row, the first row shown.
//!
//! Live updates follow two rules, like `tail -f` and a mail reader:
//! - A cursor on the first row (the newest decision, the idea waiting longest) follows: it
//!   stays on the first row whatever arrives there.
//! - A cursor anywhere else stays on its item (by key), never moved by rows arriving above
//!   it; rows that arrive above the screen are counted in [`List::unseen`] (shown as
//!   `▲ N new`) until the operator goes to the top.

use std::collections::HashSet;
use std::hash::Hash;

/// A list and the operator's place in it.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T> {
    pub items: Vec<T>,
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
    /// Rows that arrived above the screen since the operator last saw the top.
    pub unseen: usize,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            items: Vec::new(),
            selected: 0,
            offset: 0,
            unseen: 0,
        }
    }
}

impl<T> List<T> {
    pub fn selected(&self) -> Option<&T> {
        self.items.get(self.selected)
    }

    /// Replaces the items. A cursor on the first row follows (stays on the first row);
    /// otherwise it stays on the item with the same key if it is still there (else on the
    /// same position). A list scrolled to its top stays there; a scrolled one keeps the
    /// selected row where it was on the screen of `rows` rows, as far as the list allows
    /// (never scrolled past its end), and counts the rows that arrived above the screen.
    pub fn replace<K: Eq + Hash>(&mut self, items: Vec<T>, key: impl Fn(&T) -> K, rows: usize) {
        if self.selected == 0 {
            self.items = items;
            self.offset = 0;
            self.unseen = 0;
            return;
        }
        let row_on_screen = self.selected.saturating_sub(self.offset);
        let kept = self.selected().map(&key);
        let known: HashSet<K> = self.items.iter().map(&key).collect();
        self.items = items;
        self.selected = kept
            .and_then(|k| self.items.iter().position(|i| key(i) == k))
            .unwrap_or(self.selected)
            .min(self.items.len().saturating_sub(1));
        // An operator looking at the top keeps looking at the top: rows that arrive there
        // (new ideas, new decisions) come into view and push the cursor's row down.
        self.offset = if self.offset == 0 {
            0
        } else {
            self.selected
                .saturating_sub(row_on_screen)
                .min(self.items.len().saturating_sub(rows.max(1)))
        };
        self.scroll_into_view(rows);
        let arrived_above = self.items[..self.offset.min(self.items.len())]
            .iter()
            .filter(|i| !known.contains(&key(i)))
            .count();
        self.unseen = if self.offset == 0 {
            0
        } else {
            self.unseen + arrived_above
        };
    }

    /// Moves the selection by `delta` rows (clamped), keeping it within `rows` on screen.
    pub fn step(&mut self, delta: isize, rows: usize) {
        let last = self.items.len().saturating_sub(1);
        self.selected = self.selected.saturating_add_signed(delta).min(last);
        self.scroll_into_view(rows);
    }

    pub fn first(&mut self) {
        self.selected = 0;
        self.offset = 0;
        self.unseen = 0;
    }

    pub fn last(&mut self, rows: usize) {
        self.selected = self.items.len().saturating_sub(1);
        self.scroll_into_view(rows);
    }

    /// Adjusts the offset so the selected row is among the `rows` shown; at the top, every
    /// row has been seen.
    pub fn scroll_into_view(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
        }
        if self.offset == 0 {
            self.unseen = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cursor_stays_on_its_item_when_rows_arrive_above_it() {
        let mut list = List::default();
        list.replace(vec![10, 20, 30], |i| *i, 10);
        list.step(1, 10);
        assert_eq!(list.selected(), Some(&20));
        list.replace(vec![5, 10, 20, 30], |i| *i, 10);
        assert_eq!(list.selected(), Some(&20));
        assert_eq!(list.selected, 2);
    }

    #[test]
    fn a_vanished_item_leaves_the_cursor_in_place_and_in_range() {
        let mut list = List::default();
        list.replace(vec![1, 2, 3], |i| *i, 10);
        list.last(10);
        list.replace(vec![1], |i| *i, 10);
        assert_eq!(list.selected(), Some(&1));
        list.replace(Vec::<i32>::new(), |i| *i, 10);
        assert_eq!(list.selected(), None);
    }

    /// `n` newest-first rows, the newest numbered `newest`.
    fn newest_first(newest: i32, n: i32) -> Vec<i32> {
        (newest - n + 1..=newest).rev().collect()
    }

    #[test]
    fn a_cursor_on_the_newest_row_follows_every_arrival() {
        let mut list = List::default();
        list.replace(newest_first(30, 30), |i| *i, 10);
        // A screenful and more arrive one by one: each is the selected row when it lands.
        for newest in 31..=60 {
            list.replace(newest_first(newest, 30), |i| *i, 10);
            assert_eq!(list.selected(), Some(&newest));
            assert_eq!((list.offset, list.unseen), (0, 0));
        }
    }

    #[test]
    fn a_cursor_elsewhere_stays_and_counts_what_arrives_above_the_screen() {
        let mut list = List::default();
        list.replace(newest_first(30, 30), |i| *i, 10);
        list.step(3, 10);
        let on = *list.selected().unwrap();
        // Rows arriving while the top is on screen push the cursor's row down into view.
        list.replace(newest_first(32, 32), |i| *i, 10);
        assert_eq!(list.selected(), Some(&on));
        assert_eq!((list.offset, list.unseen), (0, 0));
        // Once the operator has scrolled away from the top, arrivals are counted.
        list.step(10, 10);
        let on = *list.selected().unwrap();
        let on_screen = list.selected - list.offset;
        list.replace(newest_first(35, 35), |i| *i, 10);
        assert_eq!(list.selected(), Some(&on), "the cursor stays on its row");
        assert_eq!(
            list.selected - list.offset,
            on_screen,
            "and where it was on screen"
        );
        assert_eq!(list.unseen, 3, "▲ 3 new");
        list.replace(newest_first(36, 36), |i| *i, 10);
        assert_eq!(list.unseen, 4);
        list.first();
        assert_eq!((list.selected, list.offset, list.unseen), (0, 0, 0));
    }

    #[test]
    fn a_short_list_is_never_scrolled_off_its_top() {
        let mut list = List::default();
        list.replace((0..5).collect(), |i| *i, 10);
        list.step(1, 10);
        // The selected item moves down the list (its status changed, say).
        list.replace(vec![0, 2, 3, 4, 1], |i| *i, 10);
        assert_eq!((list.selected, list.offset), (4, 0));
        // On the first row, the cursor stays there.
        list.first();
        list.replace(vec![2, 3, 4, 1, 0], |i| *i, 10);
        assert_eq!((list.selected, list.offset), (0, 0));
    }

    #[test]
    fn paging_keeps_the_selection_on_screen() {
        let mut list = List::default();
        list.replace((0..100).collect(), |i| *i, 10);
        list.step(25, 10);
        assert_eq!((list.selected, list.offset), (25, 16));
        list.step(-20, 10);
        assert_eq!((list.selected, list.offset), (5, 5));
        list.step(-50, 10);
        assert_eq!((list.selected, list.offset), (0, 0));
        list.last(10);
        assert_eq!((list.selected, list.offset), (99, 90));
    }
}
