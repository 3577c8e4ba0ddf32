/-
quantproof's Lean session (verifier/lean/session.py appends this after a header and fills in the answer
file). An `#eval` of a `CommandElabM` loop reads requests from `/dev/stdin`; each ends in a kind line:

* `%%`         a command to elaborate and forget (its messages are the answer);
* `%%EXTEND`   commands to elaborate and keep (the preamble grows);
* `%%RESET`    back to the state right after the header (another file with the same header);
* `%%START`    a theorem statement (`(x : Nat) (h : 0 < x) : P x`): its goal becomes proof state 1, 2, …;
* `%%TAC n k h` a tactic to run on proof state `n` (on its goals as they are for `k = 0`, on its
               `k`-th goal alone otherwise) under `h` heartbeats (`maxHeartbeats` units), with no replay:
               the answer is
               a new proof state, or the error;
* `%%FREE`     proof state numbers (one per line) that the search dropped.

Proof states are Lean's own saved elaboration states (metavariable context included), kept by number.
Every request runs with info trees off and ends with the command state put back, so nothing piles up
between requests but the proof states themselves.

Written for the portable Lean: its library ships no private IR, so code the interpreter would have to
specialise (hash maps, `Array` loops, `List.map`, `Name.toString`) cannot run; plain recursion instead.
-/

namespace QuantproofSession
open Lean Elab Command Meta

partial def nameText : Name → String
  | .anonymous => ""
  | .str p s => let q := nameText p; if q.isEmpty then s else q ++ "." ++ s
  | .num p n => nameText p ++ "." ++ toString n

def severity : MessageSeverity → String
  | .error => "error" | .warning => "warning" | .information => "information"

def printMessages (out : IO.FS.Stream) : List Message → IO Unit
  | [] => pure ()
  | m :: ms => do
    let stop := m.endPos.getD m.pos
    out.putStrLn s!"@@MSG {severity m.severity} {m.pos.line} {m.pos.column} {stop.line} {stop.column}"
    out.putStrLn (← m.data.toString)
    out.putStrLn "@@END"
    printMessages out ms

def firstError : List Message → Option Message
  | [] => none
  | m :: ms => if m.severity == .error then some m else firstError ms

-- `String.toList` and `splitOn` crash the portable Lean at run time; `foldl` and `drop` work

/-- The kind of a request: its kind line after `%%`, without the line break. -/
def kindOf (line : String) : String :=
  (line.drop 2).toString.foldl (fun acc c => if c == '\n' || c == '\r' then acc else acc.push c) ""

/-- The first space-separated word. -/
def firstWord (s : String) : String :=
  (s.foldl (fun (acc : String × Bool) c => if acc.2 || c == ' ' then (acc.1, true) else (acc.1.push c, false))
    ("", false)).1

def rev {α : Type} : List α → List α → List α
  | [], acc => acc
  | x :: xs, acc => rev xs (x :: acc)

/-- The numbers in a text, one per run of digits. -/
def numbers (s : String) : List Nat :=
  let step := fun (acc : List Nat × Option Nat) (c : Char) =>
    if c.isDigit then (acc.1, some (10 * acc.2.getD 0 + (c.toNat - '0'.toNat)))
    else match acc.2 with
      | some n => (n :: acc.1, none)
      | none => acc
  let (done, cur) := s.foldl step ([], none)
  rev (match cur with | some n => n :: done | none => done) []

/-- A request: its text and its kind line. -/
partial def readRequest (input : IO.FS.Stream) (acc : String) : IO (Option (String × String)) := do
  let line ← input.getLine
  if line.isEmpty then return none
  if line.startsWith "%%" then return some (acc, kindOf line)
  readRequest input (acc ++ line)

