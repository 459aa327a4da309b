"""statusz.Counter."""

import pytest

import statusz


def test_inc_dec_set_value():
    c = statusz.Counter()
    assert c.value == 0
    c.inc()
    c.inc(4)
    c.dec()
    c.dec(n=2)
    assert c.value == 2
    c.set(9)
    assert c.value == 9
    assert int(c) == 9
    c.set(value=-3)
    assert int(c) == -3


def test_initial_value_and_repr():
    c = statusz.Counter(41)
    c.inc()
    assert repr(c) == "Counter(value=42)"
    assert statusz.Counter(value=-5).value == -5


def test_signed_amounts():
    c = statusz.Counter()
    c.inc(-3)
    assert c.value == -3
    c.dec(-5)
    assert c.value == 2
    c.set(2**63 - 1)
    assert c.value == 2**63 - 1
    c.set(-2**63)
    assert c.value == -2**63


@pytest.mark.parametrize("method", ["inc", "dec", "set"])
def test_out_of_range_and_wrong_types(method):
    c = statusz.Counter(7)
    f = getattr(c, method)
    with pytest.raises(OverflowError, match="signed 64-bit"):
        f(2**63)
    with pytest.raises(OverflowError):
        f(-2**63 - 1)
    with pytest.raises(TypeError, match="must be an int, not float"):
        f(1.5)
    with pytest.raises(TypeError, match="must be an int, not str"):
        f("1")
    assert c.value == 7


def test_set_needs_a_value():
    c = statusz.Counter()
    with pytest.raises(TypeError, match="missing required argument 'value'"):
        c.set()
    with pytest.raises(TypeError, match="at most 1 argument"):
        c.inc(1, 2)


def test_constructor_rejects_out_of_range():
    with pytest.raises(TypeError):
        statusz.Counter(2**64)
    with pytest.raises(TypeError):
        statusz.Counter("3")


def test_registry_counter_is_get_or_create(reg):
    reg.counter("volumes.connectedPeople").inc(3)
    reg.counter("volumes.connectedPeople").dec()
    assert reg.counter("volumes.connectedPeople").value == 2
    assert reg.snapshot()["volumes"]["connectedPeople"] == 2
