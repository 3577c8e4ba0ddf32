"""Differential cases for the kernel as it runs (REQ-SCALE, REQ-ACT, REQ-E2E, the weight layout and the
design's Fortran): the Lean definitions evaluated by the Lean kernel on inputs NumPy also ran, which must
agree with NumPy bit for bit (integers exactly, rationals exactly).

Each end-to-end case starts from float activations and float weights: Lean computes the scales
(`rowScales`), the levels (`quantizeActs`, `quantizeRow`) and the output (`kernelRow`) itself, and the
output must equal the exact value of NumPy's reference twin, whose weights went through packing and the
table. Adversarial rows sit beside random ones: peaks at group edges, exact ties, every weight at its
lane's peak and every activation at 127 (the largest partials, past int16).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from verifier.checks.lean_terms import Family, lean_int, lean_list, lean_rat
from verifier.kernels.activations import quantize_activations
from verifier.kernels.pack import HI_MAX, HI_MIN, LO_MAX, LO_MIN, PAIR_TABLE, pack_weights, unpack_weights
from verifier.kernels.quant import lane_scales, quantize_weights
from verifier.kernels.reference import error_bound, reference_kernel
from verifier.kernels.seed_fortran import seed_unpack

TACTIC = "decide +kernel"


def _rat_list(values) -> str:
    return lean_list((Fraction(float(v)) for v in values), lean_rat, "Rat")


def _scale_pairs(scales: np.ndarray) -> str:
    body = ", ".join(f"({lean_rat(Fraction(float(h)))}, {lean_rat(Fraction(float(lo)))})" for h, lo in scales)
    return f"([{body}] : List (Rat × Rat))"


def _lane_scale_cases(rng: np.random.Generator, n: int) -> list[tuple[str, str, str]]:
    peaks = [0.0, 6e-8, 2.0**-24 * 7, 1.0, 7 * 65504.0, 7 * 65504.0 * (1 + 2.0**-20), 3.0 * 2.0**-10]
    peaks += [float(np.float32(v)) for v in np.abs(rng.standard_normal(n)) * np.exp(rng.uniform(-18, 8, n))]
    cases = []
    for i, peak in enumerate(peaks):
        qmax = HI_MAX if i % 2 == 0 else LO_MAX
        try:
            s = float(lane_scales(np.array([peak]), qmax)[0])
            value, shown = f"some {lean_rat(Fraction(s))}", repr(s)
        except ValueError:
            value, shown = "none", "overflow"
        cases.append((f"Quantproof.laneScale {lean_rat(Fraction(peak))} {qmax} = {value}", shown, TACTIC))
    return cases


def _rows(rng: np.random.Generator, k: int, g: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """(pattern, x (1, K) float32, w (1, K) float32): random and adversarial."""
    x = rng.standard_normal((1, k)).astype(np.float32)
    w = (rng.standard_normal((1, k)) * 0.05).astype(np.float32)
    edges_x, edges_w = x.copy(), w.copy()
    edges_x[0, 0], edges_w[0, g - 1] = 9.0, 1.5  # peaks on the first and last position of a group
    t = np.float32(2.0**-3)  # activations at exact ties: peak 127 t, the rest (j + 1/2) t
    ties = ((rng.integers(-120, 120, (1, k)) + 0.5) * t).astype(np.float32)
    ties[0, k // 2] = 127 * t
    full_x = np.full((1, k), 3.0, np.float32)  # every activation at 127, every weight at its lane's peak
    full_w = np.where(np.arange(k) % 2 == 0, -0.7, 0.25).astype(np.float32)[None, :]
    return [("random", x, w), ("peaks at group edges", edges_x, edges_w), ("activation ties", ties, w),
            ("all at their peaks", full_x, full_w)]


def _kernel_cases(rng: np.random.Generator) -> tuple[list, list, list, list]:
    e2e, partials, acts, bounds = [], [], [], []
    for g, groups in ((16, 2), (32, 1), (32, 2), (128, 1)):
        k = g * groups
        for pattern, x, w in _rows(rng, k, g):
            qw = quantize_weights(w, g)
            trace = reference_kernel(x, qw)
            sx = Fraction(float(trace.activation_scales[0]))
            y = trace.output(0, 0)
            e2e.append((f"Quantproof.rowScales {g} {groups} {_rat_list(w[0])} = some {_scale_pairs(trace.scales[0])} "
                        f"∧ Quantproof.kernelRow {g} {lean_rat(sx)} {_scale_pairs(trace.scales[0])} "
                        f"(Quantproof.quantizeActs {lean_rat(sx)} {_rat_list(x[0])}) "
                        f"(Quantproof.quantizeRow (Quantproof.rowLanes {g} {_scale_pairs(trace.scales[0])}) "
                        f"{_rat_list(w[0])}) = {lean_rat(y)}", f"{pattern}: y = {float(y):.6g}", TACTIC))
            if groups == 1:  # the bound the theorem states, from NumPy's twin and from Lean's definition
                bound = error_bound(x[0], w[0], sx, trace.element_scales(0))
                bounds.append((f"Quantproof.e2eBound {lean_rat(sx)} (Quantproof.rowLanes {g} "
                               f"{_scale_pairs(trace.scales[0])}) {_rat_list(x[0])} {_rat_list(w[0])} = "
                               f"{lean_rat(bound)}", f"{pattern}: bound {float(bound):.6g}", TACTIC))
            if g == 32 and groups == 1:
                ph, pl = (int(v) for v in trace.partials[0, 0, 0])
                partials.append((f"Quantproof.lanePartials {lean_list(trace.activations[0].tolist(), lean_int)} "
                                 f"{lean_list(trace.weights[0].tolist(), lean_int)} = ({lean_int(ph)}, {lean_int(pl)})",
                                 f"{pattern}: ({ph}, {pl})", TACTIC))
                levels, scale = quantize_activations(x)
                acts.append((f"Quantproof.quantizeActs {lean_rat(Fraction(float(scale[0, 0])))} {_rat_list(x[0])} = "
                             f"{lean_list(levels[0].tolist(), lean_int)}", pattern, TACTIC))
    for g in (16, 32):  # a row ending mid-group: Lean gets the zero padding the kernel adds, NumPy pads itself
        k = g - 5
        x, w = rng.standard_normal((1, k)).astype(np.float32), (rng.standard_normal((1, k)) * 0.05).astype(np.float32)
        trace = reference_kernel(x, quantize_weights(w, g))
        sx = Fraction(float(trace.activation_scales[0]))
        bound = error_bound(x[0], w[0], sx, trace.element_scales(0))
        padded_x, padded_w = np.pad(x[0], (0, g - k)), np.pad(w[0], (0, g - k))
        bounds.append((f"Quantproof.e2eBound {lean_rat(sx)} (Quantproof.rowLanes {g} {_scale_pairs(trace.scales[0])}) "
                       f"{_rat_list(padded_x)} {_rat_list(padded_w)} = {lean_rat(bound)}",
                       f"K={k} padded to {g}: bound {float(bound):.6g}", TACTIC))
    return e2e, partials, acts, bounds


def _layout_cases(rng: np.random.Generator) -> tuple[list, list]:
    packs, unpacks = [], []
    for k in (1, 7, 16, 17, 33):
        q = np.empty((1, k), np.int8)
        q[:, 0::2] = rng.integers(HI_MIN, HI_MAX + 1, q[:, 0::2].shape)
        q[:, 1::2] = rng.integers(LO_MIN, LO_MAX + 1, q[:, 1::2].shape)
        packed = pack_weights(q)
        packs.append((f"Quantproof.packRow {lean_list(q[0].tolist(), lean_int)} = {lean_list(packed[0].tolist())}",
                      f"{packed.shape[1]} bytes", TACTIC))
        back = unpack_weights(packed, k)
        unpacks.append((f"Quantproof.unpackRow {k} {lean_list(packed[0].tolist())} = "
                        f"{lean_list(back[0].tolist(), lean_int)}", f"K={k}", TACTIC))
    return packs, unpacks


def _seed_cases(rng: np.random.Generator, n: int) -> list[tuple[str, str, str]]:
    stored = np.concatenate([np.arange(0, 256, 17), rng.integers(0, 256, n)]).astype(np.uint8)
    first, second = seed_unpack(stored[:, None])
    return [(f"Quantproof.seedUnpack {int(b)} = ({lean_int(int(a))}, {lean_int(int(c))})", f"({a}, {c})", TACTIC)
            for b, a, c in zip(stored, first[:, 0], second[:, 0], strict=True)]


def seed_disagreements() -> list[tuple[int, tuple[int, int], tuple[int, int]]]:
    """Every code where the compiled design routine differs from the spec: (code, routine, spec)."""
    codes = np.arange(128, dtype=np.uint8)
    first, second = seed_unpack(codes[:, None])
    return [(int(c), (int(a), int(b)), tuple(int(v) for v in PAIR_TABLE[c]))
            for c, a, b in zip(codes, first[:, 0], second[:, 0], strict=True)
            if (a, b) != tuple(PAIR_TABLE[c])]


def kernel_families(rng: np.random.Generator, n: int) -> list[Family]:
    e2e, partials, acts, bounds = _kernel_cases(rng)
    packs, unpacks = _layout_cases(rng)
    return [
        Family("lane_scale", "REQ-SCALE", "Quantproof.laneScale", "verifier.kernels.quant.lane_scales",
               "max|w| / qmax rounded up to fp16 (1 for zero, none past 65504): subnormals, ties, overflow",
               _lane_scale_cases(rng, n)),
        Family("activations", "REQ-ACT", "Quantproof.quantizeActs", "verifier.kernels.activations.quantize_activations",
               "levels of a row at NumPy's scale (max|x| / 127 rounded up to float64), exact ties included", acts),
        Family("lane_partials", "REQ-E2E", "Quantproof.lanePartials", "verifier.kernels.reference.lane_partials",
               "the two integer partials of one group", partials),
        Family("kernel_output", "REQ-E2E", "Quantproof.rowScales/quantizeActs/quantizeRow/kernelRow",
               "verifier.kernels.reference.reference_kernel",
               "from float activations and weights to the output: scales, levels, partials and the combination, "
               "exactly; NumPy's weights went through packing and the table", e2e),
        Family("e2e_bound_value", "REQ-E2E", "Quantproof.e2eBound", "verifier.kernels.reference.error_bound",
               "the end-to-end bound: sum of |x| s/2 + |w| s_x/2 + (s_x/2)(s/2) over the row's weight positions, "
               "with the lane scale of each position, exactly", bounds),
        Family("pack_row", "REQ-PACK", "Quantproof.packRow", "verifier.kernels.pack.pack_weights",
               "a row of levels in the kernel's byte layout", packs),
        Family("unpack_row", "REQ-PACK", "Quantproof.unpackRow", "verifier.kernels.pack.unpack_weights",
               "a packed row unpacked by the 128-entry table", unpacks),
        Family("seed_fortran", "REQ-PACK", "Quantproof.seedUnpack",
               "verifier/kernels/fortran/unpack_3p5bit.f90 (gfortran, numpy.f2py)",
               "the design's routine as written, compiled and run: Lean's formalisation of it agrees",
               _seed_cases(rng, n)),
    ]