/-- Parse and elaborate every command of the input, keeping what they declare. -/
partial def elabAll (ictx : Parser.InputContext) (mps : Parser.ModuleParserState) : CommandElabM Unit := do
  -- the scope read directly: the inlined accessors have no code in the portable library
  let scope := (← get).scopes.headD { header := "" }
  let pmctx : Parser.ParserModuleContext :=
    { env := ← getEnv, options := scope.opts, currNamespace := scope.currNamespace, openDecls := scope.openDecls }
  let (stx, next, parseMsgs) := Parser.parseCommand ictx pmctx mps {}
  modify fun s => { s with messages := s.messages ++ parseMsgs }
  if Parser.isTerminalCommand stx then return
  withReader (fun ctx => { ctx with fileMap := ictx.fileMap }) (elabCommand stx)
  elabAll ictx next

/-! ## Proof states -/

def app {α : Type} : List α → List α → List α
  | [], ys => ys
  | x :: xs, ys => x :: app xs ys

def len {α : Type} : List α → Nat
  | [] => 0
  | _ :: xs => len xs + 1

/-- A proof state: Lean's saved elaboration state and its goals (the first is the one tactics act on). -/
structure ProofState where
  id : Nat
  coreState : Core.State
  metaState : Meta.State
  termState : Term.State
  goals : List MVarId

def find? (n : Nat) : List ProofState → Option ProofState
  | [] => none
  | p :: ps => if p.id == n then some p else find? n ps

def memNat (n : Nat) : List Nat → Bool
  | [] => false
  | m :: ms => n == m || memNat n ms

def dropIds (ids : List Nat) : List ProofState → List ProofState
  | [] => []
  | p :: ps => if memNat p.id ids then dropIds ids ps else p :: dropIds ids ps

/-- Put a saved state back: everything but the messages, info trees and traces (ours start empty). -/
def restore (p : ProofState) : Term.TermElabM Unit := do
  modifyThe Core.State fun s =>
    { p.coreState with messages := {}, infoState := s.infoState, traceState := s.traceState }
  set p.metaState
  set p.termState

/-- Save the current state under `id`, without its caches (cheap to rebuild, costly to keep). -/
def capture (id : Nat) (goals : List MVarId) : Term.TermElabM ProofState := do
  return { id, coreState := { ← getThe Core.State with cache := {} },
           metaState := { ← getThe Meta.State with cache := {} }, termState := ← getThe Term.State, goals }

def oneLine (s : String) : String := s.map fun c => if c == '\n' || c == '\t' then ' ' else c

def pp (e : Expr) : MetaM String := do
  return oneLine ((← PrettyPrinter.ppExpr (← instantiateMVars e)).pretty 100000)

/-- A hypothesis' name as the goal display shows it: an inaccessible one gets its `✝`. -/
def hypName (n : Name) : String :=
  if n.hasMacroScopes then nameText n.eraseMacroScopes ++ "✝" else nameText n

/-- Run `x` in a goal's local context (`MVarId.withContext` has no code in the portable library). -/
def inGoal {α : Type} (d : MetavarDecl) (x : MetaM α) : MetaM α :=
  withTheReader Meta.Context (fun c => { c with lctx := d.lctx, localInstances := d.localInstances }) x

def printHyps (out : IO.FS.Stream) : List LocalDecl → MetaM Unit
  | [] => pure ()
  | d :: ds => do
    let value ← match d.value? with
      | some v => pure s!" := {← pp v}"
      | none => pure ""
    out.putStrLn s!"@@HYP {hypName d.userName}"
    out.putStrLn ((← pp d.type) ++ value)
    printHyps out ds

def concatNodes {α : Type} (f : PersistentArrayNode α → List α) : List (PersistentArrayNode α) → List α
  | [] => []
  | n :: ns => app (f n) (concatNodes f ns)

partial def nodeItems {α : Type} : PersistentArrayNode α → List α
  | .node cs => concatNodes nodeItems cs.toList
  | .leaf vs => vs.toList

