module

public import Quantproof.Matmul
public import Quantproof.Activations

/-!
# REQ-E2E: the kernel's computation, step by step

One output of the kernel, as `verifier/kernels/reference.py` and the fast path `packed_matmul` compute it:
activation levels `a` (scale `sx`), weight levels `q` in groups of `g` with one scale per group and lane
(first lane at even positions, 4-bit; second lane at odd positions, 3-bit); one integer partial per group
and lane (`lanePartials`); then `Σ_groups sx · (s_first · P_first + s_second · P_second)` in ℚ
(`kernelRow`). Proved here: this regrouped sum is the dequantized dot product `Σ_k (sx a_k)(s_k q_k)`.
-/

namespace Quantproof

/-! ## The kernel: one partial per group and lane, combined in ℚ -/

/-- The two partials of one group: the sums of level products at even positions (the first lane, 4-bit
weights) and at odd positions (the second lane, 3-bit weights). -/
@[expose] public def lanePartials : List Int → List Int → Int × Int
  | a0 :: a1 :: as, q0 :: q1 :: qs => (a0 * q0 + (lanePartials as qs).1, a1 * q1 + (lanePartials as qs).2)
  | [a0], [q0] => (a0 * q0, 0)
  | _, _ => (0, 0)

/-- One output of the kernel: activation levels `a` with scale `sx`, weight levels `q` with one pair of
scales `(first lane, second lane)` per group of `g`: `Σ_groups sx · (s_first · P_first + s_second · P_second)`. -/
@[expose] public noncomputable def kernelRow (g : Nat) (sx : Rat) : List (Rat × Rat) → List Int → List Int → Rat
  | [], _, _ => 0
  | (sh, sl) :: ss, a, q =>
    sx * (sh * (lanePartials (a.take g) (q.take g)).1 + sl * (lanePartials (a.take g) (q.take g)).2)
      + kernelRow g sx ss (a.drop g) (q.drop g)

/-- The positions of one group of `2 n` weights: scale and level range, first lane at even positions. -/
@[expose] public def groupLanes : Nat → Rat → Rat → List (Rat × Int × Int)
  | 0, _, _ => []
  | n + 1, sh, sl => (sh, -8, 7) :: (sl, -4, 3) :: groupLanes n sh sl

public theorem mem_groupLanes {l : Rat × Int × Int} : ∀ {n : Nat} {sh sl : Rat}, l ∈ groupLanes n sh sl →
    (l.2.1 = -8 ∧ l.2.2 = 7) ∨ (l.2.1 = -4 ∧ l.2.2 = 3)
  | 0, _, _, h => by simp [groupLanes] at h
  | n + 1, sh, sl, h => by
    simp only [groupLanes, List.mem_cons] at h
    rcases h with rfl | rfl | h
    · exact Or.inl ⟨rfl, rfl⟩
    · exact Or.inr ⟨rfl, rfl⟩
    · exact mem_groupLanes h

/-- The positions of a row of groups of `g` weights. -/
@[expose] public noncomputable def rowLanes (g : Nat) : List (Rat × Rat) → List (Rat × Int × Int)
  | [] => []
  | (sh, sl) :: ss => groupLanes (g / 2) sh sl ++ rowLanes g ss

public theorem lane_range_ordered {g : Nat} {l : Rat × Int × Int} : ∀ {ss : List (Rat × Rat)}, l ∈ rowLanes g ss →
    l.2.1 ≤ l.2.2
  | [], h => by simp [rowLanes] at h
  | (sh, sl) :: ss, h => by
    simp only [rowLanes, List.mem_append] at h
    rcases h with h | h
    · rcases mem_groupLanes h with ⟨h1, h2⟩ | ⟨h1, h2⟩ <;> omega
    · exact lane_range_ordered h

/-- A row of weights quantized position by position with its lane's scale and range. -/
@[expose] public noncomputable def quantizeRow (lanes : List (Rat × Int × Int)) (ws : List Rat) : List Int :=
  List.zipWith (fun l w => quantize l.1 l.2.1 l.2.2 w) lanes ws

/-- The dequantized dot product, position by position: `Σ_k (sx · a_k) · (s_k · q_k)`. -/
@[expose] public def laneDot (sx : Rat) : List (Rat × Int × Int) → List Int → List Int → Rat
  | l :: ls, a :: as, q :: qs => (sx * a) * (l.1 * q) + laneDot sx ls as qs
  | _, _, _ => 0

