/-
quantproof's kernel replay (verifier/lean/replay.py fills in the two lists at the end).

Every declaration of every compiled project module is read from its `.olean` parts and added again,
dependencies first, to a fresh environment that holds only the core library the project imports,
through the kernel (`Environment.addDeclCore`). An inductive type is added as one declaration with
its constructors; the constructors and recursors the kernel generates must equal the stored ones.

Written for the portable Lean: its core library ships no private IR, so code that the interpreter
would have to specialise (hash maps, `Array` loops, `List.map`, `Name.toString`) fails to run. The
helpers below are plain recursion over lists and a tree keyed by name hashes.
-/
import Lean.Environment
import Lean.AddDecl
open Lean

namespace QuantproofReplay

partial def nameText : Name → String
  | .anonymous => ""
  | .str p s => let q := nameText p; if q.isEmpty then s else q ++ "." ++ s
  | .num p n => nameText p ++ "." ++ toString n

def app {α : Type} : List α → List α → List α
  | [], ys => ys
  | x :: xs, ys => x :: app xs ys

def lastOf {α : Type} : List α → Option α
  | [] => none
  | [a] => some a
  | _ :: as => lastOf as

/-- A map from names: a binary tree on their hashes, each node a short list of the names that share it. -/
inductive Tree (α : Type) where
  | leaf
  | node (l : Tree α) (h : UInt64) (items : List (Name × α)) (r : Tree α)

def lookupIn {α : Type} (n : Name) : List (Name × α) → Option α
  | [] => none
  | (m, a) :: rest => if m == n then some a else lookupIn n rest

def Tree.find? {α : Type} (n : Name) : Tree α → Option α
  | .leaf => none
  | .node l h items r =>
    if n.hash < h then Tree.find? n l else if h < n.hash then Tree.find? n r else lookupIn n items

def Tree.insert {α : Type} (n : Name) (a : α) : Tree α → Tree α
  | .leaf => .node .leaf n.hash [(n, a)] .leaf
  | .node l h items r =>
    if n.hash < h then .node (Tree.insert n a l) h items r
    else if h < n.hash then .node l h items (Tree.insert n a r)
    else .node l h ((n, a) :: items) r

structure State where
  env : Environment
  consts : Tree ConstantInfo
  started : Tree Unit := .leaf
  checked : Nat := 0
  failed : Nat := 0

def oneLine (s : String) : String := s.map fun c => if c == '\n' || c == '\t' then ' ' else c

def accept (s : State) (n : Name) (e : Environment) : IO State := do
  IO.println s!"@@OK {nameText n}"
  pure { s with env := e, checked := s.checked + 1 }

def reject (s : State) (n : Name) (why : String) : IO State := do
  IO.println s!"@@FAIL {nameText n}\t{oneLine why}"
  pure { s with failed := s.failed + 1 }

def add (s : State) (n : Name) (d : Declaration) : IO State := do
  match s.env.addDeclCore 0 d none with
  | .ok e => accept s n e
  | .error ex => reject s n (← (ex.toMessageData {}).toString)

def found (s : State) : List Name → List ConstantInfo
  | [] => []
  | n :: ns => match s.consts.find? n with
    | some ci => ci :: found s ns
    | none => found s ns

def uses (ci : ConstantInfo) : List Name :=
  app ci.type.getUsedConstants.toList <| match ci.value? with
    | some v => v.getUsedConstants.toList
    | none => []

def markAll (s : State) : List Name → State
  | [] => s
  | n :: ns => markAll { s with started := s.started.insert n () } ns

def ctorNames : List ConstantInfo → List Name
  | [] => []
  | .inductInfo w :: rest => app w.ctors (ctorNames rest)
  | _ :: rest => ctorNames rest

def ctorUses : List ConstantInfo → List Name
  | [] => []
  | c :: cs => app c.type.getUsedConstants.toList (ctorUses cs)

def ctorTypes : List ConstantInfo → List Constructor
  | [] => []
  | c :: cs => { name := c.name, type := c.type } :: ctorTypes cs

