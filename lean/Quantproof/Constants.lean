module

/-!
# The hardware and format constants, stated once

Requirements: REQ-OVF (bit widths, the K bound claimed by the design), REQ-TILE (the LPU model),
REQ-PACK (the 4-bit and 3-bit halves of a pair). `verifier/spec/requirements.toml` states the same
values; a test has the Lean kernel check that both agree.
-/

namespace Quantproof

/-- Rows of the systolic processing-element array. -/
@[expose] public def peRows : Nat := 320

/-- Columns of the systolic processing-element array. -/
@[expose] public def peCols : Nat := 320

/-- On-chip memory available to one tile, in bytes: 220 KiB. The design documents write "220 KB"
(`tile_memory ≤ 220 KB`); it is read as 220 × 1024 bytes because on-chip SRAM is sized in binary
units (the JEDEC memory convention, KB = 1024 B). Under the SI reading (220,000 B) the planner's
reserve would have to grow by 5,280 bytes. -/
@[expose] public def tileBudgetBytes : Nat := 220 * 1024

/-- Weights that share one pair of scales along the reduction dimension K. -/
@[expose] public def groupSize : Nat := 128

/-- Bytes of one stored scale (fp16). -/
@[expose] public def scaleBytes : Nat := 2

/-- Width of an activation: int8. -/
@[expose] public def activationBits : Nat := 8

/-- Width of the first weight of a pair: 4-bit two's complement. -/
@[expose] public def weightHiBits : Nat := 4

/-- Width of the second weight of a pair: 3-bit two's complement. -/
@[expose] public def weightLoBits : Nat := 3

/-- Width of the accumulator: int32. -/
@[expose] public def accumulatorBits : Nat := 32

/-- The reduction length the design documents claim safe. -/
@[expose] public def claimedMaxK : Nat := 8192

/-- Smallest int32 value, `-2^31`. -/
@[expose] public def int32Min : Int := -2 ^ 31

/-- Largest int32 value, `2^31 - 1`. -/
@[expose] public def int32Max : Int := 2 ^ 31 - 1

end Quantproof