public theorem length_groupLanes (n : Nat) (sh sl : Rat) : (groupLanes n sh sl).length = 2 * n := by
  induction n with
  | zero => rfl
  | succ n ih => simp only [groupLanes, List.length_cons, ih]; omega

public theorem length_rowLanes {g : Nat} (hg : g % 2 = 0) : ∀ ss : List (Rat × Rat), (rowLanes g ss).length = g * ss.length
  | [] => rfl
  | (sh, sl) :: ss => by
    simp only [rowLanes, List.length_append, length_groupLanes, length_rowLanes hg ss, List.length_cons]
    rw [Nat.mul_succ]; omega

/-- A group's two partials, scaled and combined, are the dequantized dot product of the group. -/
public theorem combine_lanePartials (sx sh sl : Rat) : ∀ (n : Nat) (a q : List Int), a.length = 2 * n → q.length = 2 * n →
    sx * (sh * (lanePartials a q).1 + sl * (lanePartials a q).2) = laneDot sx (groupLanes n sh sl) a q
  | 0, [], [], _, _ => by simp [lanePartials, groupLanes, laneDot]; grind
  | n + 1, a0 :: a1 :: as, q0 :: q1 :: qs, ha, hq => by
    have ih := combine_lanePartials sx sh sl n as qs (by simp at ha; omega) (by simp at hq; omega)
    simp only [lanePartials, groupLanes, laneDot]
    rw [← ih]
    push_cast
    grind
  | 0, _ :: _, _, ha, _ | 0, [], _ :: _, _, hq => by simp at *
  | n + 1, [], _, ha, _ | n + 1, [_], _, ha, _ => by simp at ha; omega
  | n + 1, _ :: _ :: _, [], _, hq | n + 1, _ :: _ :: _, [_], _, hq => by simp at hq; omega

public theorem laneDot_append (sx : Rat) : ∀ (l1 l2 : List (Rat × Int × Int)) (a q : List Int),
    l1.length ≤ a.length → l1.length ≤ q.length →
    laneDot sx (l1 ++ l2) a q = laneDot sx l1 (a.take l1.length) (q.take l1.length)
      + laneDot sx l2 (a.drop l1.length) (q.drop l1.length)
  | [], l2, a, q, _, _ => by simp [laneDot]; grind
  | l :: ls, l2, a0 :: as, q0 :: qs, ha, hq => by
    have ih := laneDot_append sx ls l2 as qs (by simp at ha; omega) (by simp at hq; omega)
    simp only [List.cons_append, laneDot, List.length_cons, List.take_succ_cons, List.drop_succ_cons, ih]
    grind
  | _ :: _, _, [], _, ha, _ => by simp at ha
  | _ :: _, _, _ :: _, [], _, hq => by simp at hq

/-- The kernel's output is the dequantized dot product of the whole row. -/
public theorem kernelRow_eq_laneDot {g : Nat} (hg : g % 2 = 0) (sx : Rat) :
    ∀ (ss : List (Rat × Rat)) (a q : List Int), a.length = g * ss.length → q.length = g * ss.length →
      kernelRow g sx ss a q = laneDot sx (rowLanes g ss) a q
  | [], a, q, _, _ => by simp [kernelRow, rowLanes, laneDot]
  | (sh, sl) :: ss, a, q, ha, hq => by
    have hl : (groupLanes (g / 2) sh sl).length = g := by rw [length_groupLanes]; omega
    simp only [List.length_cons, Nat.mul_succ] at ha hq
    simp only [kernelRow, rowLanes]
    rw [laneDot_append sx _ _ a q (by omega) (by omega), hl,
      combine_lanePartials sx sh sl (g / 2) (a.take g) (q.take g) (by simp; omega) (by simp; omega),
      kernelRow_eq_laneDot hg sx ss (a.drop g) (q.drop g) (by simp; omega) (by simp; omega)]

/-- The elements at even positions. -/
@[expose] public def evens {α : Type} : List α → List α
  | a :: _ :: rest => a :: evens rest
  | [a] => [a]
  | [] => []

/-- The elements at odd positions. -/
@[expose] public def odds {α : Type} : List α → List α
  | _ :: b :: rest => b :: odds rest
  | _ => []

end Quantproof
