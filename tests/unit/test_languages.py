"""Language codes, tags and names, as clients send them and as OpenAI reports them."""

import pytest

from scribe.domain.errors import InvalidRequest
from scribe.domain.languages import LANGUAGES, language_code, language_name


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("en", "en"),
        ("EN", "en"),
        (" en ", "en"),
        ("en-US", "en"),
        ("en_GB", "en"),
        ("zh-Hant-TW", "zh"),
        ("english", "en"),
        ("German", "de"),
        ("haitian creole", "ht"),
        ("yue", "yue"),
        ("haw", "haw"),
        ("jv", "jw"),  # ISO 639-1 Javanese; Whisper writes jw
        ("nb-NO", "no"),
        ("iw", "he"),
        ("mandarin", "zh"),
    ],
)
def test_codes_tags_and_names_become_whisper_codes(given: str, code: str) -> None:
    assert language_code(given) == code


@pytest.mark.parametrize("given", ["xx", "klingon", "", "-", "e"])
def test_anything_else_is_a_400_naming_the_parameter(given: str) -> None:
    with pytest.raises(InvalidRequest) as err:
        language_code(given, param="languages")
    assert err.value.param == "languages" and err.value.code == "unsupported_language"


def test_whispers_hundred_languages_have_names() -> None:
    assert len(LANGUAGES) == 100
    assert language_name("en") == "english" and language_name("yue") == "cantonese"
    assert language_name("EN") == "english" and language_name("xx") == "xx"
