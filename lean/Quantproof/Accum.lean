module

public import Quantproof.Constants

/-!
# REQ-OVF: the int32 accumulator never overflows, for K ≤ 8192 and up to maxSafeK

A dot product of int8 activations (`|a| ≤ 128`) and 3.5-bit weights (`|w| ≤ 8`) of length
`K ≤ 8192` has every partial sum strictly inside int32: in fact `|sum| ≤ 8192 · 1024 = 2^23`.
Hence the hardware's wrapping int32 multiply-accumulate computes the exact sum.

For general widths, `maxSafeK bitsA bitsW bitsAcc` is the largest safe length, it is safe, and it
is tight: all-minimum operands at length `maxSafeK + 1` overflow. For int8 × 4-bit into int32 it
is 2,097,151, so the design's K ≤ 8192 holds with a factor of 256 to spare.
-/

namespace Quantproof

/-- Dot product of integer lists (entries past the shorter list are ignored). -/
@[expose] public def dotInt : List Int → List Int → Int
  | a :: as, w :: ws => a * w + dotInt as ws
  | _, _ => 0

/-- Operands bounded by `A` and `W` give a dot product bounded by `length · A · W`. -/
public theorem natAbs_dotInt_le {A W : Nat} :
    ∀ (as ws : List Int), (∀ a ∈ as, a.natAbs ≤ A) → (∀ w ∈ ws, w.natAbs ≤ W) →
      (dotInt as ws).natAbs ≤ as.length * (A * W)
  | a :: as, w :: ws, ha, hw => by
    have h1 : (a * w).natAbs ≤ A * W := by
      rw [Int.natAbs_mul]
      exact Nat.mul_le_mul (ha a (by simp)) (hw w (by simp))
    have h2 := natAbs_dotInt_le as ws (fun x hx => ha x (by simp [hx])) (fun x hx => hw x (by simp [hx]))
    have h3 := Int.natAbs_add_le (a * w) (dotInt as ws)
    simp only [dotInt, List.length_cons, Nat.succ_mul]
    omega
  | [], _, _, _ => by simp [dotInt]
  | _ :: _, [], _, _ => by simp [dotInt]

/-- The largest reduction length whose sums fit a signed `bitsAcc`-bit accumulator, for signed
`bitsA`-bit activations and `bitsW`-bit weights (worst case: both operands at their minimum). -/
@[expose] public def maxSafeK (bitsA bitsW bitsAcc : Nat) : Nat :=
  (2 ^ (bitsAcc - 1) - 1) / (2 ^ (bitsA - 1) * 2 ^ (bitsW - 1))

/-- REQ-OVF: any dot product of length at most `maxSafeK` fits the accumulator. -/
public theorem dotInt_fits_of_le_maxSafeK {bitsA bitsW bitsAcc : Nat} {as ws : List Int}
    (ha : ∀ a ∈ as, a.natAbs ≤ 2 ^ (bitsA - 1)) (hw : ∀ w ∈ ws, w.natAbs ≤ 2 ^ (bitsW - 1))
    (hK : as.length ≤ maxSafeK bitsA bitsW bitsAcc) :
    -(2 : Int) ^ (bitsAcc - 1) ≤ dotInt as ws ∧ dotInt as ws ≤ 2 ^ (bitsAcc - 1) - 1 := by
  have hdot := natAbs_dotInt_le as ws ha hw
  have hmul := Nat.mul_le_mul_right (2 ^ (bitsA - 1) * 2 ^ (bitsW - 1)) hK
  have hdiv := Nat.div_mul_le_self (2 ^ (bitsAcc - 1) - 1) (2 ^ (bitsA - 1) * 2 ^ (bitsW - 1))
  have hpos : 0 < 2 ^ (bitsAcc - 1) := Nat.two_pow_pos _
  unfold maxSafeK at hmul
  have : ((2 : Nat) ^ (bitsAcc - 1) : Int) = (2 : Int) ^ (bitsAcc - 1) := by push_cast; rfl
  omega

