module

/-!
# REQ-PACK: the 3.5-bit pair code

A pair of weights `(a, b)` with `a ∈ [-8, 7]` (4-bit two's complement) and `b ∈ [-4, 3]` (3-bit)
is stored as one 7-bit code `(a mod 16) * 8 + (b mod 8)`.
-/

namespace Quantproof

/-- The 7-bit code of a weight pair (REQ-PACK). -/
@[expose] public def packPair (a b : Int) : Nat :=
  (a % 16).toNat * 8 + (b % 8).toNat

/-- REQ-PACK: every code fits in 7 bits. -/
public theorem packPair_lt_128 (a b : Int) : packPair a b < 128 := by
  unfold packPair
  omega

end Quantproof
