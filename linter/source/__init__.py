"""The source view: what libcst tells about a file, without running it."""
