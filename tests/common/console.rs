//! The real binary's console in a pseudo-terminal of 80×24, read through a terminal
//! emulator (vt100), driven by keystrokes.

use std::io::{Read as _, Write as _};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// A console running in a pseudo-terminal of 80×24.
pub struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    /// Every byte the console wrote.
    pub raw: Arc<Mutex<Vec<u8>>>,
    writer: Arc<Mutex<Box<dyn std::io::Write + Send>>>,
    pub child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    /// Its HOME (config, state and log), removed with it.
    pub home: tempfile::TempDir,
}

impl Console {
    pub fn start(url: &str) -> Console {
        Self::start_with(url, &[])
    }

    pub fn start_with(url: &str, env: &[(&str, String)]) -> Console {
        Self::spawn(&["--database-url", url], env)
    }

    pub fn spawn(args: &[&str], env: &[(&str, String)]) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 24,
                cols: 80,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("a pseudo-terminal");
        let home = tempfile::tempdir().unwrap();
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_tradedesk"));
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("HOME", home.path());
        cmd.env("XDG_CONFIG_HOME", home.path().join("config"));
        cmd.env("XDG_STATE_HOME", home.path().join("state"));
        cmd.env_remove("DATABASE_URL");
        cmd.env_remove("NO_COLOR");
        for (key, value) in env {
            cmd.env(key, value);
        }
        let child = pty.slave.spawn_command(cmd).expect("start tradedesk");
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = Arc::new(Mutex::new(pty.master.take_writer().unwrap()));
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(24).unwrap(),
            std::num::NonZeroU16::new(80).unwrap(),
            0,
        )));
        let raw = Arc::new(Mutex::new(Vec::new()));
        {
            let (screen, raw, answer) = (screen.clone(), raw.clone(), writer.clone());
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                while let Ok(n) = reader.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let chunk = &buf[..n];
                    // Answer "where is the cursor?" as a real terminal does.
                    if chunk.windows(4).any(|w| w == b"\x1b[6n") {
                        let (row, col) = screen.lock().unwrap().screen().cursor_position();
                        let reply = format!("\x1b[{};{}R", row + 1, col + 1);
                        let mut w = answer.lock().unwrap();
                        let _ = w.write_all(reply.as_bytes());
                        let _ = w.flush();
                    }
                    screen.lock().unwrap().process(chunk);
                    raw.lock().unwrap().extend_from_slice(chunk);
                }
            });
        }
        Console {
            screen,
            raw,
            writer,
            child,
            _master: pty.master,
            home,
        }
    }

    pub fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    /// Waits until the screen shows `needle` (up to 15 s), and returns the screen.
    pub fn wait_for(&self, needle: &str) -> String {
        let start = Instant::now();
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            if start.elapsed() > Duration::from_secs(15) {
                panic!("`{needle}` never appeared; the screen:\n{text}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn keys(&mut self, keys: &str) {
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(keys.as_bytes()).unwrap();
        writer.flush().unwrap();
        drop(writer);
        std::thread::sleep(Duration::from_millis(150));
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}
