module

public import Quantproof.Constants
public import Quantproof.Pack
public import Quantproof.Rat
public import Quantproof.Quant
public import Quantproof.Accum
public import Quantproof.Matmul
public import Quantproof.Tile
public import Quantproof.Fp16
public import Quantproof.Layout
public import Quantproof.Activations
public import Quantproof.Kernel
public import Quantproof.E2E

/-! quantproof: machine-checked guarantees of the 3.5-bit kernel. This root imports every requirement module. -/
