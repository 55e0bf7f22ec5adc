"""The Segmind client: HTTP, the v1/v2 protocol, answers mapped to errors, and the money rules."""
