"""QR scan tokens, label formats as data, and the one label renderer."""
