module

public import Quantproof.Rat

/-!
# REQ-QERR: symmetric quantization error

The quantizer with scale `s > 0` and integer range `[qmin, qmax]` is
`Q x = clamp qmin qmax (roundHalfEven (x / s))`, and dequantization is `D q = q * s`.
Rounding is half to even (see `Quantproof.Rat`).

* In the clipping range `qmin * s ≤ x ≤ qmax * s`, and more generally in the half-step
  extension `(qmin - 1/2) * s ≤ x ≤ (qmax + 1/2) * s`: `|x - D (Q x)| ≤ s / 2`.
* The design's unconditional form `∀ x, |x - D (Q x)| ≤ s / 2` is false: for every scale and
  range there is a counterexample, e.g. `x = 8` for the 4-bit range with `s = 1`.
* Outside the range the error is exactly the distance to the nearest end of the range.
-/

namespace Quantproof

/-- Clamp an integer into `[lo, hi]`. -/
@[expose] public def clampInt (lo hi q : Int) : Int := max lo (min hi q)

/-- Quantize `x` with scale `s` into `[qmin, qmax]`, rounding half to even. -/
@[expose] public def quantize (s : Rat) (qmin qmax : Int) (x : Rat) : Int :=
  clampInt qmin qmax (roundHalfEven (x / s))

/-- Dequantize an integer level. -/
@[expose] public def dequantize (s : Rat) (q : Int) : Rat := q * s

/-- The 4-bit lane of a pair: range `[-8, 7]`. -/
@[expose] public def quantizeHi (s x : Rat) : Int := quantize s (-8) 7 x

/-- The 3-bit lane of a pair: range `[-4, 3]`. -/
@[expose] public def quantizeLo (s x : Rat) : Int := quantize s (-4) 3 x

/-- The quantized level is always in range. -/
public theorem quantize_mem_range {qmin qmax : Int} (h : qmin ≤ qmax) (s x : Rat) :
    qmin ≤ quantize s qmin qmax x ∧ quantize s qmin qmax x ≤ qmax := by
  unfold quantize clampInt
  omega

/-- In the half-step range, the clamped rounded index is within one half of `x / s`. -/
theorem index_error {qmin qmax : Int} {q : Rat} (hlo : (qmin : Rat) - 1 / 2 ≤ q)
    (hhi : q ≤ (qmax : Rat) + 1 / 2) (hle : qmin ≤ qmax) :
    rabs (q - clampInt qmin qmax (roundHalfEven q)) ≤ 1 / 2 := by
  have hr := rabs_sub_roundHalfEven_le q
  rw [rabs_le_iff] at hr ⊢
  generalize roundHalfEven q = r at hr
  unfold clampInt
  by_cases h1 : r ≤ qmax <;> by_cases h2 : qmin ≤ r
  · have : max qmin (min qmax r) = r := by omega
    rw [this]
    exact hr
  · have hc : max qmin (min qmax r) = qmin := by omega
    have : ((r + 1 : Int) : Rat) ≤ qmin := Rat.intCast_le_intCast.mpr (by omega)
    push_cast at this
    rw [hc]
    constructor <;> grind
  · have hc : max qmin (min qmax r) = qmax := by omega
    have : ((qmax + 1 : Int) : Rat) ≤ r := Rat.intCast_le_intCast.mpr (by omega)
    push_cast at this
    rw [hc]
    constructor <;> grind
  · omega

/-- Scaling an index error of at most one half by `s > 0` gives a value error of at most `s / 2`. -/
theorem scaled_error {s x : Rat} {c : Int} (hs : 0 < s) (h : rabs (x / s - c) ≤ 1 / 2) :
    rabs (x - dequantize s c) ≤ s / 2 := by
  have hx : x = x / s * s := (Rat.div_mul_cancel (Rat.ne_of_gt hs)).symm
  have hsplit : x - dequantize s c = s * (x / s - c) := by
    unfold dequantize
    grind
  rw [hsplit, rabs_mul, rabs_of_nonneg (Rat.le_of_lt hs)]
  have := Rat.mul_le_mul_of_nonneg_left h (Rat.le_of_lt hs)
  grind

