//! The DNS message readers (`dns::message`): names with compression
//! pointers, questions and resource records, read from any offset of any
//! message, with and without their text.
//!
//! Input layout: byte 0 is the offset to read at (modulo the message's
//! length + 1), byte 1 chooses what to read (bit 0: keep the text; bits 1–2:
//! a name, a question, a record, or every record from the offset on); the
//! rest is the message.
//!
//! Checks: a name's end lies after where it starts and within the message;
//! its text is at most `MAX_NAME_TEXT` bytes, empty when the text was not
//! asked for, and never empty (the root is `.`) when it was and the name is
//! whole; reading it without the text finds the same end; a question or
//! record ends after its name and within the message, and a record's data
//! lies within the message; reading records one after another ends.
#![no_main]

use libfuzzer_sys::fuzz_target;
use otsensor::protocols::dns::message::{self, MAX_NAME_TEXT, Name};

fn check_name(msg: &[u8], at: usize, keep_text: bool, name: &Name) {
    if let Some(end) = name.end {
        assert!(end > at && end <= msg.len(), "name at {at} ends at {end}");
    }
    assert!(
        name.text.len() <= MAX_NAME_TEXT,
        "{} bytes of text",
        name.text.len()
    );
    if !keep_text {
        assert!(name.text.is_empty(), "text {:?} not asked for", name.text);
    } else if name.error.is_none() {
        assert!(!name.text.is_empty(), "a whole name without text");
    }
    let bare = message::read_name(msg, at, false);
    assert_eq!(bare.end, name.end, "the end depends on keeping the text");
}

fuzz_target!(|data: &[u8]| {
    let [offset, mode, msg @ ..] = data else {
        return;
    };
    let at = usize::from(*offset) % (msg.len() + 1);
    let keep_text = mode & 1 == 1;
    match (mode >> 1) & 3 {
        0 => check_name(msg, at, keep_text, &message::read_name(msg, at, keep_text)),
        1 => match message::read_question(msg, at, keep_text) {
            Ok((question, next)) => {
                check_name(msg, at, keep_text, &question.name);
                assert_eq!(Some(next), question.name.end.map(|e| e + 4));
                assert!(next <= msg.len());
            }
            Err(name) => assert!(name.error.is_some(), "an error without a reason"),
        },
        _ => {
            let mut at = at;
            loop {
                match message::read_record(msg, at, keep_text) {
                    Ok((record, next)) => {
                        check_name(msg, at, keep_text, &record.name);
                        assert!(next > at && next <= msg.len());
                        assert_eq!(record.data(msg).len(), record.data_len);
                        assert_eq!(record.data_at + record.data_len, next);
                        at = next;
                    }
                    Err(name) => {
                        assert!(name.error.is_some(), "an error without a reason");
                        break;
                    }
                }
                if mode >> 1 & 3 == 2 || at >= msg.len() {
                    break;
                }
            }
        }
    }
});
