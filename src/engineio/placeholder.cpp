// Replaced by the Engine.IO codec.
