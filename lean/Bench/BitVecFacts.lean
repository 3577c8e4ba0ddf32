module

/-!
# Prover benchmark: BitVec facts

Development set: restated core-library facts about `BitVec`, under new names.
-/

namespace Bench

theorem bv_toNat_lt' (w : Nat) (x : BitVec w) : x.toNat < 2 ^ w := by
  sorry

theorem bv_add_comm' (x y : BitVec 8) : x + y = y + x := by
  sorry

theorem bv_and_self' (x : BitVec 8) : x &&& x = x := by
  sorry

theorem bv_xor_self' (x : BitVec 16) : x ^^^ x = 0 := by
  sorry

theorem bv_ofNat_toNat' (x : BitVec 8) : BitVec.ofNat 8 x.toNat = x := by
  sorry

theorem bv_zero_add' (x : BitVec 32) : 0 + x = x := by
  sorry

theorem bv_toNat_add' (x y : BitVec 8) : (x + y).toNat = (x.toNat + y.toNat) % 256 := by
  sorry

theorem bv_or_zero' (x : BitVec 8) : x ||| 0 = x := by
  sorry

end Bench
