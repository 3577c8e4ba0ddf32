module

/-!
# Prover benchmark: packing and rounding

Development set for `quantproof bench`: bit-level and rounding facts of the kind the 3.5-bit format needs.
-/

namespace Bench

/-- The 7-bit code of a pair (4-bit then 3-bit, two's complement). -/
def code (a b : Int) : Nat := (a % 16).toNat * 8 + (b % 8).toNat

theorem code_lt (a b : Int) : code a b < 128 := by
  sorry

theorem code_hi (a b : Int) (ha : 0 ≤ a) (ha' : a < 8) (hb : 0 ≤ b) (hb' : b < 4) : code a b / 8 = a.toNat := by
  sorry

theorem mod_mod_of_dvd' (n : Nat) : n % 128 % 8 = n % 8 := by
  sorry

theorem shift_eq_div (n : Nat) : n >>> 3 = n / 8 := by
  sorry

theorem and_seven (n : Nat) : n &&& 7 = n % 8 := by
  sorry

theorem pack_unpack_byte (hi lo : Nat) (h1 : hi < 16) (h2 : lo < 16) : (hi * 16 + lo) / 16 = hi ∧ (hi * 16 + lo) % 16 = lo := by
  sorry

theorem group_bytes (w : Nat) (h : w < 2 ^ 16) : w % 256 + 256 * (w / 256 % 256) = w := by
  sorry

theorem clamp_le (lo hi x : Int) (h : lo ≤ hi) : max lo (min hi x) ≤ hi := by
  sorry

theorem clamp_ge (lo hi x : Int) (h : lo ≤ hi) : lo ≤ max lo (min hi x) := by
  sorry

theorem round_half_up_le (x : Nat) : (2 * x + 1) / 2 = x := by
  sorry

theorem sign_extend_range (u : Nat) (h : u < 16) : -8 ≤ (if u < 8 then (u : Int) else (u : Int) - 16) ∧ (if u < 8 then (u : Int) else (u : Int) - 16) ≤ 7 := by
  sorry

theorem ceil_div_mul (n : Nat) : n ≤ (n + 15) / 16 * 16 := by
  sorry

end Bench
