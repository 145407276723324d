//! Pictures in the evidence pane: photos and scans the learner sent, drawn in the terminal
//! with ratatui-image — sixel, kitty or iTerm2 graphics where the terminal has them, Unicode
//! half-blocks otherwise (and always inside tmux, which passes no graphics through reliably).
//! The file is decoded off the render path, within limits (a picture that says it is 60,000
//! pixels wide is refused, not allocated), and scaled down once; the view only draws the
//! protocol made for the pane's size.

use std::sync::Arc;

use image::DynamicImage;
use ratatui::layout::{Rect, Size};
use ratatui_image::picker::Picker;
use ratatui_image::protocol::Protocol;
use ratatui_image::{Image, Resize};

/// The widest or tallest picture decoded, in pixels.
pub const MAX_SIDE: u32 = 12_000;
/// Most bytes decoding may allocate.
pub const MAX_ALLOC: u64 = 512 * 1024 * 1024;
/// The longest side kept after decoding (the pane is never larger than this in pixels).
const KEEP_SIDE: u32 = 1600;

/// Whether a file is a picture the workbench draws (by its name).
pub fn is_picture(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [".png", ".jpg", ".jpeg", ".gif", ".webp"]
        .iter()
        .any(|e| lower.ends_with(e))
}

/// Decodes a picture's bytes within the limits, scaled down to at most [`KEEP_SIDE`].
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    let mut r = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| format!("its format is not known: {e}"))?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    r.limits(limits);
    let img = r.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => format!(
            "it is larger than the workbench draws (at most {MAX_SIDE} × {MAX_SIDE} pixels)"
        ),
        e => format!("it cannot be decoded: {e}"),
    })?;
    Ok(if img.width() > KEEP_SIDE || img.height() > KEEP_SIDE {
        img.thumbnail(KEEP_SIDE, KEEP_SIDE)
    } else {
        img
    })
}

/// A picture on show: the decoded image and what the view draws for the pane's size.
#[derive(Clone)]
pub struct Picture {
    pub key: String,
    pub image: Result<Arc<DynamicImage>, String>,
    /// The drawing for `fitted`'s size.
    drawn: Option<(Size, Protocol)>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.image {
            Ok(i) => write!(f, "Picture({}, {}×{})", self.key, i.width(), i.height()),
            Err(e) => write!(f, "Picture({}, {e})", self.key),
        }
    }
}

impl Picture {
    pub fn new(key: String, image: Result<Arc<DynamicImage>, String>) -> Picture {
        Picture {
            key,
            image,
            drawn: None,
        }
    }

    /// Makes the drawing for an area of `size` (once a size: the view only draws it).
    pub fn fit(&mut self, picker: &Picker, size: Size) {
        if self.drawn.as_ref().is_some_and(|(s, _)| *s == size) || size.width == 0 {
            return;
        }
        if let Ok(img) = &self.image {
            self.drawn = picker
                .new_protocol(img.as_ref().clone(), size, Resize::Fit(None))
                .ok()
                .map(|p| (size, p));
        }
    }

    pub fn render(&self, area: Rect, buf: &mut ratatui::buffer::Buffer) {
        use ratatui::widgets::Widget;
        if let Some((_, p)) = &self.drawn {
            Image::new(p).render(area, buf);
        }
    }
}

/// The picker for this terminal. Half-blocks work everywhere (also inside tmux or screen,
/// which pass no graphics through reliably) and are the default. The terminal is asked what
/// it can draw only where it says it draws graphics — kitty, WezTerm, iTerm2, Ghostty, Konsole —
/// or when `ASSAY_PICTURES=auto` asks for it: a terminal that does not answer would make the
/// workbench wait, and keys typed meanwhile would be read as its answer. `ASSAY_PICTURES`:
/// `halfblocks`, `auto`, `off` (no pictures).
pub fn picker_for_terminal() -> Option<Picker> {
    let setting = std::env::var("ASSAY_PICTURES").unwrap_or_default();
    let var = |k: &str| std::env::var(k).unwrap_or_default();
    let in_mux = std::env::var_os("TMUX").is_some()
        || var("TERM").starts_with("screen")
        || var("TERM").starts_with("tmux");
    let graphics = std::env::var_os("KITTY_WINDOW_ID").is_some()
        || std::env::var_os("KONSOLE_VERSION").is_some()
        || var("TERM").contains("kitty")
        || var("TERM").contains("ghostty")
        || ["iTerm.app", "WezTerm", "ghostty"].contains(&var("TERM_PROGRAM").as_str());
    let ask = || Picker::from_query_stdio().unwrap_or_else(|_| Picker::halfblocks());
    match setting.as_str() {
        "off" => None,
        "halfblocks" => Some(Picker::halfblocks()),
        "auto" => Some(ask()),
        _ if graphics && !in_mux => Some(ask()),
        _ => Some(Picker::halfblocks()),
    }
}