def someDecls : List (Option LocalDecl) → List LocalDecl
  | [] => []
  | some d :: ds => if d.isImplementationDetail then someDecls ds else d :: someDecls ds
  | none :: ds => someDecls ds

/-- A local context's hypotheses in order (its own folds have no code in the portable library). -/
def hyps (lctx : LocalContext) : List LocalDecl :=
  someDecls (app (nodeItems lctx.decls.root) lctx.decls.tail.toList)

def hypMVars : List LocalDecl → MetaM (List MVarId)
  | [] => pure []
  | d :: ds => do return app (← getMVars d.type).toList (← hypMVars ds)

/-- The metavariables a goal mentions, in its target and hypotheses. -/
def mentions (g : MVarId) : MetaM (List MVarId) := do
  let d ← g.getDecl
  return app (← getMVars d.type).toList (← hypMVars (hyps d.lctx))

def memMVar (m : MVarId) : List MVarId → Bool
  | [] => false
  | n :: ns => m == n || memMVar m ns

def overlaps : List MVarId → List MVarId → Bool
  | [], _ => false
  | m :: ms, others => memMVar m others || overlaps ms others

/-- Goals are coupled when one mentions another or two mention the same metavariable: solving one
    constrains the other, so they must be searched together. -/
def coupledFrom (all : List MVarId) : List MVarId → List MVarId → MetaM Bool
  | [], _ => pure false
  | g :: gs, seen => do
    let ms ← mentions g
    if overlaps ms all || overlaps ms seen then pure true else coupledFrom all gs (app seen ms)

def printGoals (out : IO.FS.Stream) : List MVarId → MetaM Unit
  | [] => pure ()
  | g :: gs => do
    let d ← g.getDecl
    out.putStrLn s!"@@GOAL {nameText g.name}"
    out.putStrLn (if d.userName.isAnonymous then "" else hypName d.userName)
    inGoal d do
      printHyps out (hyps d.lctx)
      out.putStrLn "@@TARGET"
      out.putStrLn (← pp d.type)
    printGoals out gs

def printState (out : IO.FS.Stream) (p : ProofState) : Term.TermElabM Unit := do
  restore p
  let c ← coupledFrom p.goals p.goals []
  out.putStrLn s!"@@STATE {p.id} {len p.goals} {if c then 1 else 0}"
  printGoals out p.goals

def printError (out : IO.FS.Stream) (e : String) : IO Unit := do
  out.putStrLn "@@ERROR"
  out.putStrLn e
  out.putStrLn "@@END"

/-- Run term elaboration from the command loop under a heartbeat limit (`maxHeartbeats` units, as
    `set_option` takes them). `runTermElabM` and `liftTermElabM` have no code in the portable library,
    so the monad stack is unfolded by hand; an exception that escapes, a runtime one (heartbeats,
    recursion depth) included, is reported as the request's error and the loop goes on. -/
