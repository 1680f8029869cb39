//go:build goexperiment.simd && amd64

// The f16 tiles of f16.go: per input i, the panel row's 32 halves are
// converted to float32 in registers (VCVTPH2PS, exact) and multiplied
// into the accumulators with one FMA per row and vector (the activation
// broadcast), in order of i: what f16TilePortable computes, bit for bit.
// One input per loop.

#include "textflag.h"
#include "tile_amd64.h"

// STORE2(lo, hi) stores one tile row at DI and steps DI to the next row
// (stride DX).
#define STORE2(lo, hi) VMOVUPS lo, 0(DI); VMOVUPS hi, 64(DI); ADDQ DX, DI

// func f16Kernel8x32(out *float32, ldo int, rows **float32, w *uint16, k int)
//
// The 8×32 f16 tile with AVX-512. Registers:
//   Z0-Z15  accumulators, row r in Z(2r) (columns 0-15), Z(2r+1) (16-31)
//   Z16-Z17 one panel row, converted (columns 0-15, 16-31)
//   R8, R9, R10, R11, R12, R13, AX, BX: the rows of activations, each read at CX
//   SI the panel row, CX the input's byte offset (4i), DX its end (4k),
//   then out's row stride in bytes (4·ldo)
TEXT ·f16Kernel8x32(SB), NOSPLIT, $0-40
	MOVQ rows+16(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ 32(DI), R12
	MOVQ 40(DI), R13
	MOVQ 48(DI), AX
	MOVQ 56(DI), BX
	MOVQ w+24(FP), SI
	MOVQ k+32(FP), DX
	SHLQ $2, DX
	XORQ CX, CX
	ZERO2(Z0, Z1)
	ZERO2(Z2, Z3)
	ZERO2(Z4, Z5)
	ZERO2(Z6, Z7)
	ZERO2(Z8, Z9)
	ZERO2(Z10, Z11)
	ZERO2(Z12, Z13)
	ZERO2(Z14, Z15)

loop:
	VCVTPH2PS 0(SI), Z16
	VCVTPH2PS 32(SI), Z17
	FMAROW(R8, Z0, Z1)
	FMAROW(R9, Z2, Z3)
	FMAROW(R10, Z4, Z5)
	FMAROW(R11, Z6, Z7)
	FMAROW(R12, Z8, Z9)
	FMAROW(R13, Z10, Z11)
	FMAROW(AX, Z12, Z13)
	FMAROW(BX, Z14, Z15)
	ADDQ $64, SI
	ADDQ $4, CX
	CMPQ CX, DX
	JNE loop

	MOVQ out+0(FP), DI
	MOVQ ldo+8(FP), DX
	SHLQ $2, DX
	STORE2(Z0, Z1)
	STORE2(Z2, Z3)
	STORE2(Z4, Z5)
	STORE2(Z6, Z7)
	STORE2(Z8, Z9)
	STORE2(Z10, Z11)
	STORE2(Z12, Z13)
	VMOVUPS Z14, 0(DI)
	VMOVUPS Z15, 64(DI)
	VZEROUPPER
	RET

// func f16Kernel4x32(out *float32, ldo int, rows **float32, w *uint16, k int)
//
// The 4×32 f16 tile with AVX-512. Registers:
//   Z0-Z7   accumulators, row r in Z(2r) (columns 0-15), Z(2r+1) (16-31)
//   Z16-Z17 one panel row, converted (columns 0-15, 16-31)
//   R8, R9, R10, R11: the rows of activations, each read at CX
//   SI the panel row, CX the input's byte offset (4i), DX its end (4k),
//   then out's row stride in bytes (4·ldo)
TEXT ·f16Kernel4x32(SB), NOSPLIT, $0-40
	MOVQ rows+16(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ w+24(FP), SI
	MOVQ k+32(FP), DX
	SHLQ $2, DX
	XORQ CX, CX
	ZERO2(Z0, Z1)
	ZERO2(Z2, Z3)
	ZERO2(Z4, Z5)
	ZERO2(Z6, Z7)

loop:
	VCVTPH2PS 0(SI), Z16
	VCVTPH2PS 32(SI), Z17
	FMAROW(R8, Z0, Z1)
	FMAROW(R9, Z2, Z3)
	FMAROW(R10, Z4, Z5)
	FMAROW(R11, Z6, Z7)
	ADDQ $64, SI
	ADDQ $4, CX
	CMPQ CX, DX
	JNE loop

	MOVQ out+0(FP), DI
	MOVQ ldo+8(FP), DX
	SHLQ $2, DX
	STORE2(Z0, Z1)
	STORE2(Z2, Z3)
	STORE2(Z4, Z5)
	VMOVUPS Z6, 0(DI)
	VMOVUPS Z7, 64(DI)
	VZEROUPPER
	RET

// func f16Kernel4x16AVX2(out *float32, ldo int, rows **float32, w *uint16, k int)
//
// 16 columns of the 4-row f16 tile with AVX2, FMA and F16C (w points at the
// panel's first column of them). Registers:
//   Y0-Y7   accumulators, row r in Y(2r) (columns 0-7), Y(2r+1) (8-15)
//   Y8-Y9   one panel row's 16 columns, converted
//   Y10-Y13 the rows' activations, broadcast
//   R8, R9, R10, R11: the rows of activations, each read at CX
//   SI the panel row, CX the input's byte offset (4i), DX its end (4k),
//   then out's row stride in bytes (4·ldo)
TEXT ·f16Kernel4x16AVX2(SB), NOSPLIT, $0-40
	MOVQ rows+16(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ w+24(FP), SI
	MOVQ k+32(FP), DX
	SHLQ $2, DX
	XORQ CX, CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	VXORPS Y4, Y4, Y4
	VXORPS Y5, Y5, Y5
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7

loop:
	VCVTPH2PS 0(SI), Y8
	VCVTPH2PS 16(SI), Y9
	VBROADCASTSS (R8)(CX*1), Y10
	VFMADD231PS Y8, Y10, Y0
	VFMADD231PS Y9, Y10, Y1
	VBROADCASTSS (R9)(CX*1), Y11
	VFMADD231PS Y8, Y11, Y2
	VFMADD231PS Y9, Y11, Y3
	VBROADCASTSS (R10)(CX*1), Y12
	VFMADD231PS Y8, Y12, Y4
	VFMADD231PS Y9, Y12, Y5
	VBROADCASTSS (R11)(CX*1), Y13
	VFMADD231PS Y8, Y13, Y6
	VFMADD231PS Y9, Y13, Y7
	ADDQ $64, SI
	ADDQ $4, CX
	CMPQ CX, DX
	JNE loop

	MOVQ out+0(FP), DI
	MOVQ ldo+8(FP), DX
	SHLQ $2, DX
	VMOVUPS Y0, 0(DI)
	VMOVUPS Y1, 32(DI)
	ADDQ DX, DI
	VMOVUPS Y2, 0(DI)
	VMOVUPS Y3, 32(DI)
	ADDQ DX, DI
	VMOVUPS Y4, 0(DI)
	VMOVUPS Y5, 32(DI)
	ADDQ DX, DI
	VMOVUPS Y6, 0(DI)
	VMOVUPS Y7, 32(DI)
	VZEROUPPER
	RET

// func roundHalvesAsm(dst, x *float32, n int)
//
// Sets dst[i] to x[i] rounded to the nearest half float (VCVTPS2PH, ties
// to even, then back with VCVTPH2PS, both exact but for the rounding),
// for i < n: roundHalf of linear.go, 16 at a time. Registers:
//   Z0 16 of x, then rounded; Y1 them as halves
//   DI dst, SI x, CX the byte offset, DX the end of the whole vectors
//   (4·(n&^15)), K1 the lanes of the last partial vector
TEXT ·roundHalvesAsm(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), DX
	MOVQ DX, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	ANDQ $-16, DX
	SHLQ $2, DX
	XORQ CX, CX
	CMPQ CX, DX
	JEQ tail

loop:
	VMOVUPS (SI)(CX*1), Z0
	VCVTPS2PH $0, Z0, Y1
	VCVTPH2PS Y1, Z0
	VMOVUPS Z0, (DI)(CX*1)
	ADDQ $64, CX
	CMPQ CX, DX
	JNE loop

tail:
	KORTESTW K1, K1
	JEQ done
	VMOVUPS.Z (SI)(CX*1), K1, Z0
	VCVTPS2PH $0, Z0, Y1
	VCVTPH2PS Y1, Z0
	VMOVUPS Z0, K1, (DI)(CX*1)

done:
	VZEROUPPER
	RET
