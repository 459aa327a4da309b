"""statusz.KeyedCounter."""

import pytest

import statusz

BOT = "0df33792-2271-472b-a817-bb0f556c016d"
BOT2 = "3c1556aa-c715-464e-8d0d-9655399c2323"


def test_inc_and_read():
    k = statusz.KeyedCounter()
    k.inc(BOT)
    k.inc(BOT, 4)
    k.inc(BOT2, n=2)
    assert k[BOT] == 5
    assert k[BOT2] == 2
    assert k["never"] == 0
    assert len(k) == 2
    assert k.size == 2
    assert dict(k.items()) == {BOT: 5, BOT2: 2}
    assert dict(k) == {BOT: 5, BOT2: 2}
    assert k.snapshot() == {BOT: 5, BOT2: 2}


def test_first_counted_order():
    k = statusz.KeyedCounter()
    for key in ["c", "a", "b", "a", "c"]:
        k.inc(key)
    assert list(k) == ["c", "a", "b"]
    assert k.keys() == ["c", "a", "b"]
    assert k.values() == [2, 2, 1]
    assert k.items() == [("c", 2), ("a", 2), ("b", 1)]
    assert list(k.snapshot()) == ["c", "a", "b"]


def test_contains_and_get():
    k = statusz.KeyedCounter()
    k.inc(BOT)
    k.inc("zero", 0)  # admitted with a count of 0
    assert BOT in k
    assert "zero" in k
    assert k["zero"] == 0
    assert "absent" not in k
    assert 3 not in k
    assert None not in k
    assert k.get(BOT) == 1
    assert k.get("zero") == 0
    assert k.get("absent") is None
    assert k.get("absent", -1) == -1


def test_keys_must_be_str():
    k = statusz.KeyedCounter()
    with pytest.raises(TypeError, match="key must be str, not int"):
        k.inc(5)
    with pytest.raises(TypeError, match="key must be str, not bytes"):
        k.inc(BOT.encode())
    with pytest.raises(TypeError, match="key must be str, not NoneType"):
        k.inc(None)
    with pytest.raises(TypeError, match="key must be str"):
        k[5]
    assert len(k) == 0


def test_counts_must_be_non_negative_ints():
    k = statusz.KeyedCounter()
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        k.inc(BOT, -1)
    with pytest.raises(TypeError, match="n must be an int, not float"):
        k.inc(BOT, 1.0)
    with pytest.raises(TypeError, match="missing required argument 'key'"):
        k.inc()
    with pytest.raises(TypeError, match="at most 2 arguments"):
        k.inc(BOT, 1, 2)
    assert k[BOT] == 0
    assert BOT not in k
    k.inc(key=BOT, n=3)
    assert k[BOT] == 3


def test_bounded_keys_overflow_and_dropped():
    k = statusz.KeyedCounter(max_keys=2)
    assert k.max_keys == 2
    k.inc("a")
    k.inc("b", 2)
    k.inc("c", 5)       # refused: the map is full
    k.inc("d")          # refused
    k.inc("a", 10)      # existing keys still count
    assert k.dropped == 2
    assert k.size == 2
    assert k["c"] == 0
    assert "c" not in k
    assert k[statusz.KeyedCounter.OVERFLOW_KEY] == 6
    assert k.OVERFLOW_KEY == "__overflow__"
    assert k.items() == [("a", 11), ("b", 2), ("__overflow__", 6)]
    assert len(k) == 3 == len(list(k))
    assert "__overflow__" in k


def test_long_keys_overflow():
    k = statusz.KeyedCounter(max_key_bytes=16)
    assert k.max_key_bytes == 16
    k.inc("x" * 16)
    k.inc("x" * 17)
    k.inc("é" * 9)      # 18 bytes in UTF-8
    assert k.items() == [("x" * 16, 1), ("__overflow__", 2)]
    assert k.dropped == 2


def test_non_ascii_and_unencodable_keys():
    k = statusz.KeyedCounter()
    k.inc("bot-é")
    k.inc("bot-é")
    k.inc("機器人")
    assert k["bot-é"] == 2
    assert k["機器人"] == 1
    # A lone surrogate cannot be UTF-8: the key is stored repaired (each bad
    # byte becomes U+FFFD), as the C++ library does for invalid UTF-8.
    k.inc("a\udc80b")
    assert k["a\udc80b"] == 1
    assert "a\udc80b" in k
    assert "a\ufffd\ufffd\ufffdb" in k.keys()


def test_bad_sizes():
    with pytest.raises(ValueError, match="max_keys must be > 0"):
        statusz.KeyedCounter(max_keys=0)
    with pytest.raises(ValueError, match="max_keys must be > 0"):
        statusz.KeyedCounter(max_keys=-5)
    with pytest.raises(ValueError, match="max_key_bytes must be > 0"):
        statusz.KeyedCounter(max_key_bytes=0)
    # "No limit" is refused rather than reserved (2**24 keys at most).
    for n in (2**24 + 1, 2**63 - 1):
        with pytest.raises(ValueError, match="max_keys must be <= 16777216"):
            statusz.KeyedCounter(max_keys=n)
        with pytest.raises(ValueError, match="max_keys must be <= 16777216"):
            statusz.Registry().keyed("a.b", max_keys=n)


def test_repr():
    k = statusz.KeyedCounter(max_keys=1)
    k.inc("a")
    k.inc("b")
    assert repr(k) == "KeyedCounter(size=1, dropped=1, max_keys=1)"


def test_registry_keyed(reg):
    path = "applications.servlet.requests.chatHttp.errorsByBot"
    k = reg.keyed(path, max_keys=3)
    assert reg.keyed(path, max_keys=50).max_keys == 3  # the existing one
    k.inc(BOT, 24)
    k.inc(BOT2, 10)
    doc = reg.snapshot()
    assert doc["applications"]["servlet"]["requests"]["chatHttp"]["errorsByBot"] == {
        BOT: 24, BOT2: 10}
    with pytest.raises(ValueError, match="max_keys must be > 0"):
        reg.keyed("applications.other", max_keys=0)
    assert "applications.other" not in reg
