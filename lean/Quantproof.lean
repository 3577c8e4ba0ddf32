module

public import Quantproof.Constants
public import Quantproof.Pack
public import Quantproof.Rat
public import Quantproof.Quant
public import Quantproof.Accum
public import Quantproof.Matmul
public import Quantproof.Tile

/-! quantproof: machine-checked guarantees of the 3.5-bit kernel. This root imports every requirement module. -/
