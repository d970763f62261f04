// Replaced by the WebSocket codec.
