module

public import Quantproof.Quant

/-!
# REQ-MM: the error of a dot product with quantized weights

For weights in the clipping range, replacing each weight by its dequantized level changes the dot
product by at most `(s / 2) · Σ |x_k|`, hence by at most `K · (s / 2) · max_k |x_k|`.

The design's `‖matmul_fp32 − dequant(matmul_int4)‖ ≤ K × scale` follows exactly when every
activation has `|x_k| ≤ 2` (and the weights are in range). With raw int8 activations it is
false: one activation of 128 against the weight `s / 2` already gives error `64 s > 1 · s`.
-/

namespace Quantproof

/-- Dot product of rational lists (entries past the shorter list are ignored). -/
@[expose] public def dotRat : List Rat → List Rat → Rat
  | x :: xs, w :: ws => x * w + dotRat xs ws
  | _, _ => 0

/-- `Σ |x_k|`. -/
@[expose] public def sumRabs : List Rat → Rat
  | [] => 0
  | x :: xs => rabs x + sumRabs xs

/-- A weight after quantization and dequantization. -/
@[expose] public def quantDeq (s : Rat) (qmin qmax : Int) (w : Rat) : Rat :=
  dequantize s (quantize s qmin qmax w)

public theorem sumRabs_nonneg : ∀ xs : List Rat, 0 ≤ sumRabs xs
  | [] => Rat.le_refl
  | x :: xs => by
    have := rabs_nonneg x
    have := sumRabs_nonneg xs
    simp only [sumRabs]
    grind

/-- Replacing every weight `w` by `f w`, with `|w - f w| ≤ e`, moves the dot product by at most
`e · Σ |x_k|`. -/
public theorem rabs_dotRat_sub_map_le {e : Rat} (he : 0 ≤ e) (f : Rat → Rat) :
    ∀ (xs ws : List Rat), (∀ w ∈ ws, rabs (w - f w) ≤ e) →
      rabs (dotRat xs ws - dotRat xs (ws.map f)) ≤ e * sumRabs xs
  | x :: xs, w :: ws, hw => by
    have ih := rabs_dotRat_sub_map_le he f xs ws (fun v hv => hw v (by simp [hv]))
    have hw0 := hw w (by simp)
    have hsplit : dotRat (x :: xs) (w :: ws) - dotRat (x :: xs) ((w :: ws).map f) =
        x * (w - f w) + (dotRat xs ws - dotRat xs (ws.map f)) := by
      simp only [dotRat, List.map_cons]
      grind
    rw [hsplit]
    have htri := rabs_add_le (x * (w - f w)) (dotRat xs ws - dotRat xs (ws.map f))
    rw [rabs_mul] at htri
    have hmul := Rat.mul_le_mul_of_nonneg_left hw0 (rabs_nonneg x)
    simp only [sumRabs]
    grind
  | [], _, _ => by
    simp only [dotRat, sumRabs]
    rw [rabs_sub_self]
    grind
  | x :: xs, [], _ => by
    have := Rat.mul_nonneg he (sumRabs_nonneg (x :: xs))
    simp only [dotRat, List.map_nil]
    rw [rabs_sub_self]
    exact this

