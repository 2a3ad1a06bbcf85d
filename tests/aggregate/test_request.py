"""Request files: the good shape parses to a canonical request; every bad path says why."""

import datetime as dt

import pytest

from linkage.aggregate.request import RequestError, load_request, parse_request, validate_request

GOOD = {
    "authorisation": "IVC-24-001",
    "population": "vdab",
    "period": 2022,
    "measures": ["persons", "outflow_to_work_12m"],
    "dimensions": ["sex", "age_band"],
    "reference_date": dt.date(2024, 12, 31),
}


def with_(**changes):
    data = dict(GOOD)
    for key, value in changes.items():
        if value is None:
            data.pop(key)
        else:
            data[key] = value
    return data


def test_a_good_request_fills_in_defaults():
    request = validate_request(GOOD)
    assert request.population == "vdab" and request.periods == (2022,)
    assert [d.key for d in request.dimensions] == ["sex", "age_band:labour"]
    assert request.reference_date == dt.date(2024, 12, 31)


def test_toml_text_round_trips():
    text = """
    authorisation = "IVC-24-001"   # held by the statistics service
    population = "ksz"
    period = [2022, 2021]
    measures = ["employment_rate"]
    dimensions = ["period", "age_band:broad"]
    reference_date = "2023-12-31"
    """
    request = parse_request(text)
    assert request.periods == (2021, 2022)
    assert parse_request(request.to_toml()) == request


def test_a_request_file_is_read(tmp_path):
    path = tmp_path / "request.toml"
    path.write_text(parse_request(validate_request(GOOD).to_toml()).to_toml())
    assert load_request(path) == validate_request(GOOD)


@pytest.mark.parametrize("changes, message", [
    ({"filter": "nat_current = '354'"}, "unknown field.*filter.*free-form filters are not allowed"),
    ({"measures": None}, "lacks measures"),
    ({"authorisation": ""}, "authorisation must be"),
    ({"authorisation": "x" * 80}, "at most 64"),
    ({"population": "police"}, "unknown population 'police'.*ksz, vdab"),
    ({"population": 3}, "population must be"),
    ({"measures": []}, "measures is empty"),
    ({"measures": "persons"}, "must be a list"),
    ({"measures": ["persons", "persons"]}, "lists a name twice"),
    ({"measures": ["unemployment"]}, "unknown measure 'unemployment'; known measures are persons"),
    ({"measures": ["school_delay_rate"]}, "applies to the population.*education, not to vdab"),
    ({"measures": ["outflow_to_work_30m"]}, "needs outcomes up to 2025-06-30.*reference date 2024-12-31"),
    ({"dimensions": ["religion"]}, "unknown dimension 'religion'; known dimensions are origin_category"),
    ({"dimensions": ["sex:binary"]}, "sex takes no parameter"),
    ({"dimensions": ["age_band:decades"]}, "unknown age band set 'decades'.*labour"),
    ({"dimensions": ["age_band", "age_band:labour"]}, "listed twice"),
    ({"dimensions": ["sex", "age_band", "region", "education_level", "period"]}, "at most 4"),
    ({"period": "2022"}, "period must be a year"),
    ({"period": True}, "period must be a year"),
    ({"period": 1850}, "period 1850 is not registered for population vdab"),
    ({"period": [2021, 2022]}, "must include the 'period' dimension"),
    ({"period": [2021, 2021]}, "lists a year twice"),
    ({"reference_date": "31/12/2024"}, "reference_date must be a date"),
    ({"reference_date": dt.datetime(2024, 12, 31, 12)}, "without a time"),
])
def test_bad_requests_are_refused_with_the_reason(changes, message):
    with pytest.raises(RequestError, match=message):
        validate_request(with_(**changes))


def test_a_measure_needing_an_undelivered_year_is_refused():
    with pytest.raises(RequestError, match="employment_rate_after_2y cannot be computed for period 2023.*sep_2025"):
        validate_request(with_(population="ksz", period=2023, measures=["employment_rate_after_2y"]))


def test_the_socio_economic_position_limits_the_ksz_periods():
    with pytest.raises(RequestError, match="period 2025 is not registered for population ksz: 2019-2024"):
        validate_request(with_(population="ksz", period=2025, measures=["persons"]))


def test_unknown_origin_definitions_list_the_known_ones():
    with pytest.raises(RequestError, match="unknown origin definition 'cbs'; known definitions are .*sem"):
        validate_request(with_(dimensions=["origin_group:cbs"]))
    with pytest.raises(RequestError, match="unknown origin grouping 'planets'"):
        validate_request(with_(dimensions=["origin_group:sem:planets"]))
    with pytest.raises(RequestError, match="origin_group takes 1 to 2 parameter"):
        validate_request(with_(dimensions=["origin_group"]))


def test_invalid_toml_and_unreadable_files(tmp_path):
    with pytest.raises(RequestError, match="not valid TOML"):
        parse_request("population = ")
    with pytest.raises(RequestError, match="cannot read the request file"):
        load_request(tmp_path / "absent.toml")
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RequestError, match="not UTF-8"):
        load_request(binary)


def test_a_request_file_with_a_byte_order_mark_reads_as_without(tmp_path):
    from importlib import resources
    text = (resources.files("linkage.aggregate") / "examples" / "employment_by_origin_and_sex.toml").read_text()
    plain, marked = tmp_path / "plain.toml", tmp_path / "marked.toml"
    plain.write_text(text, encoding="utf-8")
    marked.write_text("\ufeff" + text, encoding="utf-8")
    assert load_request(marked) == load_request(plain)


def test_the_shipped_example_requests_are_valid():
    from importlib import resources
    examples = resources.files("linkage.aggregate") / "examples"
    names = sorted(p.name for p in examples.iterdir() if p.name.endswith(".toml"))
    assert len(names) == 3
    for name in names:
        assert parse_request((examples / name).read_text()).authorisation == "IVC-24-001"
