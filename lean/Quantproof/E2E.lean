module

public import Quantproof.Kernel
public import Quantproof.Fp16
public import Quantproof.Accum

/-!
# REQ-E2E: the kernel's output against the exact product

For activations `x` (rows, with their scales) and weights `w` (columns, with the scales the kernel computes
from them: REQ-SCALE), every output of the kernel is within `e2eBound` of `Σ_k x_k w_k`: per position the
weight-rounding term `|x_k| s_k/2`, the activation-rounding term `|w_k| sx/2` and the cross term
`(sx/2)(s_k/2)`. No smaller bound of that form holds (a witness reaches it), and the max-over-outputs form
follows. Int32 partials are exact for every group length up to `maxSafeK` (REQ-OVF).
-/

namespace Quantproof

/-! ## REQ-E2E: the error of the kernel's output -/

/-- The end-to-end bound of one output: `Σ_k |x_k| s_k/2 + |w_k| sx/2 + (sx/2)(s_k/2)`, the weight-rounding,
activation-rounding and cross terms of each position. -/
@[expose] public def e2eBound (sx : Rat) : List (Rat × Int × Int) → List Rat → List Rat → Rat
  | l :: ls, x :: xs, w :: ws => rabs x * (l.1 / 2) + rabs w * (sx / 2) + sx / 2 * (l.1 / 2) + e2eBound sx ls xs ws
  | _, _, _ => 0

theorem rabs_sub_comm (a b : Rat) : rabs (a - b) = rabs (b - a) := by
  unfold rabs; split <;> split <;> grind

/-- One position: the product of the dequantized values is within the three terms of the exact product. -/
theorem rabs_mul_sub_le {x w dx dw ex ew : Rat} (hx : rabs (x - dx) ≤ ex) (hw : rabs (w - dw) ≤ ew) :
    rabs (x * w - dx * dw) ≤ rabs x * ew + rabs w * ex + ex * ew := by
  have hsplit : x * w - dx * dw = x * (w - dw) + (x - dx) * w - (x - dx) * (w - dw) := by grind
  have h0 := rabs_nonneg (x - dx)
  have h1 := rabs_nonneg (w - dw)
  have hxn := rabs_nonneg x
  have hwn := rabs_nonneg w
  have t1 : rabs (x * (w - dw)) ≤ rabs x * ew := by
    rw [rabs_mul]; exact Rat.mul_le_mul_of_nonneg_left hw hxn
  have t2 : rabs ((x - dx) * w) ≤ rabs w * ex := by
    rw [rabs_mul, Rat.mul_comm]; exact Rat.mul_le_mul_of_nonneg_left hx hwn
  have t3 : rabs ((x - dx) * (w - dw)) ≤ ex * ew := by
    rw [rabs_mul]
    have := Rat.mul_le_mul_of_nonneg_left hw h0
    have := Rat.mul_le_mul_of_nonneg_right hx (Rat.le_trans h1 hw)
    grind
  have hneg : rabs (-((x - dx) * (w - dw))) = rabs ((x - dx) * (w - dw)) := by
    unfold rabs; split <;> split <;> grind
  rw [hsplit]
  have := rabs_add_le (x * (w - dw) + (x - dx) * w) (-((x - dx) * (w - dw)))
  have := rabs_add_le (x * (w - dw)) ((x - dx) * w)
  have e : x * (w - dw) + (x - dx) * w - (x - dx) * (w - dw) =
      x * (w - dw) + (x - dx) * w + -((x - dx) * (w - dw)) := by grind
  rw [e]
  grind

