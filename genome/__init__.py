"""The three genome files as data: parse, edit and render text. No I/O, no clock, no git."""

from genome.errors import GenomeFileError

__all__ = ["GenomeFileError"]
