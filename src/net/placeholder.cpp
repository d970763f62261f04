// Replaced by the event loop implementation.
