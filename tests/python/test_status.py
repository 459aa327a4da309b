"""statusz.Status, statusz.worst and statusz.Kind."""

import pytest

import statusz
from statusz import Status


def test_str_is_the_document_spelling():
    assert [str(s) for s in Status] == ["Ok", "Warning", "Unknown", "Ko"]
    assert str(Status.KO) == "Ko"
    assert f"{Status.WARNING}" == "Warning"
    assert repr(Status.KO) == "<Status.KO: 3>"


def test_members_and_values():
    assert [s.name for s in Status] == ["OK", "WARNING", "UNKNOWN", "KO"]
    assert [s.value for s in Status] == [0, 1, 2, 3]
    assert Status(3) is Status.KO
    assert Status["WARNING"] is Status.WARNING


@pytest.mark.parametrize(
    "text, expected",
    [("ok", Status.OK), ("Ok", Status.OK), ("OK", Status.OK),
     ("warning", Status.WARNING), ("WARNING", Status.WARNING),
     ("unknown", Status.UNKNOWN), ("Unknown", Status.UNKNOWN),
     ("ko", Status.KO), ("kO", Status.KO)])
def test_parse_is_case_insensitive(text, expected):
    assert Status.parse(text) is expected


@pytest.mark.parametrize("text", ["", "okay", "fail", " ok", "ok ", "k"])
def test_parse_rejects_other_text(text):
    with pytest.raises(ValueError, match="unknown status"):
        Status.parse(text)


def test_parse_rejects_non_str():
    with pytest.raises(TypeError):
        Status.parse(3)


def test_ordering_from_best_to_worst():
    assert Status.OK < Status.WARNING < Status.UNKNOWN < Status.KO
    assert Status.KO > Status.UNKNOWN >= Status.UNKNOWN
    assert Status.OK <= Status.OK
    assert not Status.KO < Status.OK
    assert sorted([Status.KO, Status.OK, Status.UNKNOWN, Status.WARNING]) == list(Status)
    assert max([Status.WARNING, Status.KO, Status.OK]) is Status.KO


def test_ordering_against_other_types_is_a_type_error():
    with pytest.raises(TypeError):
        Status.OK < 1  # noqa: B015
    with pytest.raises(TypeError):
        "Ok" >= Status.OK  # noqa: B015
    assert Status.OK != 0
    assert Status.OK == Status.OK


def test_worst():
    assert statusz.worst(Status.OK, Status.WARNING) is Status.WARNING
    assert statusz.worst(Status.KO, Status.UNKNOWN) is Status.KO
    assert statusz.worst(Status.UNKNOWN, Status.WARNING) is Status.UNKNOWN
    assert statusz.worst(Status.OK, Status.OK) is Status.OK
    for a in Status:
        for b in Status:
            assert statusz.worst(a, b) is max(a, b)
    assert statusz.worst() is Status.OK
    assert statusz.worst(Status.WARNING) is Status.WARNING
    assert statusz.worst(Status.OK, Status.KO, Status.WARNING) is Status.KO


def test_worst_rejects_non_statuses():
    with pytest.raises(TypeError, match="must be a statusz.Status"):
        statusz.worst(Status.OK, "Ko")
    with pytest.raises(TypeError):
        statusz.worst(3)


def test_statuses_are_hashable():
    assert {Status.OK: 1, Status.KO: 2}[Status.KO] == 2
    assert len(set(Status)) == 4


def test_kind_members():
    assert [k.name for k in statusz.Kind] == [
        "GROUP", "METER", "COUNTER", "KEYED_COUNTER", "GAUGE", "HISTOGRAM", "TIMER"]