/-- Dot product of constant lists. -/
public theorem dotInt_replicate (n : Nat) (a w : Int) :
    dotInt (List.replicate n a) (List.replicate n w) = n * (a * w) := by
  induction n with
  | zero => simp [dotInt]
  | succ n ih =>
    simp only [List.replicate_succ, dotInt, ih]
    push_cast
    grind

/-- REQ-OVF: `maxSafeK` is tight: at length `maxSafeK + 1`, all-minimum operands overflow. -/
public theorem maxSafeK_tight (bitsA bitsW bitsAcc : Nat) :
    let K := maxSafeK bitsA bitsW bitsAcc + 1
    (2 : Int) ^ (bitsAcc - 1) - 1 <
      dotInt (List.replicate K (-(2 : Int) ^ (bitsA - 1))) (List.replicate K (-(2 : Int) ^ (bitsW - 1))) := by
  intro K
  rw [dotInt_replicate]
  have hP : 0 < 2 ^ (bitsA - 1) * 2 ^ (bitsW - 1) :=
    Nat.mul_pos (Nat.two_pow_pos _) (Nat.two_pow_pos _)
  have hlt := Nat.lt_div_mul_add (a := 2 ^ (bitsAcc - 1) - 1) hP
  have hprod : -(2 : Int) ^ (bitsA - 1) * -(2 : Int) ^ (bitsW - 1) =
      ((2 ^ (bitsA - 1) * 2 ^ (bitsW - 1) : Nat) : Int) := by
    push_cast
    grind
  have hacc : ((2 ^ (bitsAcc - 1) - 1 : Nat) : Int) = (2 : Int) ^ (bitsAcc - 1) - 1 := by
    have : 0 < 2 ^ (bitsAcc - 1) := Nat.two_pow_pos _
    have h2 : ((2 ^ (bitsAcc - 1) : Nat) : Int) = (2 : Int) ^ (bitsAcc - 1) := by push_cast; rfl
    omega
  rw [hprod, ← hacc]
  simp only [K, maxSafeK]
  push_cast at hlt ⊢
  exact_mod_cast (show 2 ^ (bitsAcc - 1) - 1 < ((2 ^ (bitsAcc - 1) - 1) / (2 ^ (bitsA - 1) * 2 ^ (bitsW - 1)) + 1)
    * (2 ^ (bitsA - 1) * 2 ^ (bitsW - 1)) by rw [Nat.succ_mul]; exact hlt)

/-- REQ-OVF: for int8 activations and 4-bit weights into int32, the safe length is 2,097,151. -/
public theorem maxSafeK_int8_w4_int32 :
    maxSafeK activationBits weightHiBits accumulatorBits = 2097151 := by decide

/-- REQ-OVF: the design's bound K ≤ 8192 is within the safe length. -/
public theorem claimedMaxK_le_maxSafeK : claimedMaxK ≤ maxSafeK activationBits weightHiBits accumulatorBits := by
  decide

/-- REQ-OVF: int8 activations (`|a| ≤ 128`) and 3.5-bit weights (`|w| ≤ 8`) with `K ≤ 8192`:
every partial sum `Σ_{k<n} a_k w_k` lies strictly inside int32, indeed within `± 2^23`. -/
public theorem partial_sums_fit_int32 {as ws : List Int} (ha : ∀ a ∈ as, a.natAbs ≤ 128)
    (hw : ∀ w ∈ ws, w.natAbs ≤ 8) (hK : as.length ≤ claimedMaxK) (n : Nat) :
    int32Min ≤ dotInt (as.take n) (ws.take n) ∧ dotInt (as.take n) (ws.take n) ≤ int32Max ∧
      (dotInt (as.take n) (ws.take n)).natAbs ≤ 2 ^ 23 := by
  have h := natAbs_dotInt_le (as.take n) (ws.take n) (fun a h => ha a (List.mem_of_mem_take h))
    (fun w h => hw w (List.mem_of_mem_take h))
  have hlen : (as.take n).length ≤ 8192 := by
    rw [List.length_take]
    unfold claimedMaxK at hK
    omega
  have := Nat.mul_le_mul_right (128 * 8) hlen
  unfold int32Min int32Max
  omega