/-- REQ-QERR: in the half-step extension of the clipping range the error is at most `s / 2`. -/
public theorem quantize_error_le_of_halfstep {s x : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (hlo : ((qmin : Rat) - 1 / 2) * s ≤ x) (hhi : x ≤ ((qmax : Rat) + 1 / 2) * s) :
    rabs (x - dequantize s (quantize s qmin qmax x)) ≤ s / 2 := by
  apply scaled_error hs
  apply index_error _ _ hle
  · exact le_div_of_mul_le hs hlo
  · exact div_le_of_le_mul hs hhi

/-- REQ-QERR: for every `x` in the clipping range `qmin * s ≤ x ≤ qmax * s`,
`|x - D (Q x)| ≤ s / 2`. -/
public theorem quantize_error_le {s x : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (hlo : (qmin : Rat) * s ≤ x) (hhi : x ≤ (qmax : Rat) * s) :
    rabs (x - dequantize s (quantize s qmin qmax x)) ≤ s / 2 := by
  apply quantize_error_le_of_halfstep hs hle
  · have := Rat.mul_le_mul_of_nonneg_left (show (qmin : Rat) - 1 / 2 ≤ qmin by grind) (Rat.le_of_lt hs)
    grind
  · have := Rat.mul_le_mul_of_nonneg_left (show (qmax : Rat) ≤ qmax + 1 / 2 by grind) (Rat.le_of_lt hs)
    grind

/-- REQ-QERR: the 4-bit lane keeps every weight in `[-8s, 7s]` within `s / 2`. -/
public theorem quantizeHi_error_le {s x : Rat} (hs : 0 < s) (hlo : -8 * s ≤ x) (hhi : x ≤ 7 * s) :
    rabs (x - dequantize s (quantizeHi s x)) ≤ s / 2 :=
  quantize_error_le hs (by decide) (by push_cast; exact hlo) (by push_cast; exact hhi)

/-- REQ-QERR: the 3-bit lane keeps every weight in `[-4s, 3s]` within `s / 2`. -/
public theorem quantizeLo_error_le {s x : Rat} (hs : 0 < s) (hlo : -4 * s ≤ x) (hhi : x ≤ 3 * s) :
    rabs (x - dequantize s (quantizeLo s x)) ≤ s / 2 :=
  quantize_error_le hs (by decide) (by push_cast; exact hlo) (by push_cast; exact hhi)

/-! ## Outside the range: the design's unconditional claim is false -/

/-- Above the range the level is `qmax`. -/
public theorem quantize_of_ge {s x : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (hx : (qmax : Rat) * s ≤ x) : quantize s qmin qmax x = qmax := by
  have hq : (qmax : Rat) ≤ x / s := le_div_of_mul_le hs hx
  have : qmax ≤ (x / s).floor := Rat.le_floor_iff.mpr hq
  have := roundHalfEven_cases (x / s)
  unfold quantize clampInt
  omega

/-- Below the range the level is `qmin`. -/
public theorem quantize_of_le {s x : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (hx : x ≤ (qmin : Rat) * s) : quantize s qmin qmax x = qmin := by
  have hq : x / s ≤ (qmin : Rat) := div_le_of_le_mul hs hx
  have h1 : (x / s).floor ≤ qmin := by
    have := Rat.floor_monotone hq
    rwa [Rat.floor_intCast] at this
  have h2 := Rat.floor_le (x / s)
  have h3 : roundHalfEven (x / s) ≤ qmin := by
    rcases roundHalfEven_cases (x / s) with h | h
    · omega
    · -- rounding up only happens when x / s is above the floor, so the floor is below qmin
      by_cases hf : (x / s).floor = qmin
      · exfalso
        have : x / s = qmin := by
          rw [← hf] at hq ⊢
          grind
        have hz : (qmin : Rat) - qmin < 1 / 2 := by grind
        revert h
        unfold roundHalfEven
        rw [this, Rat.floor_intCast, if_pos hz]
        omega
      · omega
  unfold quantize clampInt
  omega

/-- REQ-QERR: above the range the error is exactly the distance to the top of the range. -/
public theorem quantize_error_of_ge {s x : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (hx : (qmax : Rat) * s ≤ x) : rabs (x - dequantize s (quantize s qmin qmax x)) = x - qmax * s := by
  rw [quantize_of_ge hs hle hx, dequantize, rabs_of_nonneg (by grind)]

/-- REQ-QERR: below the range the error is exactly the distance to the bottom of the range. -/
public theorem quantize_error_of_le {s x : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (hx : x ≤ (qmin : Rat) * s) : rabs (x - dequantize s (quantize s qmin qmax x)) = qmin * s - x := by
  rw [quantize_of_le hs hle hx, dequantize, rabs_of_nonpos (by grind)]
  grind

/-- REQ-QERR: for every scale and range, some `x` has error above `s / 2`: one step past the top. -/
public theorem exists_quantize_error_gt {s : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax) :
    ∃ x, s / 2 < rabs (x - dequantize s (quantize s qmin qmax x)) := by
  refine ⟨((qmax : Rat) + 1) * s, ?_⟩
  rw [quantize_error_of_ge hs hle (by grind)]
  grind

/-- REQ-QERR: the design's theorem `∀ x, |x - D(Q x)| ≤ scale / 2` is false as written
(counterexample: the 4-bit lane, `s = 1`, `x = 8` has error 1). -/
public theorem not_forall_quantize_error_le :
    ¬ ∀ x : Rat, rabs (x - dequantize 1 (quantizeHi 1 x)) ≤ 1 / 2 := by
  intro h
  have h8 := h 8
  rw [quantizeHi, quantize_error_of_ge (by decide) (by decide) (by push_cast; grind)] at h8
  push_cast at h8
  grind

end Quantproof