def inductiveTypes (s : State) : List ConstantInfo → List InductiveType
  | [] => []
  | ind :: rest =>
    let ctors := found s (match ind with | .inductInfo v => v.ctors | _ => [])
    { name := ind.name, type := ind.type, ctors := ctorTypes ctors } :: inductiveTypes s rest

mutual
/-- Replay `n` after everything it mentions; constructors and recursors come with their inductive type. -/
partial def visit (s : State) (n : Name) : IO State := do
  if (s.started.find? n).isSome then return s
  let some ci := s.consts.find? n | return s
  let s ← visitAll { s with started := s.started.insert n () } (uses ci)
  match ci with
  | .defnInfo v => add s n (.defnDecl v)
  | .thmInfo v => add s n (.thmDecl v)
  | .axiomInfo v => add s n (.axiomDecl v)
  | .opaqueInfo v => add s n (.opaqueDecl v)
  | .quotInfo _ => add s n .quotDecl
  | .ctorInfo v => visit s v.induct
  | .recInfo v => visitAll s v.all
  | .inductInfo v =>
    let group := found s v.all
    let s := markAll s v.all
    let s ← visitAll s (ctorUses (found s (ctorNames group)))
    add s n (.inductDecl v.levelParams v.numParams (inductiveTypes s group) v.isUnsafe)

partial def visitAll (s : State) : List Name → IO State
  | [] => pure s
  | n :: ns => do visitAll (← visit s n) ns
end

/-- A generated constructor or recursor must be the one the module stored. -/
def compareOne (s : State) (ci : ConstantInfo) : IO State :=
  match ci, s.env.find? ci.name with
  | .ctorInfo v, some (.ctorInfo w) => if v == w then pure s else reject s ci.name "constructor differs from the kernel's"
  | .recInfo v, some (.recInfo w) => if v == w then pure s else reject s ci.name "recursor differs from the kernel's"
  | .ctorInfo _, _ => reject s ci.name "constructor missing after replay"
  | .recInfo _, _ => reject s ci.name "recursor missing after replay"
  | _, _ => pure s

def compareAll (s : State) : List ConstantInfo → IO State
  | [] => pure s
  | ci :: rest => do compareAll (← compareOne s ci) rest

/-- Unsafe and partial declarations never reach a proof: a safe one that mentions them fails replay. -/
def checkable : List ConstantInfo → List ConstantInfo
  | [] => []
  | ci :: rest => if ci.isUnsafe || ci.isPartial then checkable rest else ci :: checkable rest

def insertAll (t : Tree ConstantInfo) : List ConstantInfo → Tree ConstantInfo
  | [] => t
  | ci :: rest => insertAll (t.insert ci.name ci) rest

def namesOf : List ConstantInfo → List Name
  | [] => []
  | ci :: rest => ci.name :: namesOf rest

def pathsOf : List String → List System.FilePath
  | [] => []
  | p :: ps => System.FilePath.mk p :: pathsOf ps

/-- The full (private-level) constants of one module, from its `.olean`, `.olean.server`, `.olean.private`. -/
def readModule (parts : List String) : IO (List ConstantInfo) := do
  let data ← readModuleDataParts (pathsOf parts).toArray
  let some (md, _) := lastOf data.toList | throw (IO.userError "no .olean parts")
  pure (checkable md.constants.toList)

def readAll : List (List String) → IO (List ConstantInfo)
  | [] => pure []
  | m :: ms => do pure (app (← readModule m) (← readAll ms))

def run (imports : Array Import) (modules : List (List String)) : IO Unit := do
  let t0 ← IO.monoMsNow
  let env ← importModules imports {} (loadExts := false)
  IO.println s!"@@IMPORTED {(← IO.monoMsNow) - t0}"
  let all ← readAll modules
  let s ← visitAll { env, consts := insertAll .leaf all } (namesOf all)
  let s ← compareAll s all
  IO.println s!"@@DONE {s.checked} {s.failed} {(← IO.monoMsNow) - t0}"

end QuantproofReplay
