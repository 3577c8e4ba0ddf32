module

public import Quantproof.Constants

/-!
# REQ-PACK: the 3.5-bit pair code and its 16-weights-in-7-bytes stream

A pair of weights `(a, b)` with `a ∈ [-8, 7]` (4-bit two's complement) and `b ∈ [-4, 3]`
(3-bit) is one 7-bit code `(a mod 16) * 8 + (b mod 8)`: `a` in bits 6..3, `b` in bits 2..0.
Eight codes (16 weights, 56 bits) are stored little-endian in seven bytes: code `i` occupies
bits `7i .. 7i+6` of the 56-bit group.

Proved here: codes fit in 7 bits; unpack ∘ pack = id on valid pairs and pack ∘ unpack = id on
codes; the design's Fortran unpacking and its sign-extension tables equal the spec; eight codes
survive the 7-byte group round trip, and so does any stream of whole groups.
-/

namespace Quantproof

/-- The pair `(a, b)` is representable: `a` fits 4-bit, `b` fits 3-bit two's complement. -/
@[expose] public def ValidPair (a b : Int) : Prop := -8 ≤ a ∧ a ≤ 7 ∧ -4 ≤ b ∧ b ≤ 3

public instance (a b : Int) : Decidable (ValidPair a b) := by unfold ValidPair; infer_instance

/-- Two's complement reading of the low `bits` bits of `u`. -/
@[expose] public def signExtend (bits u : Nat) : Int :=
  if u < 2 ^ (bits - 1) then (u : Int) else (u : Int) - 2 ^ bits

/-- The 7-bit code of a weight pair (REQ-PACK). -/
@[expose] public def packPair (a b : Int) : Nat :=
  (a % 16).toNat * 8 + (b % 8).toNat

/-- The 4-bit weight of a code (bits 6..3), sign-extended. -/
@[expose] public def unpackHi (c : Nat) : Int := signExtend 4 (c / 8 % 16)

/-- The 3-bit weight of a code (bits 2..0), sign-extended. -/
@[expose] public def unpackLo (c : Nat) : Int := signExtend 3 (c % 8)

/-- Both weights of a code. -/
@[expose] public def unpackPair (c : Nat) : Int × Int := (unpackHi c, unpackLo c)

/-- REQ-PACK: every code fits in 7 bits, for any integers. -/
public theorem packPair_lt_128 (a b : Int) : packPair a b < 128 := by
  unfold packPair
  omega

/-- REQ-PACK: unpacking a packed valid pair gives the pair back. -/
public theorem unpackPair_packPair {a b : Int} (h : ValidPair a b) :
    unpackPair (packPair a b) = (a, b) := by
  unfold ValidPair at h
  simp only [unpackPair, unpackHi, unpackLo, packPair, signExtend, Prod.mk.injEq]
  constructor <;> split <;> omega

/-- REQ-PACK: unpacking any 7-bit code gives a valid pair. -/
public theorem validPair_unpackPair {c : Nat} (h : c < 128) : ValidPair (unpackHi c) (unpackLo c) := by
  unfold ValidPair unpackHi unpackLo signExtend
  refine ⟨?_, ?_, ?_, ?_⟩ <;> split <;> omega

/-- REQ-PACK: packing the two weights of a 7-bit code gives the code back. -/
public theorem packPair_unpackPair {c : Nat} (h : c < 128) : packPair (unpackHi c) (unpackLo c) = c := by
  unfold packPair unpackHi unpackLo signExtend
  split <;> split <;> omega

/-! ## The design's Fortran unpacking, repaired, and its lookup tables -/

/-- The design's Fortran unpacking, repaired: `raw7 = iand(w, z'7F')`, `n1 = ishft(raw7, -3)`,
`n2 = iand(raw7, 7)`, then sign extension of *both* `n1` (4-bit) and `n2` (3-bit); `w` is the stored
byte's bit pattern. The routine as the design writes it is `seedUnpack` below. -/
@[expose] public def fortranUnpack (w : Nat) : Int × Int :=
  let raw7 := w &&& 0x7F
  let n1 := raw7 >>> 3
  let n2 := raw7 &&& 7
  (if n1 ≥ 8 then (n1 : Int) - 16 else n1, if n2 ≥ 4 then (n2 : Int) - 8 else n2)

/-- REQ-PACK: the Fortran unpacking of any byte is the spec applied to its low 7 bits. -/
public theorem fortranUnpack_eq (w : Nat) : fortranUnpack w = unpackPair (w % 128) := by
  have h7 : w &&& 0x7F = w % 128 := Nat.and_two_pow_sub_one_eq_mod w 7
  have h3 : w % 128 &&& 7 = w % 128 % 8 := Nat.and_two_pow_sub_one_eq_mod (w % 128) 3
  simp only [fortranUnpack, unpackPair, unpackHi, unpackLo, signExtend, h7, h3, Nat.shiftRight_eq_div_pow,
    Prod.mk.injEq]
  constructor <;> split <;> split <;> omega

/-- REQ-PACK: on a stored code (< 128) the Fortran unpacking is exactly the spec. -/
public theorem fortranUnpack_eq_unpackPair {c : Nat} (h : c < 128) : fortranUnpack c = unpackPair c := by
  rw [fortranUnpack_eq, Nat.mod_eq_of_lt h]

/-- The design's 16-entry sign-extension table `SIGN_EXTEND_4BIT(0:15)`. -/
@[expose] public def signExtend4Table : List Int := [0, 1, 2, 3, 4, 5, 6, 7, -8, -7, -6, -5, -4, -3, -2, -1]

/-- The matching 8-entry table for the 3-bit half. -/
@[expose] public def signExtend3Table : List Int := [0, 1, 2, 3, -4, -3, -2, -1]

/-- REQ-PACK: the 4-bit table is arithmetic sign extension at every index. -/
public theorem signExtend4Table_eq : ∀ i < 16, signExtend4Table[i]! = signExtend 4 i := by decide

/-- REQ-PACK: the 3-bit table is arithmetic sign extension at every index. -/
public theorem signExtend3Table_eq : ∀ i < 8, signExtend3Table[i]! = signExtend 3 i := by decide

/-- The 128-entry table the executable kernel unpacks with: entry `c` holds both weights of code `c`.
(Specs built from core list functions are `noncomputable`: the portable Lean ships no compiled code for
those functions. They are evaluated by the kernel, which is what the checks use.) -/
@[expose] public noncomputable def pairTable : List (Int × Int) := (List.range 128).map unpackPair

/-- REQ-PACK: the 128-entry unpacking table agrees with the spec at every code. -/
public theorem pairTable_eq {c : Nat} (h : c < 128) : pairTable[c]! = unpackPair c := by
  simp [pairTable, h]

/-! ## Eight codes in seven bytes -/

/-- The 56-bit little-endian word holding eight codes. -/
@[expose] public def groupWord (c0 c1 c2 c3 c4 c5 c6 c7 : Nat) : Nat :=
  c0 + 2 ^ 7 * c1 + 2 ^ 14 * c2 + 2 ^ 21 * c3 + 2 ^ 28 * c4 + 2 ^ 35 * c5 + 2 ^ 42 * c6 + 2 ^ 49 * c7

/-- Byte `j` (0..6) of a group word. -/
@[expose] public def wordByte (w j : Nat) : Nat := w / 2 ^ (8 * j) % 256

/-- The word a group's seven bytes spell, little-endian. -/
@[expose] public def bytesWord (b0 b1 b2 b3 b4 b5 b6 : Nat) : Nat :=
  b0 + 2 ^ 8 * b1 + 2 ^ 16 * b2 + 2 ^ 24 * b3 + 2 ^ 32 * b4 + 2 ^ 40 * b5 + 2 ^ 48 * b6

/-- Code `i` (0..7) of a group word. -/
@[expose] public def wordCode (w i : Nat) : Nat := w / 2 ^ (7 * i) % 128

/-- Pack whole groups of eight codes, seven bytes each; codes short of a group are dropped. -/
@[expose] public noncomputable def packGroups : List Nat → List Nat
  | c0 :: c1 :: c2 :: c3 :: c4 :: c5 :: c6 :: c7 :: rest =>
    (List.range 7).map (wordByte (groupWord c0 c1 c2 c3 c4 c5 c6 c7)) ++ packGroups rest
  | _ => []

/-- Zero codes appended so the stream is whole groups of eight. -/
@[expose] public noncomputable def padCodes (cs : List Nat) : List Nat := cs ++ List.replicate ((8 - cs.length % 8) % 8) 0

/-- Pack a stream of codes, eight to seven bytes, the last group padded with zero codes. -/
@[expose] public noncomputable def packStream (cs : List Nat) : List Nat := packGroups (padCodes cs)

/-- Unpack a byte stream, seven bytes to eight codes; trailing bytes short of a group are dropped. -/
@[expose] public noncomputable def unpackStream : List Nat → List Nat
  | b0 :: b1 :: b2 :: b3 :: b4 :: b5 :: b6 :: rest =>
    let w := bytesWord b0 b1 b2 b3 b4 b5 b6
    (List.range 8).map (wordCode w) ++ unpackStream rest
  | _ => []

/-- Eight 7-bit codes make a word below `2^56`. -/
public theorem groupWord_lt {c0 c1 c2 c3 c4 c5 c6 c7 : Nat} (h0 : c0 < 128) (h1 : c1 < 128) (h2 : c2 < 128)
    (h3 : c3 < 128) (h4 : c4 < 128) (h5 : c5 < 128) (h6 : c6 < 128) (h7 : c7 < 128) :
    groupWord c0 c1 c2 c3 c4 c5 c6 c7 < 2 ^ 56 := by
  unfold groupWord
  omega

/-- REQ-PACK: the seven bytes of a 56-bit word spell the word back. -/
public theorem bytesWord_wordByte {w : Nat} (hw : w < 2 ^ 56) :
    bytesWord (wordByte w 0) (wordByte w 1) (wordByte w 2) (wordByte w 3) (wordByte w 4) (wordByte w 5)
      (wordByte w 6) = w := by
  simp only [bytesWord, wordByte]
  omega

/-- REQ-PACK: each code of a group word is the code put there. -/
public theorem wordCode_groupWord {c0 c1 c2 c3 c4 c5 c6 c7 : Nat} (h0 : c0 < 128) (h1 : c1 < 128)
    (h2 : c2 < 128) (h3 : c3 < 128) (h4 : c4 < 128) (h5 : c5 < 128) (h6 : c6 < 128) (h7 : c7 < 128) :
    (List.range 8).map (wordCode (groupWord c0 c1 c2 c3 c4 c5 c6 c7)) = [c0, c1, c2, c3, c4, c5, c6, c7] := by
  simp only [List.range_succ, List.range_zero, List.nil_append, List.map_cons,
    List.map_nil, List.cons_append, wordCode, groupWord]
  simp only [List.cons.injEq, and_true]
  omega

/-- REQ-PACK: eight codes packed into seven bytes and unpacked come back unchanged. -/
public theorem unpackStream_packGroups_group {c0 c1 c2 c3 c4 c5 c6 c7 : Nat} (rest : List Nat)
    (h0 : c0 < 128) (h1 : c1 < 128) (h2 : c2 < 128) (h3 : c3 < 128) (h4 : c4 < 128) (h5 : c5 < 128)
    (h6 : c6 < 128) (h7 : c7 < 128) :
    unpackStream (packGroups (c0 :: c1 :: c2 :: c3 :: c4 :: c5 :: c6 :: c7 :: rest)) =
      [c0, c1, c2, c3, c4, c5, c6, c7] ++ unpackStream (packGroups rest) := by
  have range7 : ∀ f : Nat → Nat, (List.range 7).map f = [f 0, f 1, f 2, f 3, f 4, f 5, f 6] := fun _ => rfl
  simp only [packGroups, range7, List.cons_append, List.nil_append, unpackStream]
  rw [bytesWord_wordByte (groupWord_lt h0 h1 h2 h3 h4 h5 h6 h7), wordCode_groupWord h0 h1 h2 h3 h4 h5 h6 h7]
  rfl

/-- REQ-PACK: a stream of whole groups of 7-bit codes survives packing and unpacking. -/
public theorem unpackStream_packGroups : ∀ (cs : List Nat), cs.length % 8 = 0 → (∀ c ∈ cs, c < 128) →
    unpackStream (packGroups cs) = cs
  | [], _, _ => rfl
  | [_], h, _ | [_, _], h, _ | [_, _, _], h, _ | [_, _, _, _], h, _ | [_, _, _, _, _], h, _
  | [_, _, _, _, _, _], h, _ | [_, _, _, _, _, _, _], h, _ => by simp at h
  | c0 :: c1 :: c2 :: c3 :: c4 :: c5 :: c6 :: c7 :: rest, h, hc => by
    simp only [List.mem_cons, forall_eq_or_imp] at hc
    obtain ⟨h0, h1, h2, h3, h4, h5, h6, h7, hr⟩ := hc
    rw [unpackStream_packGroups_group rest h0 h1 h2 h3 h4 h5 h6 h7,
      unpackStream_packGroups rest (by simp at h; omega) hr]
    rfl

/-- REQ-PACK: any stream of 7-bit codes comes back from packing, followed by the zero padding. -/
public theorem unpackStream_packStream (cs : List Nat) (hc : ∀ c ∈ cs, c < 128) :
    unpackStream (packStream cs) = padCodes cs := by
  apply unpackStream_packGroups
  · simp only [padCodes, List.length_append, List.length_replicate]
    omega
  · intro c hmem
    simp only [padCodes, List.mem_append, List.mem_replicate] at hmem
    rcases hmem with h | ⟨_, rfl⟩
    · exact hc c h
    · decide

/-- Seven bytes per whole group of eight codes. -/
public theorem length_packGroups : ∀ cs : List Nat, (packGroups cs).length = 7 * (cs.length / 8)
  | c0 :: c1 :: c2 :: c3 :: c4 :: c5 :: c6 :: c7 :: rest => by
    simp only [packGroups, List.length_append, List.length_map, List.length_range, length_packGroups rest,
      List.length_cons]
    omega
  | [] | [_] | [_, _] | [_, _, _] | [_, _, _, _] | [_, _, _, _, _] | [_, _, _, _, _, _]
  | [_, _, _, _, _, _, _] => by simp [packGroups]

/-- REQ-PACK: a stream takes 7 bytes per started group of 16 weights (8 codes): 3.5 bits per weight. -/
public theorem length_packStream (cs : List Nat) : (packStream cs).length = 7 * ((cs.length + 7) / 8) := by
  simp only [packStream, length_packGroups, padCodes, List.length_append, List.length_replicate]
  omega

/-- REQ-PACK: every packed byte is a byte. -/
public theorem wordByte_lt (w j : Nat) : wordByte w j < 256 := Nat.mod_lt _ (by decide)

/-! ## The design's `unpack_3p5bit`, as written

The design's routine reads one code per stored byte and takes the 3-bit field with `iand(raw7, 7)` and no
sign extension; the 4-bit field goes through its `SIGN_EXTEND_4BIT` table. `fortranUnpack` above is the
repair (both fields sign-extended); `seedUnpack` is the routine as written. -/

/-- The design's `unpack_3p5bit` as written: `raw7 = iand(w, z'7F')`, `n1 = ishft(raw7, -3)` looked up in
`SIGN_EXTEND_4BIT`, `n2 = iand(raw7, 7)` kept as it is. -/
@[expose] public noncomputable def seedUnpack (w : Nat) : Int × Int :=
  let raw7 := w &&& 0x7F
  (signExtend4Table[raw7 >>> 3]!, ((raw7 &&& 7 : Nat) : Int))

/-- REQ-PACK: as written, the design's routine returns every negative 3-bit weight as that weight plus 8. -/
public theorem seedUnpack_neg_wrong {a b : Int} (h : ValidPair a b) (hb : b < 0) :
    (seedUnpack (packPair a b)).2 = b + 8 ∧ (seedUnpack (packPair a b)).2 ≠ b := by
  unfold ValidPair at h
  have h7 : packPair a b &&& 0x7F = packPair a b := by
    rw [Nat.and_two_pow_sub_one_eq_mod _ 7]; exact Nat.mod_eq_of_lt (packPair_lt_128 a b)
  have h3 : packPair a b &&& 7 = packPair a b % 8 := Nat.and_two_pow_sub_one_eq_mod _ 3
  simp only [seedUnpack, h7, h3]
  unfold packPair
  constructor <;> omega

/-- REQ-PACK: on nonnegative 3-bit weights the design's routine is right. -/
public theorem seedUnpack_of_nonneg {a b : Int} (h : ValidPair a b) (hb : 0 ≤ b) :
    seedUnpack (packPair a b) = (a, b) := by
  have hc := packPair_lt_128 a b
  have h7 : packPair a b &&& 0x7F = packPair a b := by
    rw [Nat.and_two_pow_sub_one_eq_mod _ 7]; exact Nat.mod_eq_of_lt hc
  have h3 : packPair a b &&& 7 = packPair a b % 8 := Nat.and_two_pow_sub_one_eq_mod _ 3
  have hhi : unpackHi (packPair a b) = a := congrArg Prod.fst (unpackPair_packPair h)
  have hfirst : signExtend4Table[packPair a b >>> 3]! = a := by
    have hlt : packPair a b >>> 3 < 16 := by rw [Nat.shiftRight_eq_div_pow]; omega
    rw [signExtend4Table_eq _ hlt]
    calc signExtend 4 (packPair a b >>> 3) = unpackHi (packPair a b) := by
          unfold unpackHi; congr 1; rw [Nat.shiftRight_eq_div_pow]; omega
      _ = a := hhi
  unfold ValidPair at h
  simp only [seedUnpack, h7, h3, hfirst, Prod.mk.injEq, true_and]
  unfold packPair
  omega

/-- REQ-PACK: one code per byte, as the design's routine reads them, is 8 bits per pair: 16 weights in
8 bytes, 4 bits per weight, where the packed stream takes 7 bytes, 3.5 bits per weight. -/
public theorem seed_bytes_per_16_weights (cs : List Nat) (h : cs.length = 8) :
    cs.length = 8 ∧ (packStream cs).length = 7 := by
  refine ⟨h, ?_⟩
  rw [length_packStream, h]

end Quantproof
