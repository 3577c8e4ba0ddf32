module

public import Quantproof.Quant

/-!
# REQ-ACT: per-row int8 activations

A row of activations is quantized with one scale `s`: each level is `round_half_even(x / s)` clamped to
int8. The kernel takes `s = max|x| / 127`, rounded up to float64 (so `|x| ≤ 127 s` holds exactly); then
every level lies in `[-127, 127]` and every activation is within `s / 2` of its dequantized level.
-/

namespace Quantproof

/-- One row's activation levels: round half to even of `x / s`, clamped to int8. -/
@[expose] public noncomputable def quantizeActs (s : Rat) (xs : List Rat) : List Int := xs.map (quantize s (-128) 127)

/-- REQ-ACT: an activation with `|x| ≤ 127 s` has a level in `[-127, 127]` and is within `s / 2` of it. -/
public theorem quantizeAct_error_le {s x : Rat} (hs : 0 < s) (hx : rabs x ≤ 127 * s) :
    -127 ≤ quantize s (-128) 127 x ∧ quantize s (-128) 127 x ≤ 127 ∧
      rabs (x - dequantize s (quantize s (-128) 127 x)) ≤ s / 2 := by
  have hb := rabs_le_iff.mp hx
  have herr := quantize_error_le (x := x) (qmin := -128) (qmax := 127) hs (by decide) (by push_cast; grind)
    (by push_cast; grind)
  refine ⟨?_, (quantize_mem_range (by decide) s x).2, herr⟩
  -- the level is within 1/2 of x / s ≥ -127, so it is at least -127
  have he := rabs_le_iff.mp herr
  unfold dequantize at he
  generalize quantize s (-128) 127 x = q at he ⊢
  have : ((-127 : Int) : Rat) * s < (q : Rat) * s + s := by push_cast; grind
  have hq : ((-128 : Int) : Rat) < q := by
    apply Rat.not_le.mp
    intro hle
    have := Rat.mul_le_mul_of_nonneg_right hle (Rat.le_of_lt hs)
    push_cast at this ⊢
    grind
  have : (-128 : Int) < q := Rat.intCast_lt_intCast.mp hq
  omega

/-- REQ-ACT: the scale `peak / 127` puts every activation of the row within range. -/
public theorem rabs_le_actScale {x peak : Rat} (h : rabs x ≤ peak) : rabs x ≤ 127 * (peak / 127) := by
  have : (127 : Rat) * (peak / 127) = peak := by
    rw [Rat.mul_comm]; exact Rat.div_mul_cancel (by decide)
  rw [this]; exact h

/-- REQ-ACT, for a whole row: with `|x| ≤ 127 s` for every activation, every level of `quantizeActs s xs`
lies in `[-127, 127]` and is within `s / 2` of its activation (levels and activations paired in order). -/
public theorem quantizeActs_error_le {s : Rat} (hs : 0 < s) :
    ∀ (xs : List Rat), (∀ x ∈ xs, rabs x ≤ 127 * s) →
      ∀ p ∈ xs.zip (quantizeActs s xs), -127 ≤ p.2 ∧ p.2 ≤ 127 ∧ rabs (p.1 - dequantize s p.2) ≤ s / 2
  | [], _, p, hp => by simp [quantizeActs] at hp
  | x :: xs, hx, p, hp => by
    simp only [quantizeActs, List.map_cons, List.zip_cons_cons, List.mem_cons] at hp
    rcases hp with rfl | hp
    · exact quantizeAct_error_le hs (hx x (by simp))
    · exact quantizeActs_error_le hs xs (fun v hv => hx v (by simp [hv])) p hp

end Quantproof