/-- Position by position, the kernel's dequantized dot product is within `e2eBound` of the exact one. -/
theorem rabs_dotRat_sub_laneDot_le {sx : Rat} (hsx : 0 < sx) :
    ∀ (lanes : List (Rat × Int × Int)) (xs ws : List Rat), xs.length = lanes.length → ws.length = lanes.length →
      (∀ x ∈ xs, rabs x ≤ 127 * sx) →
      (∀ p ∈ lanes.zip ws, 0 < p.1.1 ∧ p.1.2.1 ≤ p.1.2.2 ∧ (p.1.2.1 : Rat) * p.1.1 ≤ p.2 ∧ p.2 ≤ (p.1.2.2 : Rat) * p.1.1) →
      rabs (dotRat xs ws - laneDot sx lanes (quantizeActs sx xs) (quantizeRow lanes ws)) ≤ e2eBound sx lanes xs ws
  | [], [], [], _, _, _, _ => by simp only [dotRat, laneDot, e2eBound, rabs_sub_self]; exact Rat.le_refl
  | l :: ls, x :: xs, w :: ws, hxl, hwl, hxr, hwr => by
    have ih := rabs_dotRat_sub_laneDot_le hsx ls xs ws (by simp at hxl; omega) (by simp at hwl; omega)
      (fun v hv => hxr v (by simp [hv])) (fun p hp => hwr p (by simp [hp]))
    obtain ⟨hs, hle, hlo, hhi⟩ := hwr (l, w) (by simp)
    have hxa := (quantizeAct_error_le hsx (hxr x (by simp))).2.2
    have hwq := quantize_error_le hs hle hlo hhi
    have hone := rabs_mul_sub_le (x := x) (w := w) hxa hwq
    simp only [dotRat, laneDot, e2eBound, quantizeActs, quantizeRow, List.map_cons, List.zipWith_cons_cons]
    simp only [quantizeActs, quantizeRow] at ih
    unfold dequantize at hone
    have hsplit : x * w + dotRat xs ws - ((sx * ↑(quantize sx (-128) 127 x)) * (l.1 * ↑(quantize l.1 l.2.1 l.2.2 w))
        + laneDot sx ls (List.map (quantize sx (-128) 127) xs) (List.zipWith (fun l w => quantize l.1 l.2.1 l.2.2 w) ls ws))
        = (x * w - ↑(quantize sx (-128) 127 x) * sx * (↑(quantize l.1 l.2.1 l.2.2 w) * l.1))
          + (dotRat xs ws - laneDot sx ls (List.map (quantize sx (-128) 127) xs)
              (List.zipWith (fun l w => quantize l.1 l.2.1 l.2.2 w) ls ws)) := by grind
    rw [hsplit]
    have := rabs_add_le (x * w - ↑(quantize sx (-128) 127 x) * sx * (↑(quantize l.1 l.2.1 l.2.2 w) * l.1))
      (dotRat xs ws - laneDot sx ls (List.map (quantize sx (-128) 127) xs)
        (List.zipWith (fun l w => quantize l.1 l.2.1 l.2.2 w) ls ws))
    grind
  | [], _ :: _, _, hxl, _, _, _ | [], [], _ :: _, _, hwl, _, _ => by simp at *
  | _ :: _, [], _, hxl, _, _, _ | _ :: _, _ :: _, [], _, hwl, _, _ => by simp at *

