//! Decoding every value a Phase-1 column admits, without failing.
//!
//! sqlx's own decoders refuse a `NUMERIC` with more digits than a `Decimal` holds or a
//! `NaN` ("value not representable"), and panic on an `infinity` timestamp (chrono's
//! addition overflows): one such row made a whole list fail, or a task die. Rows are read
//! into the types of [`crate::domain::stored`] instead, decoded here from PostgreSQL's
//! binary formats; each row then becomes its entity or is listed flagged.

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueFormat, PgValueRef};
use sqlx::{Decode, Encode, Postgres, Type, TypeInfo as _, ValueRef as _};

use crate::domain::stored::{Numeric, Stamp, StoredArray, numeric_from_digits};

impl Type<Postgres> for Numeric {
    fn type_info() -> PgTypeInfo {
        <Decimal as Type<Postgres>>::type_info()
    }
}

impl<'r> Decode<'r, Postgres> for Numeric {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => numeric_from_binary(value.as_bytes()?),
            PgValueFormat::Text => Ok(Numeric::parse(value.as_str()?)),
        }
    }
}

/// PostgreSQL's binary `NUMERIC`: digit count, weight (of the first base-10 000 digit),
/// sign (or NaN, ±Infinity), display scale, then the base-10 000 digits.
fn numeric_from_binary(bytes: &[u8]) -> Result<Numeric, BoxDynError> {
    let word = |i: usize| -> Result<u16, BoxDynError> {
        bytes
            .get(i * 2..i * 2 + 2)
            .map(|b| u16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a NUMERIC shorter than its header".into())
    };
    let ndigits = word(0)? as i16;
    let weight = word(1)? as i16 as i32;
    let sign = word(2)?;
    let dscale = word(3)? as usize;
    match sign {
        0xC000 => return Ok(Numeric::NaN),
        0xD000 => return Ok(Numeric::Infinity),
        0xF000 => return Ok(Numeric::NegInfinity),
        0x0000 | 0x4000 => {}
        other => return Err(format!("a NUMERIC with an unknown sign {other:#x}").into()),
    }
    let digits = (0..ndigits.max(0) as usize)
        .map(|i| word(4 + i))
        .collect::<Result<Vec<u16>, _>>()?;
    // Base-10 000 digit i stands for digits[i] × 10 000^(weight − i): the whole part is
    // the places from `weight` down to 0, the fraction those below, as far as the last
    // digit or the display scale reaches.
    let digit = |place: i32| -> u16 {
        let i = weight - place;
        if i >= 0 && (i as usize) < digits.len() {
            digits[i as usize]
        } else {
            0
        }
    };
    let mut whole = String::new();
    for place in (0..=weight).rev() {
        whole.push_str(&format!("{:04}", digit(place)));
    }
    let lowest = (weight - digits.len() as i32 + 1).min(-(dscale.div_ceil(4) as i32));
    let mut fraction = String::new();
    for place in (lowest..=-1).rev() {
        fraction.push_str(&format!("{:04}", digit(place)));
    }
    // Past the display scale PostgreSQL stores only the zeros of its last base-10 000
    // digit; short of it, zeros are padded, so NUMERIC(18,6) keeps its six places.
    fraction.truncate(dscale);
    Ok(numeric_from_digits(sign == 0x4000, &whole, &fraction))
}

impl Type<Postgres> for Stamp {
    fn type_info() -> PgTypeInfo {
        <DateTime<Utc> as Type<Postgres>>::type_info()
    }
}

impl<'r> Decode<'r, Postgres> for Stamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        match value.format() {
            PgValueFormat::Binary => {
                let bytes: [u8; 8] = value
                    .as_bytes()?
                    .try_into()
                    .map_err(|_| "a TIMESTAMPTZ that is not 8 bytes")?;
                Ok(Stamp::from_postgres_micros(i64::from_be_bytes(bytes)))
            }
            PgValueFormat::Text => match value.as_str()? {
                "infinity" => Ok(Stamp::Infinity),
                "-infinity" => Ok(Stamp::NegInfinity),
                text => Ok(Stamp::At(
                    DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%#z")?.to_utc(),
                )),
            },
        }
    }
}

impl Encode<'_, Postgres> for Stamp {
    fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
        buf.extend_from_slice(&self.to_postgres_micros().to_be_bytes());
        Ok(IsNull::No)
    }
}

impl Type<Postgres> for StoredArray<Numeric> {
    fn type_info() -> PgTypeInfo {
        <Vec<Decimal> as Type<Postgres>>::type_info()
    }
}

impl<'r> Decode<'r, Postgres> for StoredArray<Numeric> {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        array(value, numeric_from_binary)
    }
}

impl Type<Postgres> for StoredArray<String> {
    fn type_info() -> PgTypeInfo {
        <Vec<String> as Type<Postgres>>::type_info()
    }
}

impl<'r> Decode<'r, Postgres> for StoredArray<String> {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        array(value, |bytes| {
            Ok(String::from_utf8_lossy(bytes).into_owned())
        })
    }
}

/// PostgreSQL's binary array: dimensions, a has-NULLs flag, the element type, each
/// dimension's length and lower bound, then each element (its length, -1 for NULL, and
/// its bytes), row-major.
fn array<T>(
    value: PgValueRef<'_>,
    element: impl Fn(&[u8]) -> Result<T, BoxDynError>,
) -> Result<StoredArray<T>, BoxDynError> {
    if value.format() == PgValueFormat::Text {
        return Err("arrays are read in PostgreSQL's binary format only".into());
    }
    let bytes = value.as_bytes()?;
    let mut at = 0usize;
    let int = |at: &mut usize| -> Result<i32, BoxDynError> {
        let b = bytes
            .get(*at..*at + 4)
            .ok_or("an array shorter than its header")?;
        *at += 4;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let dimensions = int(&mut at)?.max(0) as usize;
    let _has_nulls = int(&mut at)?;
    let _element_type = int(&mut at)?;
    let mut count: usize = if dimensions == 0 { 0 } else { 1 };
    for _ in 0..dimensions {
        let length = int(&mut at)?.max(0) as usize;
        let _lower_bound = int(&mut at)?;
        count = count.saturating_mul(length);
    }
    let mut items = Vec::with_capacity(count.min(1 << 16));
    for _ in 0..count {
        let length = int(&mut at)?;
        if length < 0 {
            items.push(None);
            continue;
        }
        let end = at + length as usize;
        let data = bytes.get(at..end).ok_or("an array element past its end")?;
        at = end;
        items.push(Some(element(data)?));
    }
    Ok(StoredArray {
        dimensions: dimensions.max(1),
        items,
    })
}

/// A `JSON` or `JSONB` value's text, as stored: parsed per row by its reader, so a
/// document serde cannot hold (a number beyond a float's range, nesting past its limit)
/// flags its row instead of failing the query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText(pub String);

impl Type<Postgres> for JsonText {
    fn type_info() -> PgTypeInfo {
        <serde_json::Value as Type<Postgres>>::type_info()
    }

    fn compatible(ty: &PgTypeInfo) -> bool {
        <serde_json::Value as Type<Postgres>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Postgres> for JsonText {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        let jsonb = value.type_info().name() == "JSONB";
        let mut bytes = value.as_bytes()?;
        // Binary JSONB starts with its format's version byte (1); JSON is its text.
        if jsonb && value.format() == PgValueFormat::Binary && bytes.first() == Some(&1) {
            bytes = &bytes[1..];
        }
        Ok(JsonText(String::from_utf8_lossy(bytes).into_owned()))
    }
}
