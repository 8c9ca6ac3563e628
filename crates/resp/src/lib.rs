//! RESP2/RESP3 codec for tern.
//!
//! Three pieces, none of which touches a socket or the keyspace:
//! - [`request`]: the server's zero-copy request parser (multibulk and inline commands), with
//!   Redis's protocol limits and byte-identical protocol error texts.
//! - [`reply`]: the server's reply writer, which encodes straight into an output buffer and
//!   adapts RESP3 types (maps, sets, doubles, nulls, pushes) to RESP2 for older connections.
//! - [`frame`]: a full [`Frame`] value type with a decoder and encoder, used by clients, tests
//!   and replication consumers that read what a server writes.

pub mod frame;
pub mod reply;
pub mod request;

pub use frame::{DecodeError, Frame};
pub use reply::{Proto, ReplyWriter};
pub use request::{encode_command, ParseError, Request, RequestLimits, RequestParser};
