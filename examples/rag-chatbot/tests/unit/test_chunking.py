import pytest

from rag_chatbot.chunking import chunk_text


def test_empty_text_gives_no_chunks():
    assert chunk_text("", max_chars=100) == []


def test_whitespace_only_gives_no_chunks():
    assert chunk_text(" \n\t  ", max_chars=100) == []


def test_none_gives_no_chunks():
    assert chunk_text(None, max_chars=100) == []


def test_short_text_is_one_chunk_with_whitespace_collapsed():
    assert chunk_text("  Hello\n\nworld.  ", max_chars=100) == ["Hello world."]


def test_splits_at_sentence_boundaries():
    text = "First sentence here. Second one is here. Third."
    assert chunk_text(text, max_chars=30) == [
        "First sentence here.",
        "Second one is here. Third.",
    ]


def test_no_chunk_exceeds_max_chars():
    text = " ".join(f"Sentence number {i} talks about embeddings." for i in range(50))
    chunks = chunk_text(text, max_chars=120, overlap=30)
    assert chunks
    assert all(len(c) <= 120 for c in chunks)


def test_without_overlap_every_word_is_kept_in_order():
    text = "Alpha beta gamma. Delta epsilon! Zeta eta theta iota? Kappa lambda mu nu xi."
    chunks = chunk_text(text, max_chars=20)
    assert " ".join(chunks) == text


def test_long_sentence_splits_at_word_boundaries():
    chunks = chunk_text("one two three four five six", max_chars=10)
    assert chunks == ["one two", "three four", "five six"]


def test_word_longer_than_max_chars_is_cut():
    assert chunk_text("abcdefghij", max_chars=4) == ["abcd", "efgh", "ij"]


def test_overlap_repeats_whole_words_from_previous_chunk():
    # The last 10 characters of "Red green blue." are "reen blue."; the
    # partial word is dropped so the next chunk starts with "blue.".
    chunks = chunk_text("Red green blue. Cyan magenta yellow.", max_chars=30, overlap=10)
    assert chunks == ["Red green blue.", "blue. Cyan magenta yellow."]


def test_overlap_is_dropped_when_it_would_not_fit():
    chunks = chunk_text("Aaaa bbbb. Cccccccccccccccccc.", max_chars=20, overlap=6)
    assert chunks == ["Aaaa bbbb.", "Cccccccccccccccccc."]


def test_invalid_max_chars_is_rejected():
    with pytest.raises(ValueError, match="max_chars"):
        chunk_text("text", max_chars=0)


def test_overlap_not_smaller_than_max_chars_is_rejected():
    with pytest.raises(ValueError, match="overlap"):
        chunk_text("text", max_chars=10, overlap=10)


def test_negative_overlap_is_rejected():
    with pytest.raises(ValueError, match="overlap"):
        chunk_text("text", max_chars=10, overlap=-1)
