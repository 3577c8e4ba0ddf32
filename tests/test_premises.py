"""Premise selection by conclusion shape, and witnesses from one grammar: goal text read back to
constants, lemma shapes from the real core library's .olean files, and selection on both."""

from __future__ import annotations

import pytest

from prover.goals import parse_goals
from prover.policy.candidates import Policy, premise_tactics
from prover.policy.features import goal_features
from prover.policy.premises import PremiseIndex, Selection, library_lemmas
from prover.policy.priors import Priors
from prover.policy.shapes import Lemma, Reader, Shape, value_types
from prover.policy.witnesses import witnesses
from verifier.lean.toolchain.cache import cache_root

KNOWN = frozenset({"List.length", "List.reverse", "Nat.gcd", "Int.natAbs", "List.map", "Nat.succ"})


def shape(text: str, types: tuple[str, ...] = ("List", "Nat")) -> Shape:
    return Reader(KNOWN).shape(text, types, frozenset({"xs", "ys", "a", "b", "x", "n", "f"}))


def test_goal_text_is_read_back_to_constants():
    s = shape("(xs ++ ys).length = ys.length + xs.length")
    assert (s.relation, s.sides) == ("Eq", ("List.length", "HAdd.hAdd"))
    assert {"HAppend.hAppend", "List.length", "HAdd.hAdd"} <= s.consts
    assert shape("a ≥ b * 2").sides == ("HMul.hMul", "_")  # `a ≥ b` is `b ≤ a`
    assert shape("a ≥ b * 2").relation == "LE.le"
    assert shape("x ∈ xs ++ ys").sides == ("_", "HAppend.hAppend")
    assert shape("a.gcd b = b.gcd a", ("Nat",)).sides == ("Nat.gcd", "Nat.gcd")
    neg = shape("(-x).natAbs = x.natAbs", ("Int",))
    assert "Neg.neg" in neg.consts and "HSub.hSub" not in neg.consts
    assert "HSub.hSub" in shape("a - b ≤ a").consts
    assert shape("¬a = b").relation == "Not"
    assert shape("a + b + 1 < 7").sides == ("HAdd.hAdd", "lit")
    assert shape("(a + b) * 2 = 0").sides == ("HMul.hMul", "lit")  # the operator outside the brackets


def test_a_conversion_to_nat_makes_its_values_natural():
    ints = {"Int": ("a", "w"), "Nat": ("n",)}
    assert value_types("(a * w).natAbs ≤ 1024", ints) == ("Nat",) and value_types("a ≤ 3", ints) is None
    assert value_types("a.toNat + a ≤ 3", ints) == ("Nat", "Int")  # `a` also counts as an integer
    assert value_types("Int.natAbs a ≤ n", ints) == ("Nat",)
    reader = Reader(KNOWN | {"Int", "Nat"})
    conv = reader.shape("a.natAbs ≤ 128", ("Int",), frozenset({"a"}), ("Nat",))
    assert "Int.natAbs" in conv.consts  # the field still resolves through the argument's type
    assert "Nat" in conv.consts and "Int" not in conv.consts
    assert "Int" in reader.shape("a ≤ 128", ("Int",), frozenset({"a"})).consts


def _lemma(name: str, rel: str, sides: tuple[str, ...], consts: set[str], hyps: tuple[Shape, ...] = (),
           data: int = 0) -> Lemma:
    return Lemma(name, Shape(rel, sides, frozenset(consts | {rel})), hyps, data)


