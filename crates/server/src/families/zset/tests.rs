//! ZSet command tests through the socket-free harness: replies, errors, encodings and the
//! propagated forms.

use crate::testkit::frames::{bulk, bulks, err, int, ok};
use crate::testkit::TestDb;
use tern_resp::Frame;