/-- REQ-MM: for in-range weights, `|Σ x_k w_k − Σ x_k D(Q w_k)| ≤ (s / 2) · Σ |x_k|`. -/
public theorem matmul_error_le {s : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (xs ws : List Rat) (hw : ∀ w ∈ ws, (qmin : Rat) * s ≤ w ∧ w ≤ (qmax : Rat) * s) :
    rabs (dotRat xs ws - dotRat xs (ws.map (quantDeq s qmin qmax))) ≤ s / 2 * sumRabs xs :=
  rabs_dotRat_sub_map_le (by grind) _ xs ws fun w h => quantize_error_le hs hle (hw w h).1 (hw w h).2

public theorem sumRabs_le {M : Rat} : ∀ xs : List Rat, (∀ x ∈ xs, rabs x ≤ M) → sumRabs xs ≤ xs.length * M
  | [], _ => by
    simp only [sumRabs, List.length_nil]
    grind
  | x :: xs, hx => by
    have ih := sumRabs_le xs (fun y hy => hx y (by simp [hy]))
    have := hx x (by simp)
    simp only [sumRabs, List.length_cons]
    push_cast
    grind

/-- REQ-MM: with `|x_k| ≤ M`, the error is at most `K · (s / 2) · M`, where `K` is the length. -/
public theorem matmul_error_le_max {s M : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (xs ws : List Rat) (hw : ∀ w ∈ ws, (qmin : Rat) * s ≤ w ∧ w ≤ (qmax : Rat) * s)
    (hx : ∀ x ∈ xs, rabs x ≤ M) :
    rabs (dotRat xs ws - dotRat xs (ws.map (quantDeq s qmin qmax))) ≤ xs.length * (s / 2) * M := by
  have h1 := matmul_error_le hs hle xs ws hw
  have h2 := Rat.mul_le_mul_of_nonneg_left (sumRabs_le xs hx) (show 0 ≤ s / 2 by grind)
  grind

/-- REQ-MM: the design's `≤ K × scale`, under its hidden hypotheses: weights in range and every
activation `|x_k| ≤ 2`. -/
public theorem matmul_error_le_seed {s : Rat} {qmin qmax : Int} (hs : 0 < s) (hle : qmin ≤ qmax)
    (xs ws : List Rat) (hw : ∀ w ∈ ws, (qmin : Rat) * s ≤ w ∧ w ≤ (qmax : Rat) * s)
    (hx : ∀ x ∈ xs, rabs x ≤ 2) :
    rabs (dotRat xs ws - dotRat xs (ws.map (quantDeq s qmin qmax))) ≤ xs.length * s := by
  have := matmul_error_le_max hs hle xs ws hw hx
  grind

/-- REQ-MM: the design's `≤ K × scale` is false for raw int8 activations: `K = 1`, `x = 128`,
`s = 1`, weight `1/2` (in range, rounds to the even level 0) gives error 64. -/
public theorem matmul_error_seed_false_int8 :
    ∃ xs ws : List Rat, (∀ x ∈ xs, -128 ≤ x ∧ x ≤ 127 ∨ x = -128) ∧ (∀ w ∈ ws, -8 ≤ w ∧ w ≤ 7) ∧
      xs.length * 1 < rabs (dotRat xs ws - dotRat xs (ws.map (quantDeq 1 (-8) 7))) := by
  refine ⟨[-128], [1 / 2], ?_, ?_, ?_⟩
  · intro x hx
    simp only [List.mem_singleton] at hx
    exact Or.inr hx
  · intro w hw
    simp only [List.mem_singleton] at hw
    subst hw
    constructor <;> decide +kernel
  · decide +kernel

/-- Half a step rounds to the even level 0, from either side. -/
theorem roundHalfEven_half : roundHalfEven (1 / 2) = 0 ∧ roundHalfEven (-(1 / 2)) = 0 := by
  constructor <;> decide +kernel

theorem quantDeq_half {s : Rat} {qmin qmax : Int} (hs : 0 < s) (hmin : qmin ≤ 0) (hmax : 0 ≤ qmax) (sign : Bool) :
    quantDeq s qmin qmax (if sign then -(s / 2) else s / 2) = 0 := by
  have hq : (if sign then -(s / 2) else s / 2) / s = if sign then -(1 / 2) else 1 / 2 := by
    have hs0 : s ≠ 0 := Rat.ne_of_gt hs
    cases sign <;> simp only [Bool.false_eq_true, ↓reduceIte] <;>
      rw [Rat.div_def, Rat.div_def] <;> grind
  have hq0 : quantize s qmin qmax (if sign then -(s / 2) else s / 2) = 0 := by
    unfold quantize clampInt
    rw [hq]
    cases sign <;> simp only [Bool.false_eq_true, ↓reduceIte, roundHalfEven_half.1, roundHalfEven_half.2] <;>
      omega
  show dequantize s (quantize s qmin qmax _) = 0
  rw [hq0]
  simp [dequantize]

/-- The weight row that makes every rounding error count: `sign(x_k) · s/2`. -/
@[expose] public noncomputable def worstWeights (s : Rat) (xs : List Rat) : List Rat :=
  xs.map fun x => if x < 0 then -(s / 2) else s / 2

theorem dotRat_worstWeights (s : Rat) : ∀ xs : List Rat, dotRat xs (worstWeights s xs) = s / 2 * sumRabs xs
  | [] => by simp only [worstWeights, List.map_nil, dotRat, sumRabs]; grind
  | x :: xs => by
    have ih := dotRat_worstWeights s xs
    simp only [worstWeights, List.map_cons, dotRat, sumRabs] at ih ⊢
    rw [ih]
    unfold rabs
    by_cases hx : x < 0 <;> simp only [hx, ↓reduceIte] <;> grind

theorem dotRat_map_quantDeq_worst {s : Rat} {qmin qmax : Int} (hs : 0 < s) (hmin : qmin ≤ 0) (hmax : 0 ≤ qmax) :
    ∀ xs : List Rat, dotRat xs ((worstWeights s xs).map (quantDeq s qmin qmax)) = 0
  | [] => by simp only [worstWeights, List.map_nil, dotRat]
  | x :: xs => by
    have ih := dotRat_map_quantDeq_worst hs hmin hmax xs
    simp only [worstWeights, List.map_cons, List.map_map, dotRat] at ih ⊢
    have := quantDeq_half (qmin := qmin) (qmax := qmax) hs hmin hmax (decide (x < 0))
    simp only [decide_eq_true_eq] at this
    rw [Function.comp_def] at ih ⊢
    rw [this, ih]
    grind

/-- REQ-MM: the design's `≤ K × scale` holds for every row of in-range weights exactly when
`Σ |x_k| ≤ 2 K`, that is when the mean `|x_k|` is at most 2 (every `|x_k| ≤ 2` is enough, not needed). -/
public theorem matmul_error_le_seed_iff {s : Rat} {qmin qmax : Int} (hs : 0 < s) (hmin : qmin ≤ -1)
    (hmax : 1 ≤ qmax) (xs : List Rat) :
    (∀ ws : List Rat, (∀ w ∈ ws, (qmin : Rat) * s ≤ w ∧ w ≤ (qmax : Rat) * s) →
      rabs (dotRat xs ws - dotRat xs (ws.map (quantDeq s qmin qmax))) ≤ xs.length * s) ↔
      sumRabs xs ≤ 2 * xs.length := by
  constructor
  · intro h
    have hw : ∀ w ∈ worstWeights s xs, (qmin : Rat) * s ≤ w ∧ w ≤ (qmax : Rat) * s := by
      intro w hw
      simp only [worstWeights, List.mem_map] at hw
      obtain ⟨x, _, rfl⟩ := hw
      have h1 : ((qmin : Int) : Rat) ≤ ((-1 : Int) : Rat) := Rat.intCast_le_intCast.mpr hmin
      have h2 : ((1 : Int) : Rat) ≤ ((qmax : Int) : Rat) := Rat.intCast_le_intCast.mpr hmax
      push_cast at h1 h2
      have := Rat.mul_le_mul_of_nonneg_right h1 (Rat.le_of_lt hs)
      have := Rat.mul_le_mul_of_nonneg_right h2 (Rat.le_of_lt hs)
      split <;> constructor <;> grind
    have := h _ hw
    have hnn : 0 ≤ s / 2 * sumRabs xs - 0 := by
      have := Rat.mul_nonneg (show 0 ≤ s / 2 by grind) (sumRabs_nonneg xs)
      grind
    rw [dotRat_worstWeights, dotRat_map_quantDeq_worst hs (by omega) (by omega), rabs_of_nonneg hnn] at this
    apply Rat.not_lt.mp
    intro hlt
    have := Rat.mul_lt_mul_of_pos_left hlt (show 0 < s / 2 by grind)
    grind
  · intro hsum ws hw
    have h1 := matmul_error_le hs (by omega) xs ws hw
    have h2 := Rat.mul_le_mul_of_nonneg_left hsum (show 0 ≤ s / 2 by grind)
    grind

/-! ## Per-weight scales (groups, and the two lanes of a pair) -/

/-- Each weight `w` replaced by `v` with its own bound `|w - v| ≤ e`: the dot product moves by
at most `Σ |x_k| e_k`. Triples are `(w, v, e)`. -/
public theorem rabs_dotRat_sub_le_pointwise :
    ∀ (xs : List Rat) (t : List (Rat × Rat × Rat)), (∀ p ∈ t, rabs (p.1 - p.2.1) ≤ p.2.2) →
      rabs (dotRat xs (t.map (·.1)) - dotRat xs (t.map (·.2.1))) ≤ dotRat (xs.map rabs) (t.map (·.2.2))
  | x :: xs, (w, v, e) :: t, ht => by
    have ih := rabs_dotRat_sub_le_pointwise xs t (fun p hp => ht p (by simp [hp]))
    have h0 := ht (w, v, e) (by simp)
    have hsplit : dotRat (x :: xs) (((w, v, e) :: t).map (·.1)) - dotRat (x :: xs) (((w, v, e) :: t).map (·.2.1))
        = x * (w - v) + (dotRat xs (t.map (·.1)) - dotRat xs (t.map (·.2.1))) := by
      simp only [dotRat, List.map_cons]
      grind
    rw [hsplit]
    have htri := rabs_add_le (x * (w - v)) (dotRat xs (t.map (·.1)) - dotRat xs (t.map (·.2.1)))
    rw [rabs_mul] at htri
    have hmul := Rat.mul_le_mul_of_nonneg_left h0 (rabs_nonneg x)
    simp only [List.map_cons, dotRat]
    grind
  | [], _, _ => by
    simp only [dotRat, List.map_nil]
    rw [rabs_sub_self]
    exact Rat.le_refl
  | _ :: _, [], _ => by
    simp only [dotRat, List.map_nil, List.map_cons]
    rw [rabs_sub_self]
    exact Rat.le_refl

end Quantproof