def runTerm (out : IO.FS.Stream) (heartbeats : Nat) (x : Term.TermElabM (Option ProofState)) :
    CommandElabM (Option ProofState) := do
  let ctx ← read
  let st ← get
  let scope := st.scopes.headD { header := "" }
  let coreCtx : Core.Context :=
    { fileName := ctx.fileName, fileMap := ctx.fileMap, options := scope.opts,
      currNamespace := scope.currNamespace, openDecls := scope.openDecls,
      initHeartbeats := ← IO.getNumHeartbeats, maxHeartbeats := heartbeats * 1000 }
  let coreState : Core.State := { env := st.env, ngen := st.ngen }
  let inMeta : MetaM (Option ProofState) := (x {}).run' {}
  let core : CoreM (Option ProofState) := (inMeta {}).run' {}
  match ← ((core coreCtx).run' coreState).toBaseIO with
  | .ok r => return r
  | .error e =>
    printError out (← e.toMessageData.toString)
    return none

/-- How many hypotheses a theorem's binders introduce, and the `intro` names for them. -/
def binderNames : List Syntax → List String
  | [] => []
  | b :: bs =>
    let mine := if b.getKind == ``Lean.Parser.Term.instBinder then
        (if b[1].isNone then ["_"] else [nameText b[1][0].getId])
      else identNames b[1].getArgs.toList
    app mine (binderNames bs)
where
  identNames : List Syntax → List String
    | [] => []
    | i :: is => (if i.isIdent then nameText i.getId else "_") :: identNames is

def joinWords : List String → String
  | [] => ""
  | [w] => w
  | w :: ws => w ++ " " ++ joinWords ws

/-- The goal of a statement written as a theorem's signature, with its binders as hypotheses: the
    statement is elaborated as one `∀` and its binders introduced by name, as `example` would
    (`Term.elabBinders` and `withAutoBoundImplicit` have no code in the portable library, so an
    auto-bound implicit is an unknown identifier here: the caller binds it and asks again). -/
def startGoal (out : IO.FS.Stream) (id : Nat) (statement : String) : CommandElabM (Option ProofState) := do
  let env ← getEnv
  match Parser.runParserCategory env `command s!"example {statement} := by skip" "<statement>" with
  | .error e => printError out s!"cannot parse the statement: {e}"; return none
  | .ok stx =>
    let (binders, type?) := expandOptDeclSig stx[1][1]
    let some typeStx := type? | printError out "the statement has no type"; return none
    let names := binderNames binders.getArgs.toList
    let offset := 8  -- "example "
    let typeStart := (typeStx.getPos?.getD 0).byteIdx - offset
    let typeText := String.Pos.Raw.extract statement ⟨typeStart⟩ statement.rawEndPos
    let head := String.Pos.Raw.extract statement 0 ⟨(binders.getTailPos?.getD ⟨offset⟩).byteIdx - offset⟩
    let whole := if names matches [] then typeText else s!"∀ {head}, {typeText}"
    match Parser.runParserCategory env `term whole "<statement>" with
    | .error e => printError out s!"cannot parse the statement: {e}"; return none
    | .ok term =>
      let intro ← if names matches [] then pure none else
        match Parser.runParserCategory env `tactic s!"intro {joinWords names}" "<intro>" with
        | .ok t => pure (some t)
        | .error e => printError out s!"cannot introduce the binders: {e}"; return none
      runTerm out 200000 do
        try
          let type ← Term.elabType term
          Term.synthesizeSyntheticMVarsNoPostponing
          -- an elaboration error is logged and replaced by `sorry`: a goal about `sorry` is no goal
          if let some m := firstError (← getThe Core.State).messages.toList then
            printError out (← m.data.toString)
            return none
          let goal ← mkFreshExprMVar (← instantiateMVars type) .syntheticOpaque
          let goals ← match intro with
            | none => pure [goal.mvarId!]
            | some t => Tactic.run goal.mvarId! do
                Tactic.evalTactic t
                Term.synthesizeSyntheticMVarsNoPostponing
          let p ← capture id goals
          printState out p
          return some p
        catch e =>
          printError out (← Exception.toMessageData e |>.toString)
          return none

/-- The goals not yet solved: a tactic on one of coupled goals may assign another. -/
def unassigned : List MVarId → MetaM (List MVarId)
  | [] => pure []
  | g :: gs => do
    let rest ← unassigned gs
    match ← instantiateMVars (mkMVar g) with
    | .mvar h => return if h == g then g :: rest else rest
    | _ => return rest

def nth? {α : Type} : List α → Nat → Option α
  | [], _ => none
  | x :: _, 0 => some x
  | _ :: xs, n + 1 => nth? xs n

/-- The goals a tactic sees: `0` the state's goals as they are (it acts on the first, the rest stay),
    `k` the state's `k`-th goal alone (an independent goal, searched on its own). -/
def pick (goals : List MVarId) : Nat → List MVarId
  | 0 => goals
  | k + 1 => match nth? goals k with | some g => [g] | none => []

/-- Run a tactic on a state's chosen goal, starting from the state as it was saved. -/
def runTactic (out : IO.FS.Stream) (id : Nat) (p : ProofState) (index : Nat) (text : String)
    (heartbeats : Nat) : CommandElabM (Option ProofState) := do
  -- in parentheses: `tac₁; tac₂` is one tactic there, as it is on a line of a proof
  match Parser.runParserCategory (← getEnv) `tactic s!"({text})" "<tactic>" with
  | .error e => printError out s!"cannot parse the tactic: {e}"; return none
  | .ok stx =>
    match pick p.goals index with
    | [] => printError out "this proof state has no goals"; return none
    | g :: rest =>
      runTerm out heartbeats do
        restore p
        try
          let strict := fun (c : Term.Context) => { c with errToSorry := false }
          let gs ← withTheReader Term.Context strict <| Tactic.run g do
            Tactic.evalTactic stx
            Term.synthesizeSyntheticMVarsNoPostponing
          if let some m := firstError (← getThe Core.State).messages.toList then
            printError out (← m.data.toString)
            return none
          if (← instantiateMVars (mkMVar g)).hasSorry then
            printError out "the tactic left a `sorry` in the proof"
            return none
          let q ← capture id (← unassigned (app gs rest))
          printState out q
          return some q
        catch e =>
          printError out (← Exception.toMessageData e |>.toString)
          return none

def argOr (d : Nat) (args : List Nat) (k : Nat) : Nat := match nth? args k with | some n => n | none => d

def answer (out : IO.FS.Stream) (start : Nat) : IO Unit := do
  out.putStrLn s!"@@DONE {(← IO.monoMsNow) - start}"
  out.flush

/-- The server: `base` is the command state right after the header, `next` the next state number. -/
partial def serve (input out : IO.FS.Stream) (base : Command.State) (states : List ProofState) (next : Nat) :
    CommandElabM Unit := do
  let some (text, kind) ← readRequest input "" | return
  let start ← IO.monoMsNow
  let before ← get
  modify fun s => { s with messages := {} }
  match firstWord kind with
  | "" | "EXTEND" =>
    elabAll { inputString := text, fileName := "<request>", fileMap := text.toFileMap } {}
    printMessages out (← get).messages.toList
    -- a question leaves no trace: the next one sees the same environment
    if kind.isEmpty then set before else modify fun s => { s with messages := {} }
    answer out start
    serve input out base states next
  | "RESET" =>
    set base
    answer out start
    serve input out base [] next
  | "FREE" =>
    let ids := numbers text
    answer out start
    serve input out base (dropIds ids states) next
  | "START" =>
    let made ← startGoal out next text
    set before
    answer out start
    serve input out base (match made with | some p => p :: states | none => states) (next + 1)
  | "TAC" =>
    let args := numbers kind
    let made ← match find? (args.headD 0) states with
      | none => do printError out s!"no proof state {args.headD 0}"; pure none
      | some p => runTactic out next p (argOr 0 args 1) text (argOr 200000 args 2)
    set before
    answer out start
    serve input out base (match made with | some p => p :: states | none => states) (next + 1)
  | other =>
    printError out s!"unknown request kind {other}"
    answer out start
    serve input out base states next

def main : CommandElabM Unit := do
  let input := IO.FS.Stream.ofHandle (← IO.FS.Handle.mk "/dev/stdin" .read)
  let output := IO.FS.Stream.ofHandle (← IO.FS.Handle.mk "@@OUTPUT@@" .append)
  -- no info trees: nothing a request elaborates outlives it
  modify fun s => { s with infoState := { s.infoState with enabled := false } }
  output.putStrLn "@@READY"
  output.flush
  serve input output (← get) [] 1

end QuantproofSession

-- no `open … in` here: it would stay open for every request
#eval show Lean.Elab.Command.CommandElabM Unit from QuantproofSession.main
