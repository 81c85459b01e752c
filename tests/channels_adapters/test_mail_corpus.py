"""The mail fixture corpus (tests/fixtures/mail/) checked as data, with the standard library only.

The email parser is tested against this corpus elsewhere; these tests keep the corpus itself honest: every
file described, every description complete, thread pointers that point at the right message, generated
files that the committed generator really produces, and the variety the corpus promises actually there.
"""

from __future__ import annotations

import email
import hashlib
import importlib.util
import json
import re
import sys
from email import policy
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"
MANIFEST = CORPUS / "expected.json"
KEYS = {
    "from",
    "from_name",
    "to",
    "cc",
    "subject",
    "message_id",
    "in_reply_to",
    "references",
    "text_contains",
    "has_html",
    "attachments",
    "auto",
    "thread",
    "notes",
}
OPTIONAL = {"text_excludes", "bounce_of"}
ATTACHMENT_KEYS = {"filename", "content_type", "size", "inline"}
MESSAGE_ID = re.compile(r"^<[^<>\s]+>$")


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def files() -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(CORPUS.glob("*.eml"))}


def test_it_holds_at_least_150_messages(files):
    assert len(files) >= 150


def test_it_describes_every_file_and_only_files_that_exist(manifest, files):
    assert sorted(manifest) == sorted(files)


def test_it_keeps_the_manifest_sorted_by_file_name(manifest):
    assert list(manifest) == sorted(manifest)


def test_it_gives_every_entry_every_key_with_the_right_shape(manifest):
    for name, entry in manifest.items():
        assert KEYS <= set(entry) <= KEYS | OPTIONAL, name
        assert entry["from"] == entry["from"].lower(), name
        assert all(a == a.lower() for a in entry["to"] + entry["cc"]), name
        assert entry["subject"] == " ".join(entry["subject"].split()), name
        for key in ("message_id", "in_reply_to"):
            assert entry[key] is None or MESSAGE_ID.match(entry[key]), (name, key)
        assert all(MESSAGE_ID.match(ref) for ref in entry["references"]), name
        assert len(entry["text_contains"]) <= 3 and all(entry["text_contains"]), name
        assert isinstance(entry["has_html"], bool), name
        assert entry["auto"] in (None, "auto-reply", "bounce", "list"), name
        assert entry["notes"].strip() and "\n" not in entry["notes"], name
        for attachment in entry["attachments"]:
            assert set(attachment) == ATTACHMENT_KEYS, name
            assert isinstance(attachment["size"], int) and attachment["size"] >= 0, name


def test_it_names_the_original_message_of_bounces_and_only_of_bounces(manifest, files):
    for name, entry in manifest.items():
        if entry["auto"] == "bounce":
            assert "bounce_of" in entry, name
            assert entry["bounce_of"] is None or entry["bounce_of"].encode() in files[name], name
        else:
            assert "bounce_of" not in entry, name


def test_it_threads_each_reply_to_an_existing_message_whose_id_it_answers(manifest):
    threaded = 0
    for name, entry in manifest.items():
        if entry["thread"] is None:
            continue
        threaded += 1
        parent = manifest.get(entry["thread"])
        assert parent is not None, f"{name} replies to missing {entry['thread']}"
        assert parent["message_id"] == entry["in_reply_to"], name
    assert threaded >= 10


def test_it_takes_every_expected_message_id_from_the_bytes_of_its_file(manifest, files):
    for name, entry in manifest.items():
        ids = [entry["message_id"], entry["in_reply_to"], *entry["references"]]
        for message_id in filter(None, ids):
            assert message_id.encode() in files[name], (name, message_id)


def test_it_holds_no_two_identical_files(files):
    digests = [hashlib.sha256(data).hexdigest() for data in files.values()]
    assert len(set(digests)) == len(digests)


def test_it_stays_under_five_megabytes_with_one_big_file(files):
    assert sum(map(len, files.values())) < 5 * 1024 * 1024
    assert [name for name, data in files.items() if len(data) > 200_000] == ["broken-one-megabyte-line.eml"]


def test_it_matches_what_the_committed_generator_writes(manifest, files):
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    generator = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = generator  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(generator)
    finally:
        del sys.modules[spec.name]
    generated = generator.generate()
    on_disk = {name for name in files if name.startswith(generator.PREFIX)}
    assert set(generated) == on_disk
    for name, built in generated.items():
        assert built.data == files[name], f"{name} differs: rerun make_corpus.py"
        assert manifest[name] == {**generator.DEFAULT, **built.entry}, name


