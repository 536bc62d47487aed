//! Deterministic variety for generated messages: every value is a function
//! of the message's index, so a page is built on demand and the same index
//! always gives the same message.

/// SplitMix64: a well-mixed 64-bit value for `seed`.
pub(crate) fn mix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A mixed value for message `index` of the conversation salted `salt`.
pub(crate) fn hash(salt: u64, index: usize) -> u64 {
    mix(mix(salt) ^ index as u64)
}

/// One of `choices`, picked by `value`.
pub(crate) fn pick<T: Copy>(choices: &[T], value: u64) -> T {
    choices[(value % choices.len() as u64) as usize]
}

/// A version-4-shaped UUID whose first eight hex digits are `prefix` and
/// whose other digits come from `bits`.
pub(crate) fn uuid(prefix: u32, bits: u64) -> String {
    let more = mix(bits);
    format!(
        "{prefix:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
        (bits >> 48) & 0xffff,
        (bits >> 36) & 0xfff,
        8 + ((bits >> 34) & 0x3),
        (bits >> 22) & 0xfff,
        more & 0xffff_ffff_ffff,
    )
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// `value` in base 62, `width` digits, most significant first (higher
/// digits are dropped).
pub(crate) fn base62(mut value: u64, width: usize) -> String {
    let mut digits = vec![b'0'; width];
    for digit in digits.iter_mut().rev() {
        *digit = BASE62[(value % 62) as usize];
        value /= 62;
    }
    digits.into_iter().map(char::from).collect()
}

/// The value of base-62 `digits`; `None` if one is not a base-62 digit.
pub(crate) fn from_base62(digits: &str) -> Option<u64> {
    digits.bytes().try_fold(0u64, |acc, b| {
        let digit = BASE62.iter().position(|&d| d == b)? as u64;
        acc.checked_mul(62)?.checked_add(digit)
    })
}

/// What customers write.
pub(crate) const CUSTOMER_TEXTS: [&str; 12] = [
    "Hi, I ordered a jacket last week and it has not arrived yet.",
    "My order number is 48213.",
    "Can I change the delivery address?",
    "Thanks, that was quick!",
    "Is the store open on Sunday?",
    "The tracking link does not work for me.",
    "I would like to return the shoes, they are too small.",
    "Yes, tomorrow morning works.",
    "Could you send me the invoice again?",
    "Great, thank you for your help \u{1F642}",
    "Merci beaucoup ! \u{C0} demain.",
    "Hello?",
];

/// What agents, bots and flows write.
pub(crate) const AGENT_TEXTS: [&str; 12] = [
    "Hello! Thanks for reaching out, let me check that for you.",
    "Your parcel left our warehouse yesterday and should arrive within two days.",
    "I have updated the delivery address on your order.",
    "You can return the item free of charge within 30 days.",
    "Our store is open on Sundays from 10:00 to 16:00.",
    "Here is a new tracking link: https://example.com/track/48213",
    "I have sent the invoice to your e-mail address again.",
    "Is there anything else I can help you with?",
    "Have a great day!",
    "Sorry for the delay, we are looking into it.",
    "Your appointment is confirmed for Tuesday at 14:30.",
    "Please reply STOP to unsubscribe from these messages.",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base62_round_trips() {
        for value in [0, 1, 61, 62, 1_000_000, 56_800_235_583] {
            assert_eq!(from_base62(&base62(value, 6)), Some(value), "{value}");
        }
        assert_eq!(base62(62, 3), "010");
        assert_eq!(from_base62("a-b"), None);
    }

    #[test]
    fn uuids_keep_their_prefix_and_shape() {
        let id = uuid(0x0000_00ff, hash(7, 3));
        assert!(id.starts_with("000000ff-"), "{id}");
        assert_eq!(id.len(), 36);
        assert_eq!(id.as_bytes()[14], b'4');
        assert!(matches!(id.as_bytes()[19], b'8' | b'9' | b'a' | b'b'), "{id}");
    }
}
