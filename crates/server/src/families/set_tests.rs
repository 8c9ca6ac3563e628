//! Set command tests through the socket-free harness: replies, encodings and propagated forms.
