//! Screens as text at fixed sizes, with fixed data and a fixed clock (insta snapshots in
//! `snapshots/`), and every size down to 1×1 drawn without a panic.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::console::app::App;
use crate::console::fixtures::{loaded_app, now};
use crate::console::msg::{Loaded, Msg};
use crate::console::theme::Theme;
use crate::console::view::draw;

fn screen(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| draw(app, &Theme { color: false }, frame))
        .unwrap();
    terminal.backend().to_string()
}

fn press(app: &mut App, c: char) {
    let modifiers = if c.is_ascii_uppercase() {
        KeyModifiers::SHIFT
    } else {
        KeyModifiers::NONE
    };
    app.update(Msg::Key(KeyEvent::new(KeyCode::Char(c), modifiers)));
}

fn resized(mut app: App, width: u16, height: u16) -> App {
    app.update(Msg::Resize {
        list_rows: super::list_rows(width, height),
        width,
        height,
    });
    app
}

#[test]
fn four_panes_at_160x48() {
    let app = resized(loaded_app(true), 160, 48);
    insta::assert_snapshot!(screen(&app, 160, 48));
}

#[test]
fn halted_header_at_160x48() {
    let app = resized(loaded_app(false), 160, 48);
    insta::assert_snapshot!(screen(&app, 160, 48));
}

#[test]
fn each_pane_as_a_tab_at_80x24() {
    for pane in ['1', '2', '3', '4'] {
        let mut app = resized(loaded_app(false), 80, 24);
        press(&mut app, pane);
        insta::assert_snapshot!(format!("tab_{pane}_at_80x24"), screen(&app, 80, 24));
    }
}

#[test]
fn approve_dialog_with_its_live_verdict() {
    for (width, height) in [(80, 24), (160, 48)] {
        let mut app = resized(loaded_app(false), width, height);
        press(&mut app, 'a');
        let ctx = crate::console::tests_support::context(&app);
        app.update(Msg::Loaded(Loaded::GateContext(Box::new(ctx))));
        insta::assert_snapshot!(
            format!("approve_{width}x{height}"),
            screen(&app, width, height)
        );
    }
}

#[test]
fn kill_switch_reject_resume_dialogs_and_help() {
    for (width, height) in [(80, 24), (160, 48)] {
        for (name, keys) in [
            ("halt", "K"),
            ("reject", "r"),
            ("resume", "R"),
            ("help", "?"),
        ] {
            let mut app = resized(loaded_app(true), width, height);
            for c in keys.chars() {
                press(&mut app, c);
            }
            insta::assert_snapshot!(
                format!("{name}_{width}x{height}"),
                screen(&app, width, height)
            );
        }
    }
}

#[test]
fn halting_and_disconnected_headers() {
    let mut app = resized(loaded_app(true), 80, 24);
    press(&mut app, 'K');
    app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE)));
    insta::assert_snapshot!("halting_80x24", screen(&app, 80, 24));
    let mut app = resized(loaded_app(true), 80, 24);
    app.update(Msg::Disconnected("connection reset".into()));
    app.update(Msg::Tick(now() + chrono::Duration::seconds(7)));
    insta::assert_snapshot!("disconnected_80x24", screen(&app, 80, 24));
}

#[test]
fn every_size_down_to_one_cell_draws_without_panicking() {
    let mut app = loaded_app(false);
    press(&mut app, 'a');
    for width in [1, 2, 5, 10, 20, 40, 79, 119, 120] {
        for height in [1, 2, 3, 5, 8, 12, 23, 31, 32] {
            let _ = screen(&app, width, height);
            let _ = screen(&loaded_app(true), width, height);
        }
    }
}
