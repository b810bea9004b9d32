//! A bounded edit distance for short words and codes.
//!
//! Optimal string alignment (Levenshtein plus adjacent transpositions, so
//! `stregnths` is one edit from `strengths`), computed on bytes with an early
//! exit once the bound is exceeded. Search compares a query word against
//! hundreds of vocabulary words per keystroke, so this allocates nothing for
//! words up to [`MAX_LEN`] bytes and gives up beyond the bound instead of
//! finishing the table.

/// Words longer than this are compared only for equality.
pub const MAX_LEN: usize = 32;

/// The edit distance between `a` and `b` if it is at most `max`, else `None`.
pub fn edit_distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a == b {
        return Some(0);
    }
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a.len() > MAX_LEN || b.len() > MAX_LEN {
        return None;
    }
    let n = b.len();
    // Three rows of the dynamic-programming table: two back, one back, current.
    // Distances never exceed MAX_LEN, so a byte per cell is enough.
    let mut two_back = [0u8; MAX_LEN + 1];
    let mut one_back = [0u8; MAX_LEN + 1];
    let mut current = [0u8; MAX_LEN + 1];
    for (j, cell) in one_back.iter_mut().enumerate().take(n + 1) {
        *cell = j as u8;
    }
    let max = max.min(MAX_LEN) as u8;
    for i in 1..=a.len() {
        current[0] = i as u8;
        let mut row_min = current[0];
        for j in 1..=n {
            let cost = u8::from(a[i - 1] != b[j - 1]);
            let mut d = (one_back[j] + 1)
                .min(current[j - 1] + 1)
                .min(one_back[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(two_back[j - 2] + 1);
            }
            current[j] = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        two_back = one_back;
        one_back = current;
    }
    let d = one_back[n];
    (d <= max).then_some(usize::from(d))
}

#[cfg(test)]
mod tests {
    use super::edit_distance;

    #[test]
    fn distances() {
        let cases = [
            ("strength", "strength", Some(0)),
            ("stregnth", "strength", Some(1)),
            ("strengh", "strength", Some(1)),
            ("motivaton", "motivation", Some(1)),
            ("kitten", "sitting", Some(3)),
            ("1.11", "1.1", Some(1)),
            ("abc", "xyz", Some(3)),
            ("abcd", "wxyz", None),
            ("", "ab", Some(2)),
        ];
        for (a, b, want) in cases {
            assert_eq!(
                edit_distance(a.as_bytes(), b.as_bytes(), 3),
                want,
                "{a} ~ {b}"
            );
        }
    }

    #[test]
    fn the_bound_is_respected() {
        assert_eq!(edit_distance(b"kitten", b"sitting", 2), None);
        assert_eq!(edit_distance(b"abcdef", b"a", 2), None);
    }
}
