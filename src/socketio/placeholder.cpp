// Replaced by the Socket.IO codec.
