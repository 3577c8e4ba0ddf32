module

public import Quantproof.Rat

/-!
# REQ-SCALE: fp16 scales, rounded up

A model of the positive finite IEEE binary16 values: `m · 2^(e-24)` with `1 ≤ m ≤ 2047` and `0 ≤ e ≤ 29`
(subnormals are the `m < 1024` of `e = 0`; the largest is `2047 · 2^5 = 65504`), and of rounding up to
them: `fp16RoundUp x` is the least such value at or above `x`, or `none` (infinity) above 65504.

The kernel's scale of one lane of one group of weights is `laneScale`: the lane's peak `max|w|` over its
`qmax` (7 for the 4-bit lane, 3 for the 3-bit lane), rounded up to fp16, or 1 for an all-zero lane.
Proved: it is a positive fp16 value and every weight of the lane lies in `[(-qmax - 1) s, qmax s]`, the
clipping range REQ-QERR needs. `verifier/kernels/quant.py` (`lane_scales`) computes the same, bit for bit.
-/

namespace Quantproof

/-- The spacing of fp16 values at exponent offset `e`: `2^e / 2^24`. -/
@[expose] public def fp16Ulp (e : Nat) : Rat := ((2 ^ e : Nat) : Rat) / ((2 ^ 24 : Nat) : Rat)

/-- A positive finite fp16 value: `m · 2^(e-24)` with `1 ≤ m ≤ 2047` and `e ≤ 29`. -/
@[expose] public def Fp16Value (q : Rat) : Prop :=
  ∃ m e : Nat, 1 ≤ m ∧ m ≤ 2047 ∧ e ≤ 29 ∧ q = (m : Rat) * fp16Ulp e

/-- The first exponent offset from `e` (trying `fuel` of them) whose binade reaches `x`. -/
@[expose] public def fp16ExpFrom (x : Rat) : Nat → Nat → Option Nat
  | _, 0 => none
  | e, fuel + 1 => if x ≤ 2047 * fp16Ulp e then some e else fp16ExpFrom x (e + 1) fuel

/-- The exponent offset of the smallest fp16 value at or above `x`, if `x` is in fp16's range. -/
@[expose] public def fp16Exponent (x : Rat) : Option Nat := fp16ExpFrom x 0 30

/-- Round `x > 0` up to fp16: `none` is an overflow to infinity. -/
@[expose] public def fp16RoundUp (x : Rat) : Option Rat :=
  (fp16Exponent x).map fun e => (((x / fp16Ulp e).ceil : Int) : Rat) * fp16Ulp e

public theorem fp16Ulp_pos (e : Nat) : 0 < fp16Ulp e := by
  unfold fp16Ulp
  have h1 : (0 : Rat) < ((2 ^ e : Nat) : Rat) := by exact_mod_cast Nat.two_pow_pos e
  have h2 : (0 : Rat) < ((2 ^ 24 : Nat) : Rat) := by exact_mod_cast Nat.two_pow_pos 24
  rw [Rat.div_def]
  exact Rat.mul_pos h1 (Rat.inv_pos.mpr h2)

theorem fp16Ulp_succ (e : Nat) : fp16Ulp (e + 1) = 2 * fp16Ulp e := by
  unfold fp16Ulp
  rw [Nat.pow_succ]
  push_cast
  grind

theorem fp16ExpFrom_spec (x : Rat) : ∀ fuel e r, fp16ExpFrom x e fuel = some r →
    e ≤ r ∧ r < e + fuel ∧ x ≤ 2047 * fp16Ulp r ∧ ∀ e', e ≤ e' → e' < r → 2047 * fp16Ulp e' < x
  | 0, e, r, h => by simp [fp16ExpFrom] at h
  | fuel + 1, e, r, h => by
    unfold fp16ExpFrom at h
    split at h
    · cases h
      refine ⟨Nat.le_refl _, by omega, by assumption, fun e' h1 h2 => by omega⟩
    · obtain ⟨h1, h2, h3, h4⟩ := fp16ExpFrom_spec x fuel (e + 1) r h
      refine ⟨by omega, by omega, h3, fun e' he' hr => ?_⟩
      by_cases heq : e' = e
      · subst heq; exact Rat.not_le.mp (by assumption)
      · exact h4 e' (by omega) hr

theorem fp16ExpFrom_none (x : Rat) : ∀ fuel e, fp16ExpFrom x e fuel = none →
    ∀ e', e ≤ e' → e' < e + fuel → 2047 * fp16Ulp e' < x
  | 0, e, _, e', h1, h2 => by omega
  | fuel + 1, e, h, e', h1, h2 => by
    unfold fp16ExpFrom at h
    split at h
    · cases h
    · by_cases heq : e' = e
      · subst heq; exact Rat.not_le.mp (by assumption)
      · exact fp16ExpFrom_none x fuel (e + 1) h e' (by omega) (by omega)

