"""HTTP edge helpers: request reading, sender authentication, resolver and error mapping."""