/-- REQ-E2E: the kernel's output for one row of activations `xs` (scale `sx`, every `|x| ≤ 127 sx`) and one
column of weights `ws` (groups of `g` with scales `ss`, every weight in its lane's clipping range), both
padded to whole groups, is within `e2eBound` of the exact dot product `Σ_k x_k w_k`. -/
public theorem kernelRow_error {g : Nat} (hg : g % 2 = 0) {sx : Rat} (hsx : 0 < sx) {ss : List (Rat × Rat)}
    {xs ws : List Rat} (hx : xs.length = g * ss.length) (hw : ws.length = g * ss.length)
    (hxr : ∀ x ∈ xs, rabs x ≤ 127 * sx)
    (hwr : ∀ p ∈ (rowLanes g ss).zip ws, 0 < p.1.1 ∧ (p.1.2.1 : Rat) * p.1.1 ≤ p.2 ∧ p.2 ≤ (p.1.2.2 : Rat) * p.1.1) :
    rabs (kernelRow g sx ss (quantizeActs sx xs) (quantizeRow (rowLanes g ss) ws) - dotRat xs ws)
      ≤ e2eBound sx (rowLanes g ss) xs ws := by
  have hl := length_rowLanes hg ss
  rw [kernelRow_eq_laneDot hg sx ss _ _ (by simp [quantizeActs, hx]) (by simp [quantizeRow, hw, hl])]
  have hrange : ∀ p ∈ (rowLanes g ss).zip ws, p.1.2.1 ≤ p.1.2.2 := by
    intro p hp
    have hmem := (List.of_mem_zip hp).1
    exact lane_range_ordered hmem
  have h := rabs_dotRat_sub_laneDot_le hsx (rowLanes g ss) xs ws (by omega) (by omega) hxr
    (fun p hp => ⟨(hwr p hp).1, hrange p hp, (hwr p hp).2⟩)
  rw [rabs_sub_comm]
  exact h

/-- REQ-E2E, max-over-outputs form: with every `|x| ≤ X`, every `|w| ≤ W` and every weight scale at most `S`,
the bound is at most `K · (X · S/2 + W · sx/2 + (sx/2)(S/2))`, `K` the padded length. -/
public theorem e2eBound_le_max {sx X W S : Rat} (hsx : 0 ≤ sx) :
    ∀ (lanes : List (Rat × Int × Int)) (xs ws : List Rat), xs.length = lanes.length → ws.length = lanes.length →
      (∀ x ∈ xs, rabs x ≤ X) → (∀ w ∈ ws, rabs w ≤ W) → (∀ l ∈ lanes, 0 ≤ l.1 ∧ l.1 ≤ S) →
      e2eBound sx lanes xs ws ≤ lanes.length * (X * (S / 2) + W * (sx / 2) + sx / 2 * (S / 2))
  | l :: ls, x :: xs, w :: ws, hxl, hwl, hx, hw, hl => by
    have ih := e2eBound_le_max hsx ls xs ws (by simp at hxl; omega) (by simp at hwl; omega)
      (fun v hv => hx v (by simp [hv])) (fun v hv => hw v (by simp [hv])) (fun v hv => hl v (by simp [hv]))
    have hx0 := hx x (by simp)
    have hw0 := hw w (by simp)
    obtain ⟨hs0, hsS⟩ := hl l (by simp)
    have ax := rabs_nonneg x
    have aw := rabs_nonneg w
    have t1 : rabs x * (l.1 / 2) ≤ X * (S / 2) := by
      have := Rat.mul_le_mul_of_nonneg_right hx0 (show 0 ≤ l.1 / 2 by grind)
      have := Rat.mul_le_mul_of_nonneg_left (show l.1 / 2 ≤ S / 2 by grind) (Rat.le_trans ax hx0)
      grind
    have t2 : rabs w * (sx / 2) ≤ W * (sx / 2) := Rat.mul_le_mul_of_nonneg_right hw0 (by grind)
    have t3 : sx / 2 * (l.1 / 2) ≤ sx / 2 * (S / 2) := Rat.mul_le_mul_of_nonneg_left (by grind) (by grind)
    simp only [e2eBound, List.length_cons]
    push_cast
    grind
  | [], _, _, _, _, _, _, _ => by simp only [e2eBound, List.length_nil]; push_cast; grind
  | _ :: _, [], _, hxl, _, _, _, _ | _ :: _, _ :: _, [], _, hwl, _, _, _ => by simp at *

/-- REQ-E2E: no smaller bound of this form holds: one group of two positions (scales 1, activation scale 1)
where every rounding meets its worst case reaches `e2eBound` exactly. -/
public theorem kernelRow_error_tight :
    ∃ (sx : Rat) (ss : List (Rat × Rat)) (xs ws : List Rat), 0 < sx ∧ xs.length = 2 * ss.length ∧
      ws.length = 2 * ss.length ∧ (∀ x ∈ xs, rabs x ≤ 127 * sx) ∧
      (∀ p ∈ (rowLanes 2 ss).zip ws, 0 < p.1.1 ∧ (p.1.2.1 : Rat) * p.1.1 ≤ p.2 ∧ p.2 ≤ (p.1.2.2 : Rat) * p.1.1) ∧
      rabs (kernelRow 2 sx ss (quantizeActs sx xs) (quantizeRow (rowLanes 2 ss) ws) - dotRat xs ws)
        = e2eBound sx (rowLanes 2 ss) xs ws := by
  refine ⟨1, [(1, 1)], [3 / 2, 3 / 2], [-3 / 2, -3 / 2], by decide, rfl, rfl, ?_, ?_, ?_⟩
  · decide +kernel
  · decide +kernel
  · decide +kernel

/-! ## From float weights: the kernel's own scales (REQ-SCALE) discharge the weights' range -/

/-- The kernel's scales for `n` groups of `g` weights: each group's first-lane peak over 7 and second-lane
peak over 3, rounded up to fp16 (`laneScale`); `none` if a scale overflows fp16. -/
@[expose] public noncomputable def rowScales (g : Nat) : Nat → List Rat → Option (List (Rat × Rat))
  | 0, _ => some []
  | n + 1, ws =>
    match laneScale (peakOf (evens (ws.take g))) 7, laneScale (peakOf (odds (ws.take g))) 3,
      rowScales g n (ws.drop g) with
    | some sh, some sl, some rest => some ((sh, sl) :: rest)
    | _, _, _ => none

theorem mem_zip_groupLanes {sh sl : Rat} : ∀ {n : Nat} {grp : List Rat} {p : (Rat × Int × Int) × Rat},
    p ∈ (groupLanes n sh sl).zip grp →
      (p.1 = (sh, -8, 7) ∧ p.2 ∈ evens grp) ∨ (p.1 = (sl, -4, 3) ∧ p.2 ∈ odds grp)
  | 0, _, _, h => by simp [groupLanes] at h
  | n + 1, w0 :: w1 :: rest, p, h => by
    simp only [groupLanes, List.zip_cons_cons, List.mem_cons] at h
    rcases h with rfl | rfl | h
    · exact Or.inl ⟨rfl, by simp [evens]⟩
    · exact Or.inr ⟨rfl, by simp [odds]⟩
    · rcases mem_zip_groupLanes h with ⟨h1, h2⟩ | ⟨h1, h2⟩
      · exact Or.inl ⟨h1, by simp [evens, h2]⟩
      · exact Or.inr ⟨h1, by simp [odds, h2]⟩
  | n + 1, [w0], p, h => by
    simp only [groupLanes, List.zip_cons_cons, List.zip_nil_right, List.mem_cons, List.not_mem_nil,
      or_false] at h
    subst h
    exact Or.inl ⟨rfl, by simp [evens]⟩
  | n + 1, [], _, h => by simp [groupLanes] at h

theorem group_range {n : Nat} {grp : List Rat} {sh sl : Rat} (hh : laneScale (peakOf (evens grp)) 7 = some sh)
    (hl : laneScale (peakOf (odds grp)) 3 = some sl) :
    ∀ p ∈ (groupLanes n sh sl).zip grp, 0 < p.1.1 ∧ (p.1.2.1 : Rat) * p.1.1 ≤ p.2 ∧ p.2 ≤ (p.1.2.2 : Rat) * p.1.1 := by
  intro p hp
  have rh := laneScale_range (by decide) (peakOf_nonneg _) hh
  have rl := laneScale_range (by decide) (peakOf_nonneg _) hl
  rcases mem_zip_groupLanes hp with ⟨h1, h2⟩ | ⟨h1, h2⟩
  · obtain ⟨m, e, hm, _, _, hv⟩ := rh.1
    have hpos : 0 < sh := by
      rw [hv]; exact Rat.mul_pos (by exact_mod_cast hm) (fp16Ulp_pos e)
    have := rh.2 p.2 (rabs_le_peakOf p.2 h2)
    rw [h1]
    exact ⟨hpos, by simpa using this.1, by simpa using this.2⟩
  · obtain ⟨m, e, hm, _, _, hv⟩ := rl.1
    have hpos : 0 < sl := by
      rw [hv]; exact Rat.mul_pos (by exact_mod_cast hm) (fp16Ulp_pos e)
    have := rl.2 p.2 (rabs_le_peakOf p.2 h2)
    rw [h1]
    exact ⟨hpos, by simpa using this.1, by simpa using this.2⟩

/-- REQ-SCALE: the kernel's own scales put every weight of the row in its lane's clipping range. -/
public theorem rowScales_range {g : Nat} (hg : g % 2 = 0) :
    ∀ (n : Nat) (ws : List Rat) (ss : List (Rat × Rat)), ws.length = g * n → rowScales g n ws = some ss →
      ss.length = n ∧ ∀ p ∈ (rowLanes g ss).zip ws, 0 < p.1.1 ∧ (p.1.2.1 : Rat) * p.1.1 ≤ p.2 ∧
        p.2 ≤ (p.1.2.2 : Rat) * p.1.1
  | 0, ws, ss, _, h => by
    simp only [rowScales, Option.some.injEq] at h
    subst h
    exact ⟨rfl, by simp [rowLanes]⟩
  | n + 1, ws, ss, hlen, h => by
    unfold rowScales at h
    split at h
    · rename_i sh sl rest hh hl hr
      simp only [Option.some.injEq] at h
      subst h
      obtain ⟨hrl, hrr⟩ := rowScales_range hg n (ws.drop g) rest (by simp; rw [Nat.mul_succ] at hlen; omega) hr
      refine ⟨by simp [hrl], fun p hp => ?_⟩
      have hg2 : (groupLanes (g / 2) sh sl).length = (ws.take g).length := by
        rw [length_groupLanes, List.length_take]; rw [Nat.mul_succ] at hlen; omega
      rw [rowLanes, ← List.take_append_drop g ws, List.zip_append hg2, List.mem_append] at hp
      rcases hp with hp | hp
      · exact group_range hh hl p hp
      · exact hrr p hp
    · simp at h

/-- REQ-E2E, from float weights: with the scales the kernel computes from the weights themselves
(`rowScales`), and an activation scale `sx` with every `|x| ≤ 127 sx` (the kernel takes `max|x| / 127`
rounded up), the output is within `e2eBound` of `Σ_k x_k w_k`. No hypothesis on the weights remains. -/
public theorem kernel_error {g n : Nat} (hg : g % 2 = 0) {sx : Rat} (hsx : 0 < sx) {ss : List (Rat × Rat)}
    {xs ws : List Rat} (hx : xs.length = g * n) (hw : ws.length = g * n) (hxr : ∀ x ∈ xs, rabs x ≤ 127 * sx)
    (hs : rowScales g n ws = some ss) :
    rabs (kernelRow g sx ss (quantizeActs sx xs) (quantizeRow (rowLanes g ss) ws) - dotRat xs ws)
      ≤ e2eBound sx (rowLanes g ss) xs ws := by
  obtain ⟨hlen, hrange⟩ := rowScales_range hg n ws ss hw hs
  exact kernelRow_error hg hsx (by rw [hlen]; exact hx) (by rw [hlen]; exact hw) hxr hrange

/-- The kernel's output matrix: one row per activation row (with its scale), one column per weight column
(with the scales of its groups). -/
@[expose] public noncomputable def kernelMatmul (g : Nat) (rows : List (List Rat × Rat))
    (cols : List (List Rat × List (Rat × Rat))) : List (List Rat) :=
  rows.map fun r => cols.map fun c => kernelRow g r.2 c.2 (quantizeActs r.2 r.1) (quantizeRow (rowLanes g c.2) c.1)

/-- REQ-E2E, M × N: every output `y[m][j]` of the kernel's matrix is within `e2eBound` of `Σ_k x[m]_k w[j]_k`,
for activation rows with their scales (`|x| ≤ 127 sx`) and weight columns with the scales the kernel computes
from them, all padded to `n` groups of `g`. -/
public theorem kernelMatmul_error {g n : Nat} (hg : g % 2 = 0) {rows : List (List Rat × Rat)}
    {cols : List (List Rat × List (Rat × Rat))}
    (hrows : ∀ r ∈ rows, r.1.length = g * n ∧ 0 < r.2 ∧ ∀ x ∈ r.1, rabs x ≤ 127 * r.2)
    (hcols : ∀ c ∈ cols, c.1.length = g * n ∧ rowScales g n c.1 = some c.2)
    (m : Nat) (hm : m < rows.length) (j : Nat) (hj : j < cols.length) :
    rabs (((kernelMatmul g rows cols)[m]'(by simpa [kernelMatmul] using hm))[j]'(by simpa [kernelMatmul] using hj)
      - dotRat rows[m].1 cols[j].1) ≤ e2eBound rows[m].2 (rowLanes g cols[j].2) rows[m].1 cols[j].1 := by
  obtain ⟨hx, hsx, hxr⟩ := hrows rows[m] (List.getElem_mem hm)
  obtain ⟨hw, hs⟩ := hcols cols[j] (List.getElem_mem hj)
  simp only [kernelMatmul, List.getElem_map]
  exact kernel_error hg hsx hx hw hxr hs

theorem lanePartials_eq : ∀ (a q : List Int), a.length = q.length →
    lanePartials a q = (dotInt (evens a) (evens q), dotInt (odds a) (odds q))
  | a0 :: a1 :: as, q0 :: q1 :: qs, h => by
    have ih := lanePartials_eq as qs (by simp at h; omega)
    simp only [lanePartials, evens, odds, dotInt, ih]
  | [a0], [q0], _ => by simp [lanePartials, evens, odds, dotInt]
  | [], [], _ => by simp [lanePartials, evens, odds, dotInt]
  | [], _ :: _, h | [_], [], h | [_], _ :: _ :: _, h | _ :: _ :: _, [], h | _ :: _ :: _, [_], h => by
    simp at h

theorem length_evens_le : ∀ (l : List Int), (evens l).length ≤ (l.length + 1) / 2
  | _ :: _ :: rest => by have := length_evens_le rest; simp only [evens, List.length_cons]; omega
  | [_] => by simp [evens]
  | [] => by simp [evens]

theorem length_odds_le : ∀ (l : List Int), (odds l).length ≤ l.length / 2
  | _ :: _ :: rest => by have := length_odds_le rest; simp only [odds, List.length_cons]; omega
  | [_] => by simp [odds]
  | [] => by simp [odds]

theorem mem_evens : ∀ {l : List Int} {x : Int}, x ∈ evens l → x ∈ l
  | a :: _ :: rest, x, h => by
    simp only [evens, List.mem_cons] at h
    rcases h with rfl | h
    · simp
    · simp [mem_evens h]
  | [a], x, h => by simpa [evens] using h
  | [], x, h => by simp [evens] at h

theorem mem_odds : ∀ {l : List Int} {x : Int}, x ∈ odds l → x ∈ l
  | _ :: b :: rest, x, h => by
    simp only [odds, List.mem_cons] at h
    rcases h with rfl | h
    · simp
    · simp [mem_odds h]
  | [_], x, h => by simp [odds] at h
  | [], x, h => by simp [odds] at h

/-- REQ-OVF for the kernel: both int32 partials of a group of int8 activation levels and 3.5-bit weight
levels fit int32 whenever each lane has at most `maxSafeK` positions (a group of up to 4,194,302 weights;
the kernel's groups have 128). -/
public theorem lanePartials_fit_int32 {a q : List Int} (hlen : a.length = q.length)
    (hg : a.length ≤ 2 * maxSafeK activationBits weightHiBits accumulatorBits)
    (ha : ∀ x ∈ a, x.natAbs ≤ 128) (hq : ∀ w ∈ q, w.natAbs ≤ 8) :
    int32Min ≤ (lanePartials a q).1 ∧ (lanePartials a q).1 ≤ int32Max ∧
      int32Min ≤ (lanePartials a q).2 ∧ (lanePartials a q).2 ≤ int32Max := by
  rw [lanePartials_eq a q hlen]
  rw [maxSafeK_int8_w4_int32] at hg
  have he := dotInt_fits_of_le_maxSafeK (bitsA := activationBits) (bitsW := weightHiBits)
    (bitsAcc := accumulatorBits) (as := evens a) (ws := evens q)
    (fun x hx => by have := ha x (mem_evens hx); unfold activationBits; simpa using this)
    (fun w hw => by have := hq w (mem_evens hw); unfold weightHiBits; simpa using this)
    (by rw [maxSafeK_int8_w4_int32]; have := length_evens_le a; omega)
  have ho := dotInt_fits_of_le_maxSafeK (bitsA := activationBits) (bitsW := weightHiBits)
    (bitsAcc := accumulatorBits) (as := odds a) (ws := odds q)
    (fun x hx => by have := ha x (mem_odds hx); unfold activationBits; simpa using this)
    (fun w hw => by have := hq w (mem_odds hw); unfold weightHiBits; simpa using this)
    (by rw [maxSafeK_int8_w4_int32]; have := length_odds_le a; omega)
  unfold int32Min int32Max
  unfold accumulatorBits at he ho
  simp only at he ho ⊢
  omega

end Quantproof
