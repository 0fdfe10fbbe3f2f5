import pytest

from multialpha.strategy.params import IbsParams


def test_defaults_are_valid_and_round_trip():
    assert IbsParams.from_mapping(IbsParams.defaults()) == IbsParams()


def test_session_times_parse_to_minutes():
    p = IbsParams(session_start="07:00", session_end="14:30", auto_close_time="15:00")
    assert (p.session_start_min, p.session_end_min, p.auto_close_min) == (420, 870, 900)
    assert IbsParams().auto_close_min == -1


@pytest.mark.parametrize("bad", [
    {"ibs_entry_high": 1.5}, {"ibs_entry_low": 0.5, "ibs_entry_high": 0.2}, {"stop_type": "trailing"},
    {"stop_pct": -0.01}, {"quantity": 0}, {"session_start": "8h30"}, {"auto_close_time": "25:00"},
])
def test_invalid_values_are_rejected_with_the_name(bad):
    with pytest.raises(ValueError, match=next(iter(bad)).split("_")[0]):
        IbsParams(**bad)


def test_unknown_parameter_is_named():
    with pytest.raises(ValueError, match="ibs_entry_hi"):
        IbsParams.from_mapping({"ibs_entry_hi": 0.1})