/-! ## The hardware accumulator: wrapping int32 multiply-accumulate -/

/-- The accelerator's multiply-accumulate: int8 operands widened to int32, int32 wrap-around. -/
@[expose] public def macInt32 (acc : Int32) : List Int8 → List Int8 → Int32
  | a :: as, w :: ws => macInt32 (acc + a.toInt32 * w.toInt32) as ws
  | _, _ => acc

theorem macInt32_exact_aux :
    ∀ (acc : Int32) (as ws : List Int8), (∀ w ∈ ws, w.toInt.natAbs ≤ 8) →
      acc.toInt.natAbs + 1024 * as.length ≤ 2 ^ 31 - 1 →
      (macInt32 acc as ws).toInt = acc.toInt + dotInt (as.map Int8.toInt) (ws.map Int8.toInt)
  | acc, a :: as, w :: ws, hw, hb => by
    have haw : (a.toInt * w.toInt).natAbs ≤ 1024 := by
      rw [Int.natAbs_mul]
      have ha1 := Int8.le_toInt a
      have ha2 := Int8.toInt_le a
      have : a.toInt.natAbs ≤ 128 := by simp [Int8.maxValue] at ha2; omega
      exact Nat.mul_le_mul this (hw w (by simp))
    have hstep : (acc + a.toInt32 * w.toInt32).toInt = acc.toInt + a.toInt * w.toInt := by
      rw [Int32.toInt_add, Int32.toInt_mul, Int8.toInt_toInt32, Int8.toInt_toInt32]
      simp only [List.length_cons] at hb
      rw [Int.bmod_eq_of_le_mul_two (x := a.toInt * w.toInt) (by omega) (by omega),
        Int.bmod_eq_of_le_mul_two (by omega) (by omega)]
    have ih := macInt32_exact_aux (acc + a.toInt32 * w.toInt32) as ws (fun x hx => hw x (by simp [hx]))
      (by rw [hstep]; simp only [List.length_cons] at hb; omega)
    simp only [macInt32, List.map_cons, dotInt, ih, hstep]
    omega
  | acc, [], _, _, _ => by simp [macInt32, dotInt]
  | acc, _ :: _, [], _, _ => by simp [macInt32, dotInt]

/-- REQ-OVF: for every `K ≤ maxSafeK` (2,097,151 for int8 activations and 4-bit weights into int32), with
weights in `[-8, 8]`, the wrapping int32 multiply-accumulate equals the exact integer dot product: it
never overflows. This covers every int32 partial the kernel keeps, whatever its group length. -/
public theorem macInt32_eq_dotInt_of_le_maxSafeK {as ws : List Int8} (hw : ∀ w ∈ ws, w.toInt.natAbs ≤ 8)
    (hK : as.length ≤ maxSafeK activationBits weightHiBits accumulatorBits) :
    (macInt32 0 as ws).toInt = dotInt (as.map Int8.toInt) (ws.map Int8.toInt) := by
  rw [maxSafeK_int8_w4_int32] at hK
  have := macInt32_exact_aux 0 as ws hw (by simp only [Int32.toInt_zero]; omega)
  simpa using this

/-- REQ-OVF: with K ≤ 8192 int8 activations and weights in `[-8, 8]`, the wrapping int32
multiply-accumulate equals the exact integer dot product: it never overflows. -/
public theorem macInt32_eq_dotInt {as ws : List Int8} (hw : ∀ w ∈ ws, w.toInt.natAbs ≤ 8)
    (hK : as.length ≤ claimedMaxK) :
    (macInt32 0 as ws).toInt = dotInt (as.map Int8.toInt) (ws.map Int8.toInt) := by
  have := macInt32_exact_aux 0 as ws hw (by simp only [Int32.toInt_zero]; unfold claimedMaxK at hK; omega)
  simpa using this

end Quantproof
