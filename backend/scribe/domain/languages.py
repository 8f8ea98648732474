"""Language codes and names as Whisper (and so OpenAI's API) knows them.

Clients send ISO-639-1 codes (``en``), BCP-47 tags (``en-US``, ``zh-Hant-TW``) or English names
(``english``); the service works with Whisper's codes and reports names (``english``) where
OpenAI's responses do.
"""

from __future__ import annotations

from .errors import InvalidRequest

# Whisper's own table (openai-whisper's tokenizer.LANGUAGES, the 100 languages its multilingual
# models know), code -> lower-case English name, in Whisper's order.
LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian",
    "ko": "korean", "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish",
    "pl": "polish", "ca": "catalan", "nl": "dutch", "ar": "arabic", "sv": "swedish",
    "it": "italian", "id": "indonesian", "hi": "hindi", "fi": "finnish", "vi": "vietnamese",
    "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay", "cs": "czech",
    "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian",
    "la": "latin", "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak",
    "te": "telugu", "fa": "persian", "lv": "latvian", "bn": "bengali", "sr": "serbian",
    "az": "azerbaijani", "sl": "slovenian", "kn": "kannada", "et": "estonian",
    "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian",
    "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian",
    "sw": "swahili", "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala",
    "km": "khmer", "sn": "shona", "yo": "yoruba", "so": "somali", "af": "afrikaans",
    "oc": "occitan", "ka": "georgian", "be": "belarusian", "tg": "tajik", "sd": "sindhi",
    "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek",
    "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk",
    "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan",
    "tl": "tagalog", "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian",
    "ln": "lingala", "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese",
    "yue": "cantonese",
}  # fmt: skip

# Other spellings of a language: ISO codes Whisper writes differently, retired codes, and the
# alternative names Whisper itself accepts.
_ALIASES: dict[str, str] = {
    "jv": "jw", "nb": "no", "iw": "he", "in": "id", "ji": "yi", "fil": "tl", "cmn": "zh",
    "burmese": "my", "valencian": "ca", "flemish": "nl", "haitian": "ht",
    "letzeburgesch": "lb", "pushto": "ps", "panjabi": "pa", "moldavian": "ro",
    "moldovan": "ro", "sinhalese": "si", "castilian": "es", "mandarin": "zh",
    "filipino": "tl", "farsi": "fa", "norwegian bokmal": "no", "bokmal": "no",
}  # fmt: skip

_BY_NAME = {name: code for code, name in LANGUAGES.items()}


def language_code(value: str, *, param: str = "language") -> str:
    """Whisper's code for an ISO-639-1 code, a BCP-47 tag or an English name.

    ``en``, ``EN``, ``en-US``, ``en_GB``, ``english`` all give ``en``; raises InvalidRequest
    (naming ``param``) for anything else.
    """
    text = value.strip().lower()
    if text in LANGUAGES:
        return text
    if text in _BY_NAME:
        return _BY_NAME[text]
    if text in _ALIASES:
        return _ALIASES[text]
    primary = text.replace("_", "-").split("-", 1)[0]
    if primary in LANGUAGES:
        return primary
    if primary in _ALIASES:
        return _ALIASES[primary]
    raise InvalidRequest(
        f"Unsupported {param} {value!r}. Give an ISO-639-1 code such as 'en', 'de', 'fr' or "
        "'ja' (a BCP-47 tag such as 'en-US' works too), or leave it out to detect the language.",
        param=param,
        code="unsupported_language",
    )


def language_name(code: str) -> str:
    """Whisper's English name for a code (``en`` -> ``english``); an unknown code unchanged."""
    return LANGUAGES.get(code.strip().lower(), code)
