//! A small built-in text editor for feedback, comments and rationales, used when `$EDITOR` is
//! not set. Enter starts a new line; Ctrl-S saves; Esc cancels.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TextArea {
    pub lines: Vec<String>,
    /// Cursor: line, and position in characters.
    pub row: usize,
    pub col: usize,
}

/// What a key did to the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    Continue,
    Save,
    Cancel,
}

impl TextArea {
    pub fn new(text: &str) -> TextArea {
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        if lines.is_empty() {
            lines.push(String::new());
        }
        let row = lines.len() - 1;
        let col = lines[row].chars().count();
        TextArea { lines, row, col }
    }

    pub fn text(&self) -> String {
        self.lines.join("\n").trim_end().to_string()
    }

    fn byte(&self) -> usize {
        let l = &self.lines[self.row];
        l.char_indices().nth(self.col).map_or(l.len(), |(i, _)| i)
    }

    pub fn insert_str(&mut self, s: &str) {
        for (i, part) in s.split('\n').enumerate() {
            if i > 0 {
                self.newline();
            }
            for c in part.chars() {
                self.insert(c);
            }
        }
    }

    fn insert(&mut self, c: char) {
        if c.is_control() && c != '\t' {
            return;
        }
        let b = self.byte();
        self.lines[self.row].insert(b, c);
        self.col += 1;
    }

    fn newline(&mut self) {
        let b = self.byte();
        let rest = self.lines[self.row].split_off(b);
        self.lines.insert(self.row + 1, rest);
        self.row += 1;
        self.col = 0;
    }

    pub fn key(&mut self, k: KeyEvent) -> Edit {
        let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
        match k.code {
            KeyCode::Esc => return Edit::Cancel,
            KeyCode::Char('s') if ctrl => return Edit::Save,
            KeyCode::Char('c') if ctrl => return Edit::Cancel,
            KeyCode::Enter => self.newline(),
            KeyCode::Char(c) if !ctrl => self.insert(c),
            KeyCode::Tab => self.insert(' '),
            KeyCode::Backspace => {
                if self.col > 0 {
                    self.col -= 1;
                    let b = self.byte();
                    self.lines[self.row].remove(b);
                } else if self.row > 0 {
                    let cur = self.lines.remove(self.row);
                    self.row -= 1;
                    self.col = self.lines[self.row].chars().count();
                    self.lines[self.row].push_str(&cur);
                }
            }
            KeyCode::Delete => {
                let b = self.byte();
                if b < self.lines[self.row].len() {
                    self.lines[self.row].remove(b);
                } else if self.row + 1 < self.lines.len() {
                    let next = self.lines.remove(self.row + 1);
                    self.lines[self.row].push_str(&next);
                }
            }
            KeyCode::Left => {
                if self.col > 0 {
                    self.col -= 1;
                } else if self.row > 0 {
                    self.row -= 1;
                    self.col = self.lines[self.row].chars().count();
                }
            }
            KeyCode::Right => {
                if self.col < self.lines[self.row].chars().count() {
                    self.col += 1;
                } else if self.row + 1 < self.lines.len() {
                    self.row += 1;
                    self.col = 0;
                }
            }
            KeyCode::Up if self.row > 0 => {
                self.row -= 1;
                self.col = self.col.min(self.lines[self.row].chars().count());
            }
            KeyCode::Down if self.row + 1 < self.lines.len() => {
                self.row += 1;
                self.col = self.col.min(self.lines[self.row].chars().count());
            }
            KeyCode::Home => self.col = 0,
            KeyCode::End => self.col = self.lines[self.row].chars().count(),
            _ => {}
        }
        Edit::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(c: KeyCode) -> KeyEvent {
        KeyEvent::new(c, KeyModifiers::NONE)
    }

    #[test]
    fn types_edits_and_saves() {
        let mut t = TextArea::new("Good");
        for c in " wörk".chars() {
            t.key(k(KeyCode::Char(c)));
        }
        t.key(k(KeyCode::Enter));
        t.key(k(KeyCode::Char('x')));
        t.key(k(KeyCode::Backspace));
        t.key(k(KeyCode::Backspace));
        assert_eq!(t.text(), "Good wörk");
        t.key(k(KeyCode::Left));
        t.key(k(KeyCode::Backspace));
        assert_eq!(t.text(), "Good wök");
        assert_eq!(
            t.key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL)),
            Edit::Save
        );
        assert_eq!(t.key(k(KeyCode::Esc)), Edit::Cancel);
    }
}
