module

/-!
# Prover benchmark: test split, Array, Fin, Option and BitVec

Test split: measured once, at the end, with the policy frozen.
-/

namespace Bench

theorem t_array_size_push_push (a : Array Nat) (x y : Nat) : ((a.push x).push y).size = a.size + 2 := by
  sorry

theorem t_fin_val_succ (n : Nat) (i : Fin n) : i.succ.val = i.val + 1 := by
  sorry

theorem t_option_map_none (f : Nat → Nat) : (none : Option Nat).map f = none := by
  sorry

theorem t_bv_toNat_ofNat (x : Nat) : (BitVec.ofNat 8 x).toNat = x % 256 := by
  sorry

theorem t_bv_and_zero (x : BitVec 8) : x &&& 0 = 0 := by
  sorry

theorem t_option_getD_some (x d : Nat) : (some x).getD d = x := by
  sorry

end Bench
