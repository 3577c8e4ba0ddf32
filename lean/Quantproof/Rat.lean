module

/-!
# Rational helpers: absolute value and round-half-to-even

Supports REQ-QERR and REQ-MM. Core Lean has `Rat` but no absolute value on it, so `rabs` is
defined here with the few facts the error bounds use. Rounding is half to even, the rule of
IEEE 754's default mode and NumPy's `np.rint`, so the executable kernel and this spec round
every tie the same way.
-/

namespace Quantproof

/-- Absolute value of a rational. -/
@[expose] public def rabs (x : Rat) : Rat := if x < 0 then -x else x

public theorem rabs_le_iff {x c : Rat} : rabs x ≤ c ↔ -c ≤ x ∧ x ≤ c := by
  unfold rabs
  split <;> constructor <;> intro h <;> grind

public theorem rabs_nonneg (x : Rat) : 0 ≤ rabs x := by
  unfold rabs
  split <;> grind

public theorem le_rabs_self (x : Rat) : x ≤ rabs x := by
  unfold rabs
  split <;> grind

public theorem neg_le_rabs_self (x : Rat) : -x ≤ rabs x := by
  unfold rabs
  split <;> grind

public theorem rabs_of_nonneg {x : Rat} (h : 0 ≤ x) : rabs x = x := by
  unfold rabs
  split <;> grind

public theorem rabs_of_nonpos {x : Rat} (h : x ≤ 0) : rabs x = -x := by
  unfold rabs
  split <;> grind

public theorem rabs_sub_self (x : Rat) : rabs (x - x) = 0 := by
  unfold rabs
  split <;> grind

public theorem rabs_add_le (x y : Rat) : rabs (x + y) ≤ rabs x + rabs y := by
  have := le_rabs_self x
  have := le_rabs_self y
  have := neg_le_rabs_self x
  have := neg_le_rabs_self y
  rw [rabs_le_iff]
  constructor <;> grind

public theorem rabs_mul (x y : Rat) : rabs (x * y) = rabs x * rabs y := by
  unfold rabs
  by_cases hx : x < 0 <;> by_cases hy : y < 0
  · have : 0 < x * y := by
      have := Rat.mul_lt_mul_of_pos_left (by grind : (0 : Rat) < -x) (by grind : (0 : Rat) < -y)
      grind
    grind
  · have : x * y ≤ 0 := by
      have := Rat.mul_le_mul_of_nonneg_left (Rat.not_lt.mp hy) (Rat.le_of_lt (by grind : (0 : Rat) < -x))
      grind
    split <;> grind
  · have : x * y ≤ 0 := by
      have := Rat.mul_le_mul_of_nonneg_left (Rat.le_of_lt (by grind : (0 : Rat) < -y)) (Rat.not_lt.mp hx)
      grind
    split <;> grind
  · have : 0 ≤ x * y := Rat.mul_nonneg (Rat.not_lt.mp hx) (Rat.not_lt.mp hy)
    grind

public theorem div_le_of_le_mul {a b s : Rat} (hs : 0 < s) (h : a ≤ b * s) : a / s ≤ b := by
  have ha : a / s * s = a := Rat.div_mul_cancel (Rat.ne_of_gt hs)
  apply Rat.not_lt.mp
  intro hlt
  have := Rat.mul_lt_mul_of_pos_left hlt hs
  grind

public theorem le_div_of_mul_le {a b s : Rat} (hs : 0 < s) (h : b * s ≤ a) : b ≤ a / s := by
  have ha : a / s * s = a := Rat.div_mul_cancel (Rat.ne_of_gt hs)
  apply Rat.not_lt.mp
  intro hlt
  have := Rat.mul_lt_mul_of_pos_left hlt hs
  grind

/-- Round to the nearest integer, ties to the even one (NumPy's `np.rint`). -/
@[expose] public def roundHalfEven (q : Rat) : Int :=
  if q - q.floor < 1 / 2 then q.floor
  else if 1 / 2 < q - q.floor then q.floor + 1
  else if q.floor % 2 = 0 then q.floor else q.floor + 1

/-- The rounded value is the floor or one above it. -/
public theorem roundHalfEven_cases (q : Rat) :
    roundHalfEven q = q.floor ∨ roundHalfEven q = q.floor + 1 := by
  unfold roundHalfEven
  split
  · exact Or.inl rfl
  · split
    · exact Or.inr rfl
    · split
      · exact Or.inl rfl
      · exact Or.inr rfl

/-- Rounding moves a value by at most one half. -/
public theorem rabs_sub_roundHalfEven_le (q : Rat) : rabs (q - roundHalfEven q) ≤ 1 / 2 := by
  have hf := Rat.floor_le q
  have hf' := Rat.lt_floor_add_one q
  rw [rabs_le_iff]
  unfold roundHalfEven
  push_cast at hf' ⊢
  split
  · constructor <;> grind
  · split
    · constructor <;> grind
    · split <;> constructor <;> grind

end Quantproof
