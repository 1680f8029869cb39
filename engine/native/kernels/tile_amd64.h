// Macros of the AVX-512 tiles (tile_amd64.s, f16_amd64.s): a tile keeps
// its accumulators in Z0-Z15, row r in Z(2r) (columns 0-15) and Z(2r+1)
// (16-31), and meets one panel row in Z16, Z17 per input.

// ZERO2(a, b) clears two accumulators.
#define ZERO2(a, b) VPXORD a, a, a; VPXORD b, b, b

// FMAROW(p, lo, hi): one tile row's FMAs of the panel row (Z16, Z17) with
// the activation at p+CX broadcast.
#define FMAROW(p, lo, hi) VFMADD231PS.BCST (p)(CX*1), Z16, lo; VFMADD231PS.BCST (p)(CX*1), Z17, hi
