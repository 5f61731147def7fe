//! A list the operator moves through: items, the selected row, the first row shown.
//! The selection follows its item (by key) when the list is reloaded, so live updates never
//! move the operator's cursor off the row it is on.

/// A list and the operator's place in it.
#[derive(Debug, Clone, PartialEq)]
pub struct List<T> {
    pub items: Vec<T>,
    pub selected: usize,
    /// The first row on screen.
    pub offset: usize,
}

impl<T> Default for List<T> {
    fn default() -> Self {
        List {
            items: Vec::new(),
            selected: 0,
            offset: 0,
        }
    }
}

impl<T> List<T> {
    pub fn selected(&self) -> Option<&T> {
        self.items.get(self.selected)
    }

    /// Replaces the items, keeping the selection on the item with the same key if it is
    /// still there (else on the same position). A list scrolled to its top stays there;
    /// a scrolled one keeps the selected row where it was on the screen of `rows` rows, as
    /// far as the list allows (never scrolled past its end).
    pub fn replace<K: PartialEq>(&mut self, items: Vec<T>, key: impl Fn(&T) -> K, rows: usize) {
        let row_on_screen = self.selected.saturating_sub(self.offset);
        let kept = self.selected().map(&key);
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
    }

    pub fn last(&mut self, rows: usize) {
        self.selected = self.items.len().saturating_sub(1);
        self.scroll_into_view(rows);
    }

    /// Adjusts the offset so the selected row is among the `rows` shown.
    pub fn scroll_into_view(&mut self, rows: usize) {
        let rows = rows.max(1);
        if self.selected < self.offset {
            self.offset = self.selected;
        } else if self.selected >= self.offset + rows {
            self.offset = self.selected + 1 - rows;
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

    #[test]
    fn rows_arriving_at_the_top_of_a_list_viewed_from_its_top_come_into_view() {
        let mut list = List::default();
        list.replace((10..40).collect(), |i| *i, 10);
        list.replace((9..40).collect(), |i| *i, 10);
        assert_eq!(list.selected(), Some(&10), "the cursor stays on its row");
        assert_eq!(list.offset, 0, "the new row is on screen");
        // Scrolled down, the operator's view does not move.
        list.step(15, 10);
        let on_screen = list.selected - list.offset;
        list.replace((5..40).collect(), |i| *i, 10);
        assert_eq!(list.selected - list.offset, on_screen);
    }

    #[test]
    fn a_short_list_is_never_scrolled_off_its_top() {
        let mut list = List::default();
        list.replace((0..5).collect(), |i| *i, 10);
        // The selected item moves down the list (its status changed, say).
        list.replace(vec![1, 2, 3, 4, 0], |i| *i, 10);
        assert_eq!((list.selected, list.offset), (4, 0));
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
