"""Split document text into overlapping, sentence-aware chunks for embedding."""

import re

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_WHITESPACE = re.compile(r"\s+")


def chunk_text(text, max_chars, overlap=0):
    """Split text into chunks of at most max_chars characters.

    Whitespace runs are collapsed to single spaces. Chunks are packed with
    whole sentences where possible; a sentence longer than max_chars is split
    at word boundaries, and a word longer than max_chars is cut. When overlap
    is positive, each chunk after the first starts with up to overlap
    characters (whole words) from the end of the previous chunk, as long as
    the chunk still fits in max_chars.
    """
    if not isinstance(max_chars, int) or isinstance(max_chars, bool) or max_chars <= 0:
        raise ValueError(f"max_chars must be a positive integer, got {max_chars!r}")
    if not isinstance(overlap, int) or isinstance(overlap, bool) or overlap < 0:
        raise ValueError(f"overlap must be a non-negative integer, got {overlap!r}")
    if overlap >= max_chars:
        raise ValueError(f"overlap ({overlap}) must be smaller than max_chars ({max_chars})")
    if text is None:
        return []
    normalized = _WHITESPACE.sub(" ", text).strip()
    if not normalized:
        return []

    pieces = []
    for sentence in _SENTENCE_END.split(normalized):
        pieces.extend(_split_long(sentence, max_chars))

    chunks = []
    current = ""
    for piece in pieces:
        candidate = f"{current} {piece}" if current else piece
        if len(candidate) <= max_chars:
            current = candidate
            continue
        chunks.append(current)
        current = _with_overlap(current, piece, overlap, max_chars)
    if current:
        chunks.append(current)
    return chunks


def _split_long(sentence, max_chars):
    """Split one sentence into pieces of at most max_chars at word boundaries."""
    if len(sentence) <= max_chars:
        return [sentence]
    pieces = []
    current = ""
    for word in sentence.split(" "):
        while len(word) > max_chars:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:max_chars])
            word = word[max_chars:]
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= max_chars:
            current = candidate
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


def _with_overlap(previous, piece, overlap, max_chars):
    """Start a new chunk with the tail of previous, if it fits, then piece."""
    if overlap == 0:
        return piece
    tail = previous[-overlap:]
    if len(tail) < len(previous) and previous[-overlap - 1] != " ":
        # Drop the partial first word so the overlap is whole words only.
        _, _, tail = tail.partition(" ")
    tail = tail.strip()
    if tail and len(tail) + 1 + len(piece) <= max_chars:
        return f"{tail} {piece}"
    return piece
