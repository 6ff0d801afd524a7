//! How a value sits in Modbus registers: integer or float type, word order,
//! byte order, and scale.
//!
//! Meters disagree on all of these (register-maps.md: the IME group is U32
//! high word first, Carlo Gavazzi low word first, Eastron FLOAT32), so they are
//! profile data, and encode/decode must be exact inverses.

use serde::{Deserialize, Serialize};

/// The register type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RegisterKind {
    U16,
    I16,
    U32,
    I32,
    F32,
}

/// As the profile file writes it (`kind = "u32"`).
impl std::fmt::Display for RegisterKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RegisterKind::U16 => "u16",
            RegisterKind::I16 => "i16",
            RegisterKind::U32 => "u32",
            RegisterKind::I32 => "i32",
            RegisterKind::F32 => "f32",
        })
    }
}

impl RegisterKind {
    pub fn words(self) -> usize {
        match self {
            RegisterKind::U16 | RegisterKind::I16 => 1,
            RegisterKind::U32 | RegisterKind::I32 | RegisterKind::F32 => 2,
        }
    }

    /// The raw integer range, or `None` for floats.
    pub fn raw_range(self) -> Option<(f64, f64)> {
        match self {
            RegisterKind::U16 => Some((0.0, u16::MAX as f64)),
            RegisterKind::I16 => Some((i16::MIN as f64, i16::MAX as f64)),
            RegisterKind::U32 => Some((0.0, u32::MAX as f64)),
            RegisterKind::I32 => Some((i32::MIN as f64, i32::MAX as f64)),
            RegisterKind::F32 => None,
        }
    }
}

/// Which 16-bit word of a 32-bit value comes first on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WordOrder {
    #[default]
    HighFirst,
    LowFirst,
}

/// Byte order inside each 16-bit word. Modbus says big; some devices swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ByteOrder {
    #[default]
    Big,
    Little,
}

/// Everything needed to turn words into a raw number and back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Coding {
    pub kind: RegisterKind,
    pub word_order: WordOrder,
    pub byte_order: ByteOrder,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodecError {
    #[error("value {value} does not fit a {kind:?} register (raw range {min}..={max})")]
    OutOfRange {
        value: f64,
        kind: RegisterKind,
        min: f64,
        max: f64,
    },
    #[error("value {0} is not a finite number")]
    NotFinite(f64),
    #[error("expected {expected} register words, got {got}")]
    WrongLength { expected: usize, got: usize },
}

impl Coding {
    /// Words for a raw number (already divided by the scale). Integers must be
    /// whole and in range.
    pub fn encode(&self, raw: f64) -> Result<Vec<u16>, CodecError> {
        if !raw.is_finite() {
            return Err(CodecError::NotFinite(raw));
        }
        if let Some((min, max)) = self.kind.raw_range()
            && (raw < min || raw > max)
        {
            return Err(CodecError::OutOfRange {
                value: raw,
                kind: self.kind,
                min,
                max,
            });
        }
        let bits: u32 = match self.kind {
            RegisterKind::U16 => raw as u16 as u32,
            RegisterKind::I16 => raw as i16 as u16 as u32,
            RegisterKind::U32 => raw as u32,
            RegisterKind::I32 => raw as i32 as u32,
            RegisterKind::F32 => (raw as f32).to_bits(),
        };
        let mut words = if self.kind.words() == 1 {
            vec![bits as u16]
        } else {
            let (hi, lo) = ((bits >> 16) as u16, bits as u16);
            match self.word_order {
                WordOrder::HighFirst => vec![hi, lo],
                WordOrder::LowFirst => vec![lo, hi],
            }
        };
        if self.byte_order == ByteOrder::Little {
            for w in &mut words {
                *w = w.swap_bytes();
            }
        }
        Ok(words)
    }

    /// The raw number in `words` (before scaling).
    pub fn decode(&self, words: &[u16]) -> Result<f64, CodecError> {
        if words.len() != self.kind.words() {
            return Err(CodecError::WrongLength {
                expected: self.kind.words(),
                got: words.len(),
            });
        }
        let fix = |w: u16| match self.byte_order {
            ByteOrder::Big => w,
            ByteOrder::Little => w.swap_bytes(),
        };
        let bits: u32 = if words.len() == 1 {
            fix(words[0]) as u32
        } else {
            let (hi, lo) = match self.word_order {
                WordOrder::HighFirst => (fix(words[0]), fix(words[1])),
                WordOrder::LowFirst => (fix(words[1]), fix(words[0])),
            };
            ((hi as u32) << 16) | lo as u32
        };
        Ok(match self.kind {
            RegisterKind::U16 => bits as u16 as f64,
            RegisterKind::I16 => bits as u16 as i16 as f64,
            RegisterKind::U32 => bits as f64,
            RegisterKind::I32 => bits as i32 as f64,
            RegisterKind::F32 => f32::from_bits(bits) as f64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_orders_differ_on_the_wire() {
        let hi = Coding {
            kind: RegisterKind::U32,
            word_order: WordOrder::HighFirst,
            byte_order: ByteOrder::Big,
        };
        let lo = Coding {
            word_order: WordOrder::LowFirst,
            ..hi
        };
        assert_eq!(hi.encode(0x0001_0002 as f64).expect("fits"), vec![1, 2]);
        assert_eq!(lo.encode(0x0001_0002 as f64).expect("fits"), vec![2, 1]);
        let little = Coding {
            byte_order: ByteOrder::Little,
            ..hi
        };
        assert_eq!(little.encode(0x0102 as f64).expect("fits"), vec![0, 0x0201]);
    }

    #[test]
    fn signed_and_float_values_round_trip() {
        let i32c = Coding {
            kind: RegisterKind::I32,
            word_order: WordOrder::LowFirst,
            byte_order: ByteOrder::Big,
        };
        let w = i32c.encode(-123_456.0).expect("fits");
        assert_eq!(i32c.decode(&w).expect("decodes"), -123_456.0);
        let f = Coding {
            kind: RegisterKind::F32,
            word_order: WordOrder::HighFirst,
            byte_order: ByteOrder::Big,
        };
        assert_eq!(f.encode(230.0).expect("fits"), vec![0x4366, 0x0000]);
    }

    #[test]
    fn out_of_range_is_an_error_not_a_wrap() {
        let u16c = Coding {
            kind: RegisterKind::U16,
            word_order: WordOrder::HighFirst,
            byte_order: ByteOrder::Big,
        };
        assert!(u16c.encode(70_000.0).is_err());
        assert!(u16c.encode(-1.0).is_err());
        assert!(u16c.decode(&[1, 2]).is_err());
    }
}
