"""The `lazy-linker` glue fix leaves the linker's observable state as the stock code leaves it.

Both versions of the four linker functions run in Node on the same synthetic module: exports of every
kind the stock code distinguishes, GOT cells imported before linking, a thread's TLS pass, and later
look-ups as a side module would make them. The table slots, the GOT values seen, and the order and
values of `wasmImports` (dlsym indexes by that order) must be the same.
"""

from __future__ import annotations

import json
import subprocess

from verifier.lean.toolchain import glue
from verifier.lean.toolchain.portable import _node_path, install_dir

# The glue around the linker, the same for both versions (simplified: the table is a JS array).
_PRELUDE = r"""
var qpSlots=[null];
var wasmTable={get length(){return qpSlots.length},grow(n){var o=qpSlots.length;for(var i=0;i<n;i++)
  qpSlots.push(null);return o},set(i,f){qpSlots[i]=f},get(i){return qpSlots[i]}};
var functionsInTableMap;var freeTableIndexes=[];
var getFunctionAddress=f=>{if(!functionsInTableMap){functionsInTableMap=new WeakMap;
  for(var i=0;i<wasmTable.length;i++){var it=wasmTable.get(i);if(it)functionsInTableMap.set(it,i)}}
  return functionsInTableMap.get(f)||0};
var addFunction=(f,sig)=>{var r=getFunctionAddress(f);if(r)return r;
  var ret=freeTableIndexes.length?freeTableIndexes.pop():wasmTable.grow(1);wasmTable.set(ret,f);
  functionsInTableMap.set(f,ret);return ret};
var isSymbolDefined=s=>{var e=wasmImports[s];return !(!e||e.stub)};
var resolveGlobalSymbol=(s,direct)=>({sym:isSymbolDefined(s)?wasmImports[s]:undefined});
var reportUndefinedSymbols=()=>{for(var[symName,entry]of Object.entries(GOT)){if(entry.value==-1){
  var value=resolveGlobalSymbol(symName,true).sym;if(!value&&!entry.required){entry.value=0;continue}
  if(typeof value=="function"){entry.value=addFunction(value,value.sig)}else{entry.value=value}}}};
var fn=n=>Object.defineProperty(function(){},"name",{value:n});
var G=(v,mutable)=>new WebAssembly.Global({value:"i32",mutable:!!mutable},v);
"""

_SCENARIO = r"""
var pre=fn("pre");wasmTable.grow(2);wasmTable.set(2,pre);
var stub=fn("stub");stub.stub=true;var shared=fn("shared");
var wasmImports={js_defined:fn("js_defined"),f3:stub,g_js:fn("g_js"),__main_argc_argv:stub,
  g_neg:fn("g_neg_js"),g_negf:fn("g_negf_js")};
var exports={f0:fn("f0"),f1:pre,f2:shared,f2alias:shared,f3:fn("f3"),main:fn("main"),memory:{},
  __memory_base:G(5),__em_js__x:fn("emjs"),g_mut:G(40,true),g_imm:G(41),g_neg:G(-1),g_f:
  new WebAssembly.Global({value:"f64"},3.7),
  g_negf:new WebAssembly.Global({value:"f64"},-1.5),js_defined:fn("js_defined_export"),other:"text"};
for(var i=0;i<50;i++)exports["h"+i]=fn("h"+i);
var weak=new Set(["w_missing"]);
for(var s of["f0","g_mut","w_missing","g_js","h7"])GOTHandler.get(weak,s);
mergeLibSymbols(exports,"main");updateGOT(exports);reportUndefinedSymbols();
updateGOT({f0:fn("tls0"),g_mut:G(77),h9:G(99)},true);updateGOT({h3:fn("side_h3"),h11:G(11),s_new:G(12)});
var probes=[...Object.keys(exports),"w_missing","g_js","nothing","s_new"];var got={};
for(var s of probes)got[s]=GOTHandler.get(new Set(probes),s).value;
reportUndefinedSymbols();
for(var s of probes)got[s+"'"]=GOT[s].value;
var name=v=>v&&v.name!==undefined?v.name:(v instanceof WebAssembly.Global?"G"+v.value:typeof v);
console.log(JSON.stringify({table:qpSlots.map(f=>f&&f.name),got,
  imports:Object.keys(wasmImports).map(k=>[k,name(wasmImports[k])])}));
"""


def _linker_state(node: str, linker: tuple[str, ...]) -> dict:
    program = _PRELUDE + "\n".join(linker) + _SCENARIO
    proc = subprocess.run([node, "-e", program], capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_lazy_linker_leaves_the_stock_linker_state(toolchain):
    node = str(_node_path(install_dir()))
    stock = _linker_state(node, glue.STOCK_LINKER)
    lazy = _linker_state(node, tuple(glue._lazy_linker("\n".join(glue.STOCK_LINKER)).split("\n")))
    assert lazy == stock
    # The scenario reaches what the fix changes: slots added in export order after the one already there,
    # cells resolved late, the TLS replacement, values of -1 kept as unresolved, and the main alias.
    assert stock["table"][:4] == [None, None, "pre", "f0"] and "h49" in stock["table"]
    assert stock["got"]["f1"] == 2 and stock["got"]["g_mut"] == 77 and stock["got"]["h9"] == 99
    assert stock["got"]["g_f"] == 3 and stock["got"]["nothing"] == -1
    assert stock["got"]["nothing'"] == 0 and stock["got"]["g_js"] > 2 and stock["got"]["h11"] != 11
    assert stock["got"]["s_new"] == 12
    assert "g_neg_js" in stock["table"] and "g_negf_js" in stock["table"] and "side_h3" not in stock["table"]
    assert ["__main_argc_argv", "main"] in stock["imports"] and ["f3", "f3"] in stock["imports"]
