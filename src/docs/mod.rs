//! The guide: how to gate functions, run a gate, test licensed code, and what
//! the security model is.