def test_selection_matches_relation_heads_and_hypotheses():
    le = Shape("LE.le", ("_", "_"), frozenset({"LE.le", "Nat"}))
    index = PremiseIndex([
        _lemma("Nat.mul_le_mul", "LE.le", ("HMul.hMul", "HMul.hMul"), {"HMul.hMul", "Nat"}, (le, le)),
        _lemma("Nat.le_refl", "LE.le", ("_", "_"), {"Nat"}, data=1),
        _lemma("Nat.add_le_add", "LE.le", ("HAdd.hAdd", "HAdd.hAdd"), {"HAdd.hAdd", "Nat"}, (le, le)),
        _lemma("Nat.mul_comm", "Eq", ("HMul.hMul", "HMul.hMul"), {"HMul.hMul", "Nat"}, data=2),
        _lemma("List.length_append", "Eq", ("List.length", "HAdd.hAdd"),
               {"List.length", "HAppend.hAppend", "HAdd.hAdd", "List", "Nat"}),
        _lemma("Nat.lt_irrefl", "Not", ("LT.lt",), {"LT.lt", "Nat"}, data=1),
    ])
    goal = parse_goals("a b c d : Nat\nh1 : a ≤ b\nh2 : c ≤ d\n⊢ a * c ≤ b * d")[0]
    sel = index.select(goal)
    assert sel.closing[0] == "Nat.mul_le_mul"
    assert "Nat.le_refl" not in sel.closing  # a conclusion of bare variables fits every goal: no signal
    assert "Nat.add_le_add" not in sel.closing  # heads differ
    assert sel.rewriting == ("Nat.mul_comm",)  # its left side's head occurs in the goal
    assert "Nat.mul_le_mul h1 h2" in sel.forward and "Nat.mul_le_mul h2 h1" in sel.forward
    assert all(not t.startswith("Nat.mul_le_mul h1 h1") for t in sel.forward)  # distinct hypotheses
    lists = index.select(parse_goals("xs ys : List Nat\n⊢ (xs ++ ys).length = ys.length + xs.length")[0])
    assert lists.closing == ("List.length_append",) and lists.forward == ()
    tactics = dict(premise_tactics(sel))
    assert "apply Nat.mul_le_mul" in tactics and "have := Nat.mul_le_mul h1 h2; omega" in tactics
    assert "simp [Nat.mul_comm]" in tactics
    assert premise_tactics(Selection()) == []


def test_rewrites_are_ranked_by_their_left_side():
    def eq(name: str, sides: tuple[str, str], lhs: set[str], rhs: set[str]) -> Lemma:
        return Lemma(name, Shape("Eq", sides, frozenset(lhs | rhs | {"Eq"})), (), 1, frozenset(lhs))

    index = PremiseIndex([
        # `range (n+1) = range n ++ [n]`, stated with `Nat.succ`: its right side brings `++`, `::`, `[]`
        eq("List.range_succ", ("List.range", "HAppend.hAppend"), {"List.range", "Nat.succ"},
           {"HAppend.hAppend", "List.cons", "List.nil"}),
        # a left side with a constant the goal lacks cannot apply, however well its right side fits
        eq("List.sum_map_mul", ("List.sum", "HMul.hMul"), {"List.sum", "List.map", "HMul.hMul"}, {"HAdd.hAdd"}),
        eq("List.sum_range", ("List.sum", "HMul.hMul"), {"List.sum", "List.range"}, {"HMul.hMul", "HAdd.hAdd"}),
        *[eq(f"Filler.l{i}", ("HAppend.hAppend", "_"), {"HAppend.hAppend", f"F{i}"}, {"List.cons"})
          for i in range(40)],  # make `++`, `::` and `[]` common, as in the library
    ])
    goal = parse_goals("n : Nat\n⊢ 2 * (List.range (n + 1 + 1)).sum = (n + 1) * (n + 2)")[0]
    ranked = index.select(goal).rewriting
    assert ranked.index("List.range_succ") < ranked.index("List.sum_map_mul")
    assert ranked.index("List.sum_range") < ranked.index("List.sum_map_mul")


def test_folding_rewrites_need_every_part_of_their_right_side():
    def eq(name: str, lhs: set[str], rhs: set[str], types: set[str]) -> Lemma:
        return Lemma(name, Shape("Eq", ("_", "_"), frozenset(lhs | rhs | types | {"Eq"})), (), 2, frozenset(lhs),
                     frozenset(rhs))

    index = PremiseIndex([
        eq("Nat.mod_eq_sub_div_mul", {"HMod.hMod"}, {"HSub.hSub", "HDiv.hDiv", "HMul.hMul"}, {"Nat"}),
        eq("Int.emod_def", {"HMod.hMod"}, {"HSub.hSub", "HDiv.hDiv", "HMul.hMul"}, {"Int"}),  # another type
        eq("Nat.pow_mod", {"HMod.hMod", "HPow.hPow"}, {"HMod.hMod", "HPow.hPow", "HSub.hSub"}, {"Nat"}),
        eq("Nat.mul_comm", {"HMul.hMul"}, {"HMul.hMul"}, {"Nat"}),  # folds nothing
    ])
    sel = index.select(parse_goals("x s : Nat\nhs : 0 < s\n⊢ x - x / s * s < s")[0])
    assert sel.folding == ("Nat.mod_eq_sub_div_mul",)  # `Nat.pow_mod` needs a `^` the goal lacks
    assert "rw [← Nat.mod_eq_sub_div_mul]" in dict(premise_tactics(sel))