def test_it_gives_attachment_sizes_the_standard_library_agrees_with(manifest, files):
    """Sizes are decoded bytes; message/* and text/rfc822-headers parts count their raw body in the file,
    which the standard library does not expose, so those are left to the generator and the author."""
    for name, entry in manifest.items():
        message = email.message_from_bytes(files[name], policy=policy.default)
        leaves = [part for part in message.walk() if not part.is_multipart()]
        for attachment in entry["attachments"]:
            if attachment["content_type"].startswith("message/") or attachment["content_type"] == "text/rfc822-headers":
                continue
            assert any(
                part.get_content_type() == attachment["content_type"]
                and (part.get_filename() or "") == attachment["filename"]
                and len(part.get_payload(decode=True) or b"") == attachment["size"]
                for part in leaves
            ), (name, attachment)


def count(files: dict[str, bytes], pattern: bytes) -> int:
    return sum(1 for data in files.values() if re.search(pattern, data, re.IGNORECASE | re.MULTILINE))


@pytest.mark.parametrize(
    "what, pattern",
    [
        ("Outlook Thread-Index", rb"^Thread-Index:"),
        ("Exchange X-MS-* headers", rb"^X-MS-"),
        ("winmail.dat", rb"application/ms-tnef"),
        ("Apple Mail", rb"Apple-Mail"),
        ("Thunderbird", rb"^User-Agent: Mozilla Thunderbird"),
        ("iOS Mail", rb"^X-Mailer: iPhone Mail"),
        ("Android mail", rb"email\.android\.com|android\.email"),
        ("Yahoo", rb"YMailNorrin"),
        ("Gmail", rb"@mail\.gmail\.com>"),
        ("Outlook quoted history", rb"^Sent: "),
        ("signature delimiter", rb"^-- \r?$"),
        ("RFC 2047 B words", rb"=\?[^?]+\?B\?"),
        ("RFC 2047 Q words", rb"=\?[^?]+\?Q\?"),
        ("RFC 2231 filenames", rb"filename\*(0\*)?="),
        ("quoted-printable", rb"^Content-Transfer-Encoding: quoted-printable"),
        ("base64", rb"^Content-Transfer-Encoding: base64"),
        ("multipart/alternative", rb"multipart/alternative"),
        ("multipart/related with cid:", rb"src=\"?cid:"),
        ("forwarded message/rfc822", rb"^Content-Type: message/rfc822"),
        ("calendar invites", rb"^Content-Type: text/calendar"),
        ("multipart/report DSNs", rb"multipart/report"),
        ("text/rfc822-headers", rb"text/rfc822-headers"),
        ("List-Id", rb"^List-Id:"),
        ("List-Unsubscribe", rb"^List-Unsubscribe:"),
        ("Auto-Submitted", rb"^Auto-Submitted: auto-"),
        ("X-Autoreply", rb"^X-Autoreply:"),
        ("X-Autorespond", rb"^X-Autorespond:"),
        ("Precedence bulk", rb"^Precedence: bulk"),
        ("Precedence junk", rb"^Precedence: junk"),
        ("Precedence auto_reply", rb"^Precedence: auto_reply"),
        ("Automatic reply", rb"^Subject: Automatic reply:"),
        ("X-Auto-Response-Suppress", rb"^X-Auto-Response-Suppress:"),
        ("mailer-daemon senders", rb"^From: .*mailer-daemon"),
        ("NUL bytes", rb"\x00"),
        ("CRLF line ends", rb"\r\n"),
    ],
)
def test_it_covers_each_kind_of_mail_several_times(files, what, pattern):
    assert count(files, pattern) >= 2, what


@pytest.mark.parametrize(
    "charset",
    [
        "utf-8",
        "iso-8859-1",
        "iso-8859-15",
        "windows-1252",
        "koi8-r",
        "shift_jis",
        "iso-2022-jp",
        "gb2312",
        "gbk",
        "big5",
        "euc-kr",
        "utf-16",
        "x-unknown",
    ],
)
def test_it_covers_each_charset(files, charset):
    assert count(files, rb"charset=\"?" + re.escape(charset.encode()) + rb"\"?") >= 1, charset


def test_it_holds_html_only_mail(files):
    tops = [email.message_from_bytes(data, policy=policy.compat32).get_content_type() for data in files.values()]
    assert tops.count("text/html") >= 5


def test_it_covers_each_structure_and_breakage_named_in_the_manifest(manifest):
    notes = " ".join(entry["notes"].lower() for entry in manifest.values())
    for phrase in [
        "nested",
        "zero-byte",
        "no filename",
        "to: x@",
        "missing date",
        "duplicated subject",
        "no message-id",
        "folded",
        "closing boundary",
        "boundary never appears",
        "nul bytes",
        "1 mib",
        "raw utf-8 in headers",
        "wrong-declared",
        "no charset",
        "forged",
        "cc",
    ]:
        assert phrase in notes, phrase
