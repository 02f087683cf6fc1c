from __future__ import annotations

import base64
import hashlib
import hmac
import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qinghe.core.crypto import blind_index, decrypt, encrypt, encrypt_many
from qinghe.core.logging import MaskPIIFilter
from qinghe.core.masking import mask_id_number, mask_name, mask_phone, scrub_text


def test_masks_follow_the_one_house_style() -> None:
    assert mask_id_number("440784199901011234") == "440784********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138 1234 5678") == "138****5678"
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳娜娜") == "欧***"
    assert mask_id_number("") == mask_phone(None) == mask_name("") == ""


def test_scrub_text_masks_ids_and_phones_inside_sentences() -> None:
    text = "学生 44078419990101123X 的电话 13812345678，备用15900001111。"
    assert scrub_text(text) == "学生 440784********123X 的电话 138****5678，备用159****1111。"


@given(st.text(alphabet="0123456789Xx一二三abc ", max_size=40))
def test_encryption_round_trips_and_never_contains_the_plaintext(value: str) -> None:
    token = encrypt(value)
    assert decrypt(token) == value
    if len(value) >= 4:
        assert value not in token


def test_the_same_value_encrypts_differently_but_indexes_the_same() -> None:
    assert encrypt("13812345678") != encrypt("13812345678")
    assert blind_index("13812345678", purpose="phone") == blind_index(
        "13812345678", purpose="phone"
    )
    assert blind_index("13812345678", purpose="phone") != blind_index("13812345678", purpose="id")


def test_encrypt_many_gives_the_stored_form_of_encrypt_with_a_fresh_nonce_each() -> None:
    values = ["440784200001011234", "13800138000", "13800138000", '["张三", "男"]']
    tokens = encrypt_many(values)
    assert [decrypt(token) for token in tokens] == values
    assert all(token.startswith("v1:") for token in tokens)
    assert [len(token) for token in tokens] == [len(encrypt(value)) for value in values]
    nonces = {base64.b64decode(token[3:])[:12] for token in tokens}
    assert len(nonces) == 4  # the two equal phones too
    assert encrypt_many([]) == []


def test_blind_index_is_the_keyed_sha256_it_always_was() -> None:
    from django.conf import settings

    key = base64.b64decode(settings.BLIND_INDEX_KEY)
    for value, purpose in (("440784200001011234", "id"), ("13800138000", "phone"), ("", "id")):
        expected = hmac.new(key, f"{purpose}\x00{value}".encode(), hashlib.sha256).hexdigest()
        assert blind_index(value, purpose=purpose) == expected


def test_tampered_ciphertext_is_rejected() -> None:
    token = encrypt("440784199901011234")
    broken = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    with pytest.raises(Exception):  # noqa: B017 - cryptography raises InvalidTag
        decrypt(broken)


def test_log_records_are_scrubbed_before_they_are_written() -> None:
    record = logging.LogRecord(
        "x",
        logging.INFO,
        __file__,
        1,
        "phone %s id %s",
        ("13812345678", "440784199901011234"),
        None,
    )
    assert MaskPIIFilter().filter(record) is True
    assert record.getMessage() == "phone 138****5678 id 440784********1234"