@pytest.mark.lean
def test_library_index_from_the_toolchain(toolchain):
    chain = toolchain  # the user's cache, as `prove` uses it: built here once, reused by the prover's tests
    lemmas = library_lemmas(chain.identity, chain.core_lib, chain.version.pointer_bytes, cache_root())
    by_name = {lm.name: lm for lm in lemmas}
    assert len(lemmas) > 20_000 and "List.length_append" in by_name
    assert by_name["List.length_append"].shape.sides == ("List.length", "HAdd.hAdd")
    assert len(by_name["Nat.mul_le_mul"].hyps) == 2 and by_name["Nat.mul_le_mul"].explicit_data == 0
    assert by_name["List.length_append"].lhs >= {"List.length", "HAppend.hAppend"}  # the left side only
    assert "HAdd.hAdd" not in by_name["List.length_append"].lhs
    assert not any(n.startswith("Lean.") or "._" in n for n in by_name)
    again = library_lemmas(chain.identity, chain.core_lib, chain.version.pointer_bytes, cache_root())
    assert [lm.name for lm in again] == [lm.name for lm in lemmas]  # read back from the cache file
    index = PremiseIndex(lemmas)
    cases = {
        "xs : List Nat\n⊢ xs.reverse.reverse = xs": ("closing", "List.reverse_reverse"),
        "a b : Nat\n⊢ a - b ≤ a": ("closing", "Nat.sub_le"),
        "x : Int\n⊢ (-x).natAbs = x.natAbs": ("closing", "Int.natAbs_neg"),
        "n : Nat\n⊢ n % 8 < 8": ("closing", "Nat.mod_lt"),
        "xs : List Nat\nf : Nat → Nat\n⊢ (List.map f xs).length = xs.length": ("rewriting", "List.length_map"),
        "a b c d : Nat\nh1 : a ≤ b\nh2 : c ≤ d\n⊢ a * c ≤ b * d": ("forward", "Nat.mul_le_mul h1 h2"),
        # natural numbers made of integers: Nat's lemmas, not Int's (which ranked first before)
        "a w : Int\nha : a.natAbs ≤ 128\nhw : w.natAbs ≤ 8\n⊢ a.natAbs * w.natAbs ≤ 1024":
            ("forward", "Nat.mul_le_mul ha hw"),
        # `x - x / s * s` folds back to `x % s` (`Nat.mod_eq_sub_div_mul`, right to left)
        "x s : Nat\nhs : 0 < s\n⊢ x - x / s * s < s": ("folding", "Nat.mod_eq_sub_div_mul"),
    }
    for text, (kind, want) in cases.items():
        sel = index.select(parse_goals(text)[0])
        assert want in getattr(sel, kind)[:4], (text, sel)


def test_witnesses_come_from_one_grammar_ordered_by_the_goal():
    def terms(text: str) -> list[str]:
        goal = parse_goals(text)[0]
        return witnesses(goal, goal_features(goal))

    by_mod = terms("n : Nat\n⊢ ∃ q r, r < 8 ∧ n = 8 * q + r")
    assert by_mod.index("n / 8") < by_mod.index("max n 8")  # the inverse of `*` before an unrelated operation
    by_max = terms("a b : Nat\n⊢ ∃ c, a ≤ c ∧ b ≤ c ∧ c ≤ max a b")
    assert "max a b" in by_max[:8] and "a / b" not in by_max[:8]  # `max` is suggested, `/` is not
    assert "-x" in terms("x : Int\n⊢ ∃ y, x + y = 0")
    assert not any(t.startswith("-") for t in by_max)  # no negation without an Int
    assert "List.replicate n 0" in terms("n : Nat\n⊢ ∃ xs, xs.length = n")
    assert "[x]" in terms("x : Nat\nxs : List Nat\n⊢ ∃ ys, x :: xs = ys ++ xs")
    tactics = [c.tactic for c in Policy(Priors()).candidates(parse_goals("n : Nat\n⊢ ∃ m, n < m")[0])]
    assert "refine ⟨n + 1, ?_⟩" in tactics