theorem fp16Ulp_mono {e e' : Nat} (h : e ≤ e') : fp16Ulp e ≤ fp16Ulp e' := by
  induction e' with
  | zero => cases Nat.le_zero.mp h; exact Rat.le_refl
  | succ n ih =>
    rcases Nat.lt_or_eq_of_le h with h | h
    · have := ih (by omega)
      have := fp16Ulp_pos n
      rw [fp16Ulp_succ]
      grind
    · subst h; exact Rat.le_refl

theorem le_ceil (q : Rat) : q ≤ ((q.ceil : Int) : Rat) := by
  rw [Rat.ceil_eq_neg_floor_neg]
  have := Rat.floor_le (-q)
  push_cast
  grind

theorem ceil_le {q : Rat} {n : Int} (h : q ≤ n) : q.ceil ≤ n := by
  rw [Rat.ceil_eq_neg_floor_neg]
  have : -n ≤ (-q).floor := Rat.le_floor_iff.mpr (by push_cast; grind)
  omega

theorem ceil_pos {q : Rat} (h : 0 < q) : 0 < q.ceil := by
  have := le_ceil q
  have : (0 : Rat) < (q.ceil : Rat) := by grind
  exact_mod_cast this

/-- REQ-SCALE: rounding up never goes below its argument. -/
public theorem fp16RoundUp_ge {x r : Rat} (h : fp16RoundUp x = some r) : x ≤ r := by
  unfold fp16RoundUp at h
  match he : fp16Exponent x, h with
  | some e, h =>
    simp only [Option.map_some, Option.some.injEq] at h
    subst h
    have hu := fp16Ulp_pos e
    have hc := Rat.mul_le_mul_of_nonneg_left (le_ceil (x / fp16Ulp e)) (Rat.le_of_lt hu)
    have hx : fp16Ulp e * (x / fp16Ulp e) = x := by
      rw [Rat.mul_comm]; exact Rat.div_mul_cancel (Rat.ne_of_gt hu)
    grind

theorem fp16Exponent_spec {x : Rat} {e : Nat} (h : fp16Exponent x = some e) :
    e ≤ 29 ∧ x ≤ 2047 * fp16Ulp e ∧ ∀ e', e' < e → 2047 * fp16Ulp e' < x := by
  obtain ⟨_, h2, h3, h4⟩ := fp16ExpFrom_spec x 30 0 e h
  exact ⟨by omega, h3, fun e' he' => h4 e' (Nat.zero_le _) he'⟩

