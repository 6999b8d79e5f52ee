"""Message text: entity detection and parse modes, with offsets in UTF-16 code units as Telegram
counts them."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from sandbox import errors

_AUTO_ENTITY = re.compile(
    r"(?P<bot_command>(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?)"
    r"|(?P<email>\b[\w.+-]+@[\w-]+\.[\w.-]+\b)"
    r"|(?P<mention>(?<![\w@])@[A-Za-z0-9_]{4,32})"
    r"|(?P<hashtag>(?<![\w#])#\w+)"
    r"|(?P<url>\b(?:https?://|tg://|www\.)[^\s<>\"]+|\bt\.me/[^\s<>\"]+)"
)


def utf16_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def detect_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram recognises by itself in plain text (commands, mentions, links)."""
    if not any(c in text for c in "/@#.:"):
        return []
    found: list[dict[str, Any]] = []
    ascii_only = text.isascii()
    for match in _AUTO_ENTITY.finditer(text):
        kind = match.lastgroup or "url"
        start, end = match.span()
        if ascii_only:
            offset, length = start, end - start
        else:
            offset = utf16_len(text[:start])
            length = utf16_len(text[start:end])
        found.append({"offset": offset, "length": length, "type": kind})
    return found


def command_of(text: str | None) -> tuple[str, str | None] | None:
    """`("/start", "mybot")` for `/start@mybot payload`, None when the text is no command."""
    if not text or not text.startswith("/"):
        return None
    head = text.split(maxsplit=1)[0]
    match = re.fullmatch(r"(/[A-Za-z0-9_]{1,64})(?:@([A-Za-z0-9_]{3,32}))?", head)
    if match is None:
        return None
    return match.group(1), match.group(2)


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


class _HtmlEntities(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int, dict[str, Any]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_TAGS.get(tag)
        if kind is None:
            raise errors.bad_request(
                errors.CANT_PARSE_ENTITIES.format(
                    detail=f'Unsupported start tag "{tag}" at byte offset {self._offset()}'
                )
            )
        extra: dict[str, Any] = {}
        values = dict(attrs)
        if tag == "a":
            href = values.get("href") or ""
            if href.startswith("tg://user?id="):
                kind = "text_mention"
                extra["user"] = {
                    "id": int(href.split("=", 1)[1]),
                    "is_bot": False,
                    "first_name": "",
                }
            else:
                extra["url"] = href
        if tag == "tg-emoji":
            extra["custom_emoji_id"] = values.get("emoji-id") or ""
        self.stack.append((tag, self.length, {"type": kind, **extra}))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise errors.bad_request(
                errors.CANT_PARSE_ENTITIES.format(
                    detail=f'Unmatched end tag at byte offset {self._offset()}, expected "</'
                    f'{self.stack[-1][0] if self.stack else tag}>", found "</{tag}>"'
                )
            )
        _, start, entity = self.stack.pop()
        if self.length > start:
            self.entities.append({"offset": start, "length": self.length - start, **entity})

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)

    def _offset(self) -> int:
        line, column = self.getpos()
        lines = self.rawdata.split("\n")
        return len("\n".join(lines[: line - 1]).encode()) + (1 if line > 1 else 0) + column


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    parser = _HtmlEntities()
    parser.feed(text)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise errors.bad_request(
            errors.CANT_PARSE_ENTITIES.format(
                detail=f'Can\'t find end tag corresponding to start tag "{tag}"'
            )
        )
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


_MD_MARKS = {"*": "bold", "_": "italic", "`": "code", "~": "strikethrough", "||": "spoiler"}


def parse_markdown(text: str, v2: bool) -> tuple[str, list[dict[str, Any]]]:
    """Markdown and MarkdownV2, the common subset: *bold* _italic_ `code` ~strike~ ||spoiler||
    [text](url) and backslash escapes (V2)."""
    out: list[str] = []
    length = 0
    open_marks: dict[str, int] = {}
    entities: list[dict[str, Any]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if v2 and char == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            length += utf16_len(text[i + 1])
            i += 2
            continue
        mark = "||" if v2 and text.startswith("||", i) else char
        if mark in _MD_MARKS and (v2 or mark in "*_`"):
            if mark in open_marks:
                start = open_marks.pop(mark)
                if length > start:
                    entities.append(
                        {"offset": start, "length": length - start, "type": _MD_MARKS[mark]}
                    )
            else:
                open_marks[mark] = length
            i += len(mark)
            continue
        if char == "[":
            close = text.find("](", i)
            end = text.find(")", close + 2) if close != -1 else -1
            if close != -1 and end != -1:
                label = text[i + 1 : close]
                out.append(label)
                entities.append(
                    {
                        "offset": length,
                        "length": utf16_len(label),
                        "type": "text_link",
                        "url": text[close + 2 : end],
                    }
                )
                length += utf16_len(label)
                i = end + 1
                continue
        out.append(char)
        length += utf16_len(char)
        i += 1
    if open_marks:
        raise errors.bad_request(
            errors.CANT_PARSE_ENTITIES.format(
                detail="Can't find end of the entity starting at byte offset "
                f"{min(open_marks.values())}"
            )
        )
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


def format_text(
    text: str, parse_mode: str | None, entities: list[dict[str, Any]] | None
) -> tuple[str, list[dict[str, Any]]]:
    """The stored text and entities of a message sent with `parse_mode` or explicit `entities`."""
    mode = (parse_mode or "").lower()
    if entities:
        return text, entities
    if mode == "html":
        text, found = parse_html(text)
    elif mode in ("markdown", "markdownv2"):
        text, found = parse_markdown(text, v2=mode == "markdownv2")
    else:
        found = []
    auto = detect_entities(text)
    if auto:
        found = sorted(found + auto, key=lambda e: (e["offset"], -e["length"]))
    return text, found
