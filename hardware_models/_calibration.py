"""Correct HLS resource estimates towards post-synthesis numbers: :class:`HlsCalibration`.

HLS tools estimate before logic optimisation, so their LUT and FF counts are biased: on the
hls4ml Dense+ReLU design the estimate is 2532 LUT / 7969 FF where Vivado synthesis finds
1526 / 2428. A search that ranks designs by HLS estimates therefore mis-weighs logic against
DSPs. The bias is roughly multiplicative per resource, so one factor per resource, learnt from
(HLS, synthesis) pairs of the same designs, removes most of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from hardware_models._errors import HardwareModelError, NotFittedError
from hardware_models._report import RESOURCE_KEYS, HlsReport

__all__ = ["HlsCalibration"]

_SCHEMA_VERSION = 1

ResourcePair = tuple[HlsReport | Mapping[str, float], HlsReport | Mapping[str, float]]


class HlsCalibration:
    """Per-resource multiplicative correction from HLS estimates to post-synthesis counts.

    For each resource ``r`` it learns ``factor[r]`` so that ``synth[r] ~ factor[r] * hls[r]``.
    With at least ``min_pairs`` usable pairs the factor is the least-squares slope through the
    origin, ``sum(h * s) / sum(h * h)``, which weighs large designs most (where absolute error
    matters). With fewer pairs it is the geometric mean of the ratios ``s / h``, which one
    outlier cannot drag as far. Pairs whose HLS count is 0, and pairs given as mappings that
    lack the resource on either side, say nothing about a ratio and are skipped; a resource
    without any usable pair keeps factor 1 (no correction).

    A factor of 0 or a non-finite one is refused, never stored: it would zero (or poison)
    that resource in every design the calibration corrects, and it only arises when every
    post-synthesis count of the usable pairs is 0, which is what a synthesis report that
    does not count the design prints (IPs as black boxes). Reports that say so themselves
    (``HlsReport.complete`` false) are refused as either side of a pair.

    Args:
        resources: Resource keys to calibrate (keys of ``HlsReport.resources``).
        min_pairs: Number of usable pairs from which least squares is used.

    Attributes:
        factors_: Resource -> multiplier.
        methods_: Resource -> ``"lstsq"``, ``"log_mean"`` or ``"none"`` (no usable pair).
        n_pairs_: Resource -> number of usable pairs.
        residuals_: Resource -> residuals ``synth - factor * hls`` of the usable pairs.
        relative_error_: Resource -> mean absolute relative error of the corrected estimates
            against synthesis over the usable pairs with non-zero synthesis counts (NaN if none).

    Example:
        >>> cal = HlsCalibration(("LUT",)).fit([({"LUT": 2532}, {"LUT": 1526})])
        >>> round(cal.factors_["LUT"], 3)
        0.603
        >>> round(cal.apply({"LUT": 1000})["LUT"])
        603
    """

    def __init__(self, resources: Sequence[str] = RESOURCE_KEYS, *, min_pairs: int = 3) -> None:
        self.resources = resources
        self.min_pairs = min_pairs

    def fit(self, pairs: Iterable[ResourcePair]) -> HlsCalibration:
        """Learn one factor per resource from (HLS estimate, post-synthesis) pairs.

        Args:
            pairs: ``(hls, synth)`` pairs of the same designs, each an :class:`HlsReport` or a
                mapping of resource counts. A report given as ``hls`` must be an HLS estimate
                and one given as ``synth`` must be post-synthesis.

        Returns:
            This calibration, fitted.

        Raises:
            HardwareModelError: If the parameters or a pair are invalid, no pair is given, a
                report does not count its whole design, or a factor comes out 0 or
                non-finite.
        """
        self._check_params()
        hls_rows, synth_rows = _split_pairs(pairs)
        self.factors_: dict[str, float] = {}
        self.methods_: dict[str, str] = {}
        self.n_pairs_: dict[str, int] = {}
        self.residuals_: dict[str, tuple[float, ...]] = {}
        self.relative_error_: dict[str, float] = {}
        for key in self.resources:
            # A key missing from either side is no information, never a count of 0.
            hls = np.array([row.get(key, math.nan) for row in hls_rows], dtype=float)
            synth = np.array([row.get(key, math.nan) for row in synth_rows], dtype=float)
            usable = (hls > 0) & ~np.isnan(synth)
            h, s = hls[usable], synth[usable]
            if h.size == 0:
                factor, method = 1.0, "none"
            elif h.size >= self.min_pairs or np.any(s <= 0):
                # Least squares through the origin; also the only choice when a synthesis count
                # is 0 (the tool removed the logic), where a log ratio does not exist.
                factor, method = float(h @ s / (h @ h)), "lstsq"
            else:
                factor, method = float(np.exp(np.mean(np.log(s / h)))), "log_mean"
            _check_factor(key, factor, h.size)
            self.factors_[key] = factor
            self.methods_[key] = method
            self.n_pairs_[key] = int(h.size)
            self.residuals_[key] = tuple(float(v) for v in s - factor * h)
            nonzero = s > 0
            self.relative_error_[key] = (
                float(np.mean(np.abs(factor * h[nonzero] - s[nonzero]) / s[nonzero]))
                if np.any(nonzero)
                else math.nan
            )
        return self

    def apply(self, resources: Mapping[str, float]) -> dict[str, float]:
        """Return HLS resource estimates corrected towards post-synthesis counts.

        Args:
            resources: Resource counts as an HLS report gives them (``report.resources``).

        Returns:
            A new dictionary with the same keys; calibrated keys multiplied by their factor,
            others unchanged. Values are fractional estimates, not rounded.

        Raises:
            NotFittedError: If :meth:`fit` has not been called.
        """
        factors = self._fitted_factors()
        return {key: float(value) * factors.get(key, 1.0) for key, value in resources.items()}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dictionary of the parameters and the learnt state.

        Raises:
            NotFittedError: If :meth:`fit` has not been called.
        """
        self._fitted_factors()
        return {
            "version": _SCHEMA_VERSION,
            "resources": list(self.resources),
            "min_pairs": self.min_pairs,
            "factors_": dict(self.factors_),
            "methods_": dict(self.methods_),
            "n_pairs_": dict(self.n_pairs_),
            "residuals_": {key: list(values) for key, values in self.residuals_.items()},
            "relative_error_": {
                key: (None if math.isnan(value) else value)
                for key, value in self.relative_error_.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HlsCalibration:
        """Rebuild a fitted calibration from :meth:`to_dict` output.

        Raises:
            HardwareModelError: If ``data`` carries another schema version or lacks a field.
        """
        if data.get("version") != _SCHEMA_VERSION:
            raise HardwareModelError(
                f"HlsCalibration.from_dict: unsupported version {data.get('version')!r}, "
                f"expected {_SCHEMA_VERSION}"
            )
        try:
            for key, value in data["factors_"].items():
                _check_factor(key, float(value), None)
            calibration = cls(tuple(data["resources"]), min_pairs=int(data["min_pairs"]))
            calibration.factors_ = {k: float(v) for k, v in data["factors_"].items()}
            calibration.methods_ = dict(data["methods_"])
            calibration.n_pairs_ = {k: int(v) for k, v in data["n_pairs_"].items()}
            calibration.residuals_ = {
                k: tuple(float(x) for x in v) for k, v in data["residuals_"].items()
            }
            calibration.relative_error_ = {
                k: (math.nan if v is None else float(v))
                for k, v in data["relative_error_"].items()
            }
        except KeyError as exc:
            raise HardwareModelError(f"HlsCalibration.from_dict: missing field {exc}") from None
        return calibration

    def __repr__(self) -> str:
        return f"HlsCalibration(resources={self.resources!r}, min_pairs={self.min_pairs!r})"

    def _fitted_factors(self) -> dict[str, float]:
        factors = getattr(self, "factors_", None)
        if factors is None:
            raise NotFittedError(
                "this HlsCalibration is not fitted yet; call fit(pairs) before using it"
            )
        return factors

    def _check_params(self) -> None:
        if isinstance(self.resources, str) or not all(
            isinstance(key, str) for key in self.resources
        ):
            raise HardwareModelError(
                f"HlsCalibration: resources must be a sequence of resource keys such as "
                f"{RESOURCE_KEYS}, got {self.resources!r}"
            )
        if not isinstance(self.min_pairs, int) or self.min_pairs < 1:
            raise HardwareModelError(
                f"HlsCalibration: min_pairs must be an integer >= 1, got {self.min_pairs!r}"
            )


def _split_pairs(
    pairs: Iterable[ResourcePair],
) -> tuple[list[Mapping[str, float]], list[Mapping[str, float]]]:
    hls_rows: list[Mapping[str, float]] = []
    synth_rows: list[Mapping[str, float]] = []
    for index, pair in enumerate(pairs):
        if not isinstance(pair, Sequence) or isinstance(pair, str) or len(pair) != 2:
            raise HardwareModelError(
                f"HlsCalibration.fit: pair {index} must be (hls, synth), got {pair!r:.80}"
            )
        hls_rows.append(_resources(pair[0], index, "hls", "hls_estimate"))
        synth_rows.append(_resources(pair[1], index, "synth", "post_synthesis"))
    if not hls_rows:
        raise HardwareModelError("HlsCalibration.fit: no (hls, synth) pairs given")
    return hls_rows, synth_rows


def _resources(
    item: HlsReport | Mapping[str, float], index: int, role: str, expected_kind: str
) -> Mapping[str, float]:
    if isinstance(item, HlsReport):
        if item.utilization_kind != expected_kind:
            raise HardwareModelError(
                f"HlsCalibration.fit: pair {index} {role}: expected a {expected_kind} report, "
                f"got {item.utilization_kind} ({item.path})"
            )
        if not item.complete:
            raise HardwareModelError(
                f"HlsCalibration.fit: pair {index} {role}: {item.path} does not count its "
                f"whole design: {item.incomplete_reason}"
            )
        return item.resources
    if isinstance(item, Mapping):
        for key, value in item.items():
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value < 0
            ):
                raise HardwareModelError(
                    f"HlsCalibration.fit: pair {index} {role}[{key!r}]: expected a count "
                    f">= 0, got {value!r}"
                )
        return item
    raise HardwareModelError(
        f"HlsCalibration.fit: pair {index} {role}: expected an HlsReport or a mapping of "
        f"resource counts, got {type(item).__name__}"
    )


def _check_factor(key: str, factor: float, n_pairs: int | None) -> None:
    """Refuse a factor of 0 or a non-finite one (see :class:`HlsCalibration`)."""
    if math.isfinite(factor) and factor > 0:
        return
    where = "fit" if n_pairs is not None else "from_dict"
    cause = (
        f": every post-synthesis {key} count of the {n_pairs} usable pair(s) is 0 (a synthesis "
        "report that does not count the design, e.g. IPs as black boxes?); check the synth "
        f"side, or leave {key!r} out of resources"
        if n_pairs is not None and factor == 0
        else ""
    )
    raise HardwareModelError(
        f"HlsCalibration.{where}: refusing factor {factor!r} for {key!r}{cause}"
    )