/-- REQ-SCALE: the result of rounding up a positive number is a positive finite fp16 value. -/
public theorem fp16RoundUp_value {x r : Rat} (hx : 0 < x) (h : fp16RoundUp x = some r) : Fp16Value r := by
  unfold fp16RoundUp at h
  match he : fp16Exponent x, h with
  | some e, h =>
    simp only [Option.map_some, Option.some.injEq] at h
    subst h
    obtain ⟨he29, hle, _⟩ := fp16Exponent_spec he
    have hu := fp16Ulp_pos e
    have hq : 0 < x / fp16Ulp e := by
      rw [Rat.div_def]; exact Rat.mul_pos hx (Rat.inv_pos.mpr hu)
    have hpos : 0 < (x / fp16Ulp e).ceil := ceil_pos hq
    have hle' : x ≤ (2047 : Int) * fp16Ulp e := by push_cast; exact hle
    have hmax : (x / fp16Ulp e).ceil ≤ 2047 := ceil_le (div_le_of_le_mul hu hle')
    refine ⟨(x / fp16Ulp e).ceil.toNat, e, by omega, by omega, he29, ?_⟩
    have : (((x / fp16Ulp e).ceil.toNat : Nat) : Int) = (x / fp16Ulp e).ceil := Int.toNat_of_nonneg (by omega)
    rw [← this]
    push_cast
    rfl

/-- The largest finite fp16 value. -/
@[expose] public def fp16Max : Rat := 65504

theorem fp16Max_eq : 2047 * fp16Ulp 29 = fp16Max := by
  unfold fp16Ulp fp16Max; decide +kernel

/-- REQ-SCALE: rounding up gives a finite value exactly when the argument is at most 65504. -/
public theorem fp16RoundUp_isSome_iff (x : Rat) : (fp16RoundUp x).isSome ↔ x ≤ fp16Max := by
  rw [← fp16Max_eq]
  unfold fp16RoundUp
  constructor
  · intro h
    match he : fp16Exponent x with
    | some e =>
      obtain ⟨he29, hle, _⟩ := fp16Exponent_spec he
      have := Rat.mul_le_mul_of_nonneg_left (fp16Ulp_mono he29) (by decide : (0 : Rat) ≤ 2047)
      grind
    | none => rw [he] at h; simp at h
  · intro h
    match he : fp16Exponent x with
    | some e => simp
    | none =>
      have := fp16ExpFrom_none x 30 0 he 29 (Nat.zero_le _) (by omega)
      grind

theorem fp16Ulp_add (e d : Nat) : fp16Ulp (e + d) = ((2 ^ d : Nat) : Rat) * fp16Ulp e := by
  induction d with
  | zero => simp
  | succ n ih =>
    rw [← Nat.add_assoc, fp16Ulp_succ, ih, Nat.pow_succ]
    push_cast
    grind

/-- REQ-SCALE: rounding up gives the least fp16 value at or above its argument. -/
public theorem fp16RoundUp_least {x r q : Rat} (h : fp16RoundUp x = some r) (hq : Fp16Value q)
    (hxq : x ≤ q) : r ≤ q := by
  unfold fp16RoundUp at h
  match he : fp16Exponent x, h with
  | some e, h =>
    simp only [Option.map_some, Option.some.injEq] at h
    subst h
    obtain ⟨_, _, hmin⟩ := fp16Exponent_spec he
    obtain ⟨m, e', hm1, hm2, _, rfl⟩ := hq
    have hu := fp16Ulp_pos e
    by_cases hlt : e' < e
    · exfalso
      have := hmin e' hlt
      have : (m : Rat) * fp16Ulp e' ≤ 2047 * fp16Ulp e' :=
        Rat.mul_le_mul_of_nonneg_right (by exact_mod_cast hm2) (Rat.le_of_lt (fp16Ulp_pos e'))
      grind
    · obtain ⟨d, rfl⟩ : ∃ d, e' = e + d := ⟨e' - e, by omega⟩
      rw [fp16Ulp_add] at hxq ⊢
      -- x / u ≤ m * 2^d, an integer, so the ceiling is at most that integer
      have hk : x / fp16Ulp e ≤ ((m * 2 ^ d : Nat) : Int) := by
        apply div_le_of_le_mul hu
        push_cast
        grind
      have hc := ceil_le hk
      have hc' : (((x / fp16Ulp e).ceil : Int) : Rat) ≤ (((m * 2 ^ d : Nat) : Int) : Rat) := by exact_mod_cast hc
      have := Rat.mul_le_mul_of_nonneg_right hc' (Rat.le_of_lt hu)
      push_cast at this
      grind

/-- The largest magnitude in a list (0 for none). -/
@[expose] public def peakOf : List Rat → Rat
  | [] => 0
  | w :: ws => if rabs w ≤ peakOf ws then peakOf ws else rabs w

public theorem rabs_le_peakOf : ∀ {ws : List Rat}, ∀ w ∈ ws, rabs w ≤ peakOf ws
  | w :: ws, v, hv => by
    simp only [List.mem_cons] at hv
    unfold peakOf
    rcases hv with rfl | hv
    · split <;> grind
    · have := rabs_le_peakOf v hv
      split <;> grind

public theorem peakOf_nonneg : ∀ ws : List Rat, 0 ≤ peakOf ws
  | [] => Rat.le_refl
  | w :: ws => by
    have := rabs_nonneg w
    have := peakOf_nonneg ws
    unfold peakOf
    split <;> grind

/-- The scale of one lane of one group: its largest magnitude over `qmax`, rounded up to fp16; an all-zero
lane gets 1. `none`: too large for fp16. -/
@[expose] public def laneScale (peak : Rat) (qmax : Nat) : Option Rat :=
  if peak = 0 then some 1 else fp16RoundUp (peak / qmax)

/-- REQ-SCALE: a lane's scale is a positive fp16 value, and every weight of the lane lies in the lane's
clipping range `[(-qmax - 1) · s, qmax · s]`. -/
public theorem laneScale_range {peak s : Rat} {qmax : Nat} (hq : 0 < qmax) (hp : 0 ≤ peak)
    (h : laneScale peak qmax = some s) :
    Fp16Value s ∧ ∀ w, rabs w ≤ peak → ((-(qmax : Int) - 1 : Int) : Rat) * s ≤ w ∧ w ≤ ((qmax : Int) : Rat) * s := by
  unfold laneScale at h
  split at h
  · cases h
    refine ⟨⟨1, 24, by omega, by omega, by omega, by unfold fp16Ulp; decide +kernel⟩, fun w hw => ?_⟩
    have := rabs_le_iff.mp (show rabs w ≤ 0 by grind)
    have : (0 : Rat) ≤ (qmax : Int) := by exact_mod_cast Int.natCast_nonneg qmax
    constructor <;> push_cast <;> grind
  · have hpos : 0 < peak := by grind
    have hqr : (0 : Rat) < (qmax : Rat) := by exact_mod_cast hq
    have hx : 0 < peak / qmax := by rw [Rat.div_def]; exact Rat.mul_pos hpos (Rat.inv_pos.mpr hqr)
    have hge := fp16RoundUp_ge h
    have hval := fp16RoundUp_value hx h
    refine ⟨hval, fun w hw => ?_⟩
    have hpk : peak ≤ (qmax : Rat) * s := by
      have := Rat.mul_le_mul_of_nonneg_left hge (Rat.le_of_lt hqr)
      have hc : (qmax : Rat) * (peak / qmax) = peak := by
        rw [Rat.mul_comm]; exact Rat.div_mul_cancel (Rat.ne_of_gt hqr)
      grind
    have hs : 0 < s := by grind
    have := rabs_le_iff.mp hw
    constructor <;> push_cast <;> grind

end Quantproof
