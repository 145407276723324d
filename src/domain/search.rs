//! What a portfolio is found by: the text that fuzzy search matches, and the folded form in
//! which texts and queries meet.

use std::borrow::Cow;

/// The form in which a text is searched: folded to ASCII (`deunicode`; a character it has no
/// ASCII for is left out), so that "kovacevic" finds "Kovačević" and "Kovačević" finds it
/// too, as `fzf` does. Search texts are stored in this form (all ASCII, so they are matched
/// byte by byte) and every query is put in it before matching.
pub fn fold(text: &str) -> Cow<'_, str> {
    if text.is_ascii() {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(deunicode::deunicode_with_tofu(text, ""))
    }
}

/// A query in the form of [`fold`]: also without the spaces folding may add at its end (some
/// scripts fold to words: "京" is "Jing "), unless the query itself ended with a space.
pub fn fold_query(query: &str) -> String {
    let folded = fold(query);
    if query.ends_with(' ') {
        folded.into_owned()
    } else {
        folded.trim_end_matches(' ').to_owned()
    }
}

/// The stored search text of a portfolio: its id, the learner's id and name, the rubric
/// (`id@version`) and the title of every piece of evidence, in that order, in the form of
/// [`fold`].
pub fn search_text<'a>(
    portfolio: &str,
    learner_id: &str,
    learner_name: &str,
    rubric_key: &str,
    titles: impl IntoIterator<Item = &'a str>,
) -> String {
    let mut text = format!("{portfolio} {learner_id} {learner_name} {rubric_key}");
    for t in titles {
        text.push(' ');
        text.push_str(t);
    }
    fold(&text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_to_ascii_both_ways() {
        assert_eq!(fold("Zoë Kovačević — İzmir"), "Zoe Kovacevic -- Izmir");
        assert!(matches!(fold("plain"), Cow::Borrowed("plain")));
        assert_eq!(fold_query("Kovačević"), "Kovacevic");
        assert_eq!(fold_query("京"), "Jing");
        assert_eq!(fold_query("ab "), "ab ");
        // a character without an ASCII form is left out rather than made into "[?]"
        assert_eq!(fold("a\u{e000}b"), "ab");
    }

    #[test]
    fn the_search_text_is_the_folded_fields_in_order() {
        assert_eq!(
            search_text("P-1", "L-1", "Zoë Brontë", "r@1", ["Café log", "Essay"]),
            "P-1 L-1 Zoe Bronte r@1 Cafe log Essay"
        );
        assert!(search_text("P-1", "L-1", "王小明", "r@1", []).is_ascii());
    }
}
