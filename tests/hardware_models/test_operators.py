"""OperatorLibrary: fitting, exact and fitted prediction, JSON, shipped libraries, HLS rows."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from hardware_models import OperatorLibrary
from hardware_models._characterize import (
    DEFAULT_SWEEP,
    characterize,
    rows_from_reports,
    synthesis_module,
)
from hardware_models._errors import HardwareModelError, NotFittedError
from hardware_models._operator_kinds import KINDS, Operator, OperatorMeasurement

FIXTURES = Path(__file__).parent / "fixtures"


def _row(kind: str, widths: tuple[int, ...], lut: float, dsp: float = 0.0) -> OperatorMeasurement:
    ports = sum(widths) * 2
    return OperatorMeasurement(kind, widths, "7series", lut, ports, dsp, 0.0, 1.0, "test")


@pytest.fixture()
def rows() -> list[OperatorMeasurement]:
    adders = [_row("add", (w,), float(w)) for w in (2, 4, 8, 16, 32)]
    muls = [
        _row("mul_lut", (a, b), 2.0 * a * b + 3.0 * (a + b) + 1.0)
        for a in (2, 4, 8)
        for b in (2, 4, 8, 16)
        if a <= b
    ]
    return adders + muls


def test_fit_is_exact_at_characterized_points(rows: list[OperatorMeasurement]) -> None:
    library = OperatorLibrary(rows).fit()
    for row in rows:
        cost = library.predict(row.kind, row.widths, "7series")
        assert cost.exact
        assert (cost.lut, cost.ff, cost.dsp) == (row.lut, row.ff, row.dsp)
    # multipliers are commutative: (16, 4) is the characterized (4, 16)
    assert library.predict("mul_lut", (16, 4), "7series").exact


def test_fitted_model_between_and_beyond_points(rows: list[OperatorMeasurement]) -> None:
    library = OperatorLibrary(rows).fit()
    cost = library.predict("add", (12,), "7series")
    assert not cost.exact
    assert cost.lut == pytest.approx(12.0)
    assert library.predict("add", (64,), "7series").lut == pytest.approx(64.0)  # extrapolated
    assert library.predict("mul_lut", (6, 6), "7series").lut == pytest.approx(2 * 36 + 36 + 1)


def test_a_refit_prices_from_the_new_rows(rows: list[OperatorMeasurement]) -> None:
    """Predictions are remembered per operator (a study prices the same ones again and
    again); fitting other rows forgets them."""
    library = OperatorLibrary(rows).fit()
    before = library.predict("add", (64,), "7series")
    assert library.predict("add", (64,), "7series") is before
    library.fit([_row("add", (w,), 3.0 * w) for w in (2, 4, 8, 16, 32)])
    assert library.predict("add", (64,), "7series").lut == pytest.approx(192.0)
    assert library.predict("add", (8,), "7series").lut == 24.0


def test_fit_error_is_leave_one_out_per_kind_and_resource(
    rows: list[OperatorMeasurement],
) -> None:
    library = OperatorLibrary(rows).fit()
    assert set(library.fit_error_) == {("add", "7series"), ("mul_lut", "7series")}
    error = library.fit_error_[("add", "7series")]["lut"]
    assert error.n_rows == 5
    assert error.mape == pytest.approx(0.0, abs=1e-9)
    assert error.max_abs == pytest.approx(0.0, abs=1e-9)
    noisy = rows + [_row("add", (5,), 9.0)]
    noisy_error = OperatorLibrary(noisy).fit().fit_error_[("add", "7series")]["lut"]
    assert noisy_error.mape > 0 and noisy_error.max_abs > 0
    single = OperatorLibrary([_row("relu", (8,), 8.0)]).fit()
    assert math.isnan(single.fit_error_[("relu", "7series")]["lut"].mape)


def test_json_round_trip(rows: list[OperatorMeasurement], tmp_path: Path) -> None:
    library = OperatorLibrary(rows, provenance={"tool": "test"}).fit()
    path = tmp_path / "library.json"
    library.to_json(path)
    loaded = OperatorLibrary.from_json(path)
    assert loaded.rows_ == library.rows_
    assert loaded.provenance == {"tool": "test"}
    for widths in [(3,), (12,), (40,)]:
        assert loaded.predict("add", widths, "7series") == library.predict(
            "add", widths, "7series"
        )


def test_errors(rows: list[OperatorMeasurement], tmp_path: Path) -> None:
    with pytest.raises(NotFittedError):
        OperatorLibrary(rows).predict("add", (8,), "7series")
    library = OperatorLibrary(rows).fit()
    with pytest.raises(HardwareModelError, match=r"known kinds: \['add', 'mul_lut'\]"):
        library.predict("div", (8,), "7series")
    with pytest.raises(HardwareModelError, match="families"):
        library.predict("add", (8,), "ultrascale_plus")
    with pytest.raises(HardwareModelError, match="takes 2 positive widths"):
        library.predict("mul_lut", (8,), "7series")
    with pytest.raises(HardwareModelError, match="at least one"):
        OperatorLibrary().fit()
    with pytest.raises(HardwareModelError, match="known kinds"):
        Operator.of("conv", (3,))
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 99, "rows": []}')
    with pytest.raises(HardwareModelError, match="version"):
        OperatorLibrary.from_json(bad)
    with pytest.raises(HardwareModelError, match="available"):
        OperatorLibrary.default("spartan3")


def test_libraries_written_with_an_energy_model_still_load(
    rows: list[OperatorMeasurement], tmp_path: Path
) -> None:
    """dse 0.1 wrote `activity` and `energy_coefficients` into library files: a second energy
    model beside `EnergyConstants`, now gone; such files load, those keys ignored."""
    path = tmp_path / "old.json"
    OperatorLibrary(rows).fit().to_json(path)
    data = json.loads(path.read_text())
    data |= {"activity": 0.25, "energy_coefficients": {"7series": {"lut": 1.0}}}
    path.write_text(json.dumps(data))
    loaded = OperatorLibrary.from_json(path)
    assert loaded.predict("add", (8,), "7series").lut == pytest.approx(8.0)
    assert not hasattr(loaded.predict("add", (8,), "7series"), "energy_pj")


@pytest.mark.parametrize("family", ["7series", "ultrascale_plus"])
def test_default_library_loads_and_is_monotone(family: str) -> None:
    library = OperatorLibrary.default(family)
    assert set(library.kinds()) == set(DEFAULT_SWEEP)
    assert library.provenance["family"] == family
    assert "Yosys" in library.provenance["tool"]
    for width in (4, 8, 16, 32):
        assert library.predict("add", (width,), family).lut == width
    adders = [library.predict("add", (w,), family).lut for w in range(2, 48)]
    assert adders == sorted(adders)
    for kind in ("mul_lut",):
        diagonal = [library.predict(kind, (w, w), family).lut for w in range(2, 24)]
        assert diagonal == sorted(diagonal), diagonal
        row = [library.predict(kind, (8, w), family).lut for w in range(2, 24)]
        assert row == sorted(row), row
    dsp = [library.predict("mul_dsp", (w, w), family).dsp for w in range(2, 40)]
    assert dsp == sorted(dsp)
    cost = library.predict("mul_dsp", (8, 8), family)
    assert (cost.dsp, cost.lut) == (1.0, 0.0)
    for kind in library.kinds():
        assert set(library.fit_error_[(kind, family)]) >= {"lut", "ff", "dsp"}


def test_every_kind_has_a_generator() -> None:
    for kind, points in DEFAULT_SWEEP.items():
        assert kind in KINDS
        module = synthesis_module(kind, points[0], registered=True)
        assert module.registered
    with pytest.raises(HardwareModelError, match="takes 2 widths"):
        synthesis_module("fadd", (5,), registered=False)


def test_rows_from_reports_maps_hls_operators() -> None:
    rows = rows_from_reports(FIXTURES)
    by_kind = {(row.kind, row.widths): row for row in rows}
    assert by_kind[("mul_dsp", (8, 8))].dsp == 1
    assert by_kind[("fadd", (8, 23))].latency_cycles == 4
    assert ("add", (34,)) in by_kind and ("compare", (4,)) in by_kind
    assert {row.family for row in rows} == {"ultrascale_plus"}  # xczu3eg
    library = characterize(FIXTURES)
    assert library.predict("add", (34,), "ultrascale_plus").lut == 41
    with pytest.raises(HardwareModelError, match="reports_dir"):
        characterize()
