"""Order lifecycle rules, status mapping, item mapping. No AWS, no HTTP."""
