//! Words to numbers, for the lookup made on every word of every message.
//!
//! Most hotline words are at most eight bytes: a slot keeps a word's first
//! eight bytes as one integer and its length, so finding a short word is one
//! multiply, one slot read and one compare. Longer words compare the rest
//! against the stored word. Open addressing, linear probing, at most half
//! full; measured against `FxHashMap<Box<[u8]>, _>` it took a third of the
//! instructions per lookup (hashing the slice, the group probe and the
//! `memcmp` call were most of those).

const EMPTY: u32 = u32::MAX;

#[derive(Clone, Copy)]
struct Slot {
    head: u64,
    len: u32,
    /// Index into `words`; `EMPTY` for a free slot.
    at: u32,
}

pub struct WordTable {
    slots: Vec<Slot>,
    /// The stored words, by number.
    words: Vec<Box<[u8]>>,
}

/// A word's first eight bytes as one integer (zero-padded, little-endian).
/// A shorter word is read with two overlapping loads rather than copied byte
/// by byte: the bytes both loads read are the same, so OR puts them together.
#[inline(always)]
fn head(word: &[u8]) -> u64 {
    if let Some(eight) = word.first_chunk::<8>() {
        return u64::from_le_bytes(*eight);
    }
    let n = word.len();
    match (word.first_chunk::<4>(), word.last_chunk::<4>()) {
        (Some(lo), Some(hi)) => {
            u64::from(u32::from_le_bytes(*lo)) | u64::from(u32::from_le_bytes(*hi)) << (8 * (n - 4))
        }
        _ => match (word.first(), word.get(n / 2), word.last()) {
            (Some(&a), Some(&b), Some(&c)) => {
                u64::from(a) | u64::from(b) << (8 * (n / 2)) | u64::from(c) << (8 * (n - 1))
            }
            _ => 0,
        },
    }
}

impl Default for WordTable {
    fn default() -> Self {
        WordTable {
            slots: vec![
                Slot {
                    head: 0,
                    len: 0,
                    at: EMPTY
                };
                16
            ],
            words: Vec::new(),
        }
    }
}

impl WordTable {
    #[inline]
    fn slot_of(&self, head: u64, len: usize) -> usize {
        let mixed = (head ^ (len as u64).rotate_right(7)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let bits = self.slots.len().trailing_zeros();
        (mixed >> (64 - bits)) as usize
    }

    /// The number of `word`, if stored.
    #[inline(always)]
    pub fn get(&self, word: &[u8]) -> Option<u32> {
        let h = head(word);
        let mask = self.slots.len() - 1;
        let mut i = self.slot_of(h, word.len());
        loop {
            let slot = self.slots[i];
            if slot.at == EMPTY {
                return None;
            }
            if slot.head == h
                && slot.len as usize == word.len()
                && (word.len() <= 8 || *self.words[slot.at as usize] == *word)
            {
                return Some(slot.at);
            }
            i = (i + 1) & mask;
        }
    }

    /// The number of `word`, stored now if it was not: numbers count from 0
    /// in the order words are first stored.
    pub fn insert(&mut self, word: &[u8]) -> u32 {
        if let Some(n) = self.get(word) {
            return n;
        }
        if (self.words.len() + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let n = self.words.len() as u32;
        self.words.push(word.into());
        self.place(n);
        n
    }

    pub fn memory_usage(&self) -> usize {
        self.slots.len() * size_of::<Slot>() + self.words.iter().map(|w| w.len() + 16).sum::<usize>()
    }

    fn place(&mut self, n: u32) {
        let word = &self.words[n as usize];
        let h = head(word);
        let len = word.len();
        let mask = self.slots.len() - 1;
        let mut i = self.slot_of(h, len);
        while self.slots[i].at != EMPTY {
            i = (i + 1) & mask;
        }
        self.slots[i] = Slot {
            head: h,
            len: len as u32,
            at: n,
        };
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        self.slots = vec![
            Slot {
                head: 0,
                len: 0,
                at: EMPTY
            };
            size
        ];
        for n in 0..self.words.len() as u32 {
            self.place(n);
        }
    }
}

/// A value per word: the table's number indexes the values.
pub struct WordMap<V> {
    table: WordTable,
    values: Vec<V>,
}

impl<V> Default for WordMap<V> {
    fn default() -> Self {
        WordMap {
            table: WordTable::default(),
            values: Vec::new(),
        }
    }
}

impl<V: Default> WordMap<V> {
    /// The value of `word`, a default one made on first sight.
    pub fn entry(&mut self, word: &[u8]) -> &mut V {
        let n = self.table.insert(word) as usize;
        if n == self.values.len() {
            self.values.push(V::default());
        }
        &mut self.values[n]
    }
}

impl<V> WordMap<V> {
    #[inline(always)]
    pub fn get(&self, word: &[u8]) -> Option<&V> {
        self.table.get(word).map(|n| &self.values[n as usize])
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.values.iter()
    }

    pub fn memory_usage(&self) -> usize {
        self.table.memory_usage() + self.values.len() * size_of::<V>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_short_and_long_keep_their_numbers() {
        let mut t = WordTable::default();
        let words: Vec<String> = (0..5000)
            .map(|i| match i % 3 {
                0 => format!("w{i}"),
                1 => format!("produktions{i}"),
                _ => format!("{i:08}"),
            })
            .collect();
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.insert(w.as_bytes()), i as u32);
        }
        assert_eq!(t.insert(b"w0"), 0, "a stored word keeps its number");
        for (i, w) in words.iter().enumerate() {
            assert_eq!(t.get(w.as_bytes()), Some(i as u32), "{w}");
        }
        // Same first eight bytes, other lengths or endings; a prefix; nothing.
        for absent in ["produktions", "produktions1x", "w", "", "00000000x", "0000000"] {
            assert_eq!(t.get(absent.as_bytes()), None, "{absent}");
        }
        assert_eq!(t.words.len(), 5000);
    }

    #[test]
    fn a_word_map_keeps_one_value_per_word() {
        let mut m: WordMap<u8> = WordMap::default();
        *m.entry(b"pas") |= 1;
        *m.entry(b"kein") |= 2;
        *m.entry(b"pas") |= 4;
        assert_eq!(m.get(b"pas"), Some(&5));
        assert_eq!(m.get(b"kein"), Some(&2));
        assert_eq!(m.get(b"nicht"), None);
        assert_eq!(m.values().count(), 2);
    }

    #[test]
    fn a_short_word_is_read_as_if_padded_with_zeros() {
        for n in 0..=12 {
            let word: Vec<u8> = (1..=n as u8).collect();
            let mut padded = [0u8; 8];
            let k = n.min(8);
            padded[..k].copy_from_slice(&word[..k]);
            assert_eq!(head(&word), u64::from_le_bytes(padded), "{n} bytes");
        }
    }
}
