"""Equipment and network works per classroom: catalogue, lifecycle, socle compliance."""
