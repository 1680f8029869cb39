//go:build goexperiment.simd && amd64

// The float kernels of tile_simd.go's avx512 level.
//
// The tiles: per input i, the panel row's 32 floats are loaded once and
// multiplied into the accumulators with one FMA per row and vector (the
// activation broadcast from memory), in order of i from +0: the FMAs of
// the AVX2 tile, so the two agree bit for bit. One input per loop. The
// tile is stored straight into dst: its first nrows rows, each through
// masks that keep the first ncols columns, so partial tiles need no
// buffer.
//
// f32DotT4x4: MatMulT's products for a few rows, reading its b (keys) in
// place rather than packed into panels.

#include "textflag.h"
#include "tile_amd64.h"

// STOREROW(lo, hi) stores one tile row through the column masks K1, K2 at
// DI, then steps DI to the next row (stride DX) unless it was the last of
// the BX rows left (then to done).
#define STOREROW(lo, hi) VMOVUPS lo, K1, 0(DI); VMOVUPS hi, K2, 64(DI); DECQ BX; JZ done; ADDQ DX, DI

// LOAD8 loads 16 inputs of the 4 rows (Z16-Z19) and of the group's 4
// rows of b (Z20-Z23) at CX; LOAD8Z only the lanes in K1, zeroing the rest.
#define LOAD8 \
	VMOVUPS (R8)(CX*1), Z16; VMOVUPS (R9)(CX*1), Z17; \
	VMOVUPS (R10)(CX*1), Z18; VMOVUPS (R11)(CX*1), Z19; \
	VMOVUPS (SI)(CX*1), Z20; VMOVUPS (R13)(CX*1), Z21; \
	VMOVUPS (AX)(CX*1), Z22; VMOVUPS (BX)(CX*1), Z23
#define LOAD8Z \
	VMOVUPS.Z (R8)(CX*1), K1, Z16; VMOVUPS.Z (R9)(CX*1), K1, Z17; \
	VMOVUPS.Z (R10)(CX*1), K1, Z18; VMOVUPS.Z (R11)(CX*1), K1, Z19; \
	VMOVUPS.Z (SI)(CX*1), K1, Z20; VMOVUPS.Z (R13)(CX*1), K1, Z21; \
	VMOVUPS.Z (AX)(CX*1), K1, Z22; VMOVUPS.Z (BX)(CX*1), K1, Z23

// DOTS adds the 16 products of those inputs: row r, b row j into Z(4j+r).
#define DOTS \
	VFMADD231PS Z20, Z16, Z0; VFMADD231PS Z20, Z17, Z1; VFMADD231PS Z20, Z18, Z2; VFMADD231PS Z20, Z19, Z3; \
	VFMADD231PS Z21, Z16, Z4; VFMADD231PS Z21, Z17, Z5; VFMADD231PS Z21, Z18, Z6; VFMADD231PS Z21, Z19, Z7; \
	VFMADD231PS Z22, Z16, Z8; VFMADD231PS Z22, Z17, Z9; VFMADD231PS Z22, Z18, Z10; VFMADD231PS Z22, Z19, Z11; \
	VFMADD231PS Z23, Z16, Z12; VFMADD231PS Z23, Z17, Z13; VFMADD231PS Z23, Z18, Z14; VFMADD231PS Z23, Z19, Z15

// PAIRSUM(op, lo, hi, a, b, dst): dst = op $lo (b, a) + op $hi (b, a),
// one step of adding across lanes.
#define PAIRSUM(op, lo, hi, a, b, dst) op lo, b, a, Z16; op hi, b, a, Z17; VADDPS Z17, Z16, dst

// func f32Kernel8x32(dst *float32, ldd int, rows **float32, nrows int, b *float32, ldb, k, ncols int)
//
// The 8×32 float tile with AVX-512. Registers:
//   Z0-Z15  accumulators, row r in Z(2r) (columns 0-15), Z(2r+1) (16-31)
//   Z16-Z17 one panel row (columns 0-15, 16-31)
//   R8, R9, R10, R11, R12, R13, AX, BX: the rows of activations, each read at CX
//   SI the panel row, DI its stride in bytes (4·ldb), CX the input's byte
//   offset (4i), DX its end (4k); then K1, K2 the columns to store
//   (0-15, 16-31), DI dst's row, DX its stride in bytes (4·ldd), BX rows left
TEXT ·f32Kernel8x32(SB), NOSPLIT, $0-64
	MOVQ rows+16(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ 32(DI), R12
	MOVQ 40(DI), R13
	MOVQ 48(DI), AX
	MOVQ 56(DI), BX
	MOVQ b+32(FP), SI
	MOVQ ldb+40(FP), DI
	SHLQ $2, DI
	MOVQ k+48(FP), DX
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
	VMOVUPS 0(SI), Z16
	VMOVUPS 64(SI), Z17
	FMAROW(R8, Z0, Z1)
	FMAROW(R9, Z2, Z3)
	FMAROW(R10, Z4, Z5)
	FMAROW(R11, Z6, Z7)
	FMAROW(R12, Z8, Z9)
	FMAROW(R13, Z10, Z11)
	FMAROW(AX, Z12, Z13)
	FMAROW(BX, Z14, Z15)
	ADDQ DI, SI
	ADDQ $4, CX
	CMPQ CX, DX
	JNE loop

	MOVQ ncols+56(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX // the low ncols bits
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	SHLQ $2, DX
	MOVQ nrows+24(FP), BX
	STOREROW(Z0, Z1)
	STOREROW(Z2, Z3)
	STOREROW(Z4, Z5)
	STOREROW(Z6, Z7)
	STOREROW(Z8, Z9)
	STOREROW(Z10, Z11)
	STOREROW(Z12, Z13)
	VMOVUPS Z14, K1, 0(DI)
	VMOVUPS Z15, K2, 64(DI)

done:
	VZEROUPPER
	RET

// func f32Kernel4x32(dst *float32, ldd int, rows **float32, nrows int, b *float32, ldb, k, ncols int)
//
// The 4×32 float tile with AVX-512, for at most four rows. Registers:
//   Z0-Z7   accumulators, row r in Z(2r) (columns 0-15), Z(2r+1) (16-31)
//   Z16-Z17 one panel row (columns 0-15, 16-31)
//   R8, R9, R10, R11: the rows of activations, each read at CX
//   SI the panel row, DI its stride in bytes (4·ldb), CX the input's byte
//   offset (4i), DX its end (4k); then K1, K2 the columns to store
//   (0-15, 16-31), DI dst's row, DX its stride in bytes (4·ldd), BX rows left
TEXT ·f32Kernel4x32(SB), NOSPLIT, $0-64
	MOVQ rows+16(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ b+32(FP), SI
	MOVQ ldb+40(FP), DI
	SHLQ $2, DI
	MOVQ k+48(FP), DX
	SHLQ $2, DX
	XORQ CX, CX
	ZERO2(Z0, Z1)
	ZERO2(Z2, Z3)
	ZERO2(Z4, Z5)
	ZERO2(Z6, Z7)

loop:
	VMOVUPS 0(SI), Z16
	VMOVUPS 64(SI), Z17
	FMAROW(R8, Z0, Z1)
	FMAROW(R9, Z2, Z3)
	FMAROW(R10, Z4, Z5)
	FMAROW(R11, Z6, Z7)
	ADDQ DI, SI
	ADDQ $4, CX
	CMPQ CX, DX
	JNE loop

	MOVQ ncols+56(FP), CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX // the low ncols bits
	KMOVW AX, K1
	SHRQ $16, AX
	KMOVW AX, K2
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), DX
	SHLQ $2, DX
	MOVQ nrows+24(FP), BX
	STOREROW(Z0, Z1)
	STOREROW(Z2, Z3)
	STOREROW(Z4, Z5)
	VMOVUPS Z6, K1, 0(DI)
	VMOVUPS Z7, K2, 64(DI)

done:
	VZEROUPPER
	RET

// func f32DotT4x4(dst *float32, ldd int, rows **float32, nrows int, b *float32, n, k int)
//
// Up to 4 rows of activations times the transpose of b (n rows of k
// floats, contiguous: attention's keys), read in place: for each group of
// 4 rows of b, the 16 dot products run as 16-wide FMAs over k (the last
// partial vector of each row masked), then are added across lanes. It
// stores the first nrows rows of the n columns into dst. Registers:
//   Z0-Z15  accumulators, row r and column j of the group in Z(4j+r)
//   Z16-Z19 16 inputs of each row; Z20-Z23 of each of the group's b rows
//   Z24-Z31 and Z16-Z17 the reduction's partial sums; it ends in Z0,
//   128-bit lane r holding row r's 4 columns
//   R8, R9, R10, R11: the rows, each read at CX; SI, R13, AX, BX: the
//   group's rows of b (those past n repeat SI), R12 their stride (4k)
//   CX the inputs' byte offset, DX the end of the whole vectors (4·(k&^15))
//   K1 the lanes of the last partial vector, K2 the group's columns to store
//   DI dst's column of the group; n+40(FP) counts the columns left
TEXT ·f32DotT4x4(SB), NOSPLIT, $0-56
	MOVQ rows+16(FP), DI
	MOVQ 0(DI), R8
	MOVQ 8(DI), R9
	MOVQ 16(DI), R10
	MOVQ 24(DI), R11
	MOVQ b+32(FP), SI
	MOVQ k+48(FP), R12
	MOVQ R12, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ R12, DX
	ANDQ $-16, DX
	SHLQ $2, DX
	SHLQ $2, R12
	MOVQ dst+0(FP), DI

group:
	MOVQ n+40(FP), CX
	MOVQ SI, R13
	MOVQ SI, AX
	MOVQ SI, BX
	CMPQ CX, $2
	JLT zero
	LEAQ (SI)(R12*1), R13
	CMPQ CX, $3
	JLT zero
	LEAQ (SI)(R12*2), AX
	CMPQ CX, $4
	JLT zero
	LEAQ (R13)(R12*2), BX

zero:
	ZERO2(Z0, Z1)
	ZERO2(Z2, Z3)
	ZERO2(Z4, Z5)
	ZERO2(Z6, Z7)
	ZERO2(Z8, Z9)
	ZERO2(Z10, Z11)
	ZERO2(Z12, Z13)
	ZERO2(Z14, Z15)
	XORQ CX, CX
	CMPQ CX, DX
	JEQ tail

loop:
	LOAD8
	DOTS
	ADDQ $64, CX
	CMPQ CX, DX
	JNE loop

tail:
	KORTESTW K1, K1
	JEQ reduce
	LOAD8Z
	DOTS

reduce:
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z0, Z1, Z24)
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z2, Z3, Z25)
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z4, Z5, Z26)
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z6, Z7, Z27)
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z8, Z9, Z28)
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z10, Z11, Z29)
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z12, Z13, Z30)
	PAIRSUM(VSHUFF32X4, $0x44, $0xee, Z14, Z15, Z31)
	PAIRSUM(VSHUFF32X4, $0x88, $0xdd, Z24, Z25, Z0)
	PAIRSUM(VSHUFF32X4, $0x88, $0xdd, Z26, Z27, Z1)
	PAIRSUM(VSHUFF32X4, $0x88, $0xdd, Z28, Z29, Z2)
	PAIRSUM(VSHUFF32X4, $0x88, $0xdd, Z30, Z31, Z3)
	PAIRSUM(VSHUFPS, $0x88, $0xdd, Z0, Z1, Z4)
	PAIRSUM(VSHUFPS, $0x88, $0xdd, Z2, Z3, Z5)
	PAIRSUM(VSHUFPS, $0x88, $0xdd, Z4, Z5, Z0)

	MOVQ n+40(FP), CX
	MOVQ $4, R13
	CMPQ CX, $4
	CMOVQGT R13, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K2
	MOVQ ldd+8(FP), R13
	SHLQ $2, R13
	MOVQ nrows+24(FP), BX
	MOVQ DI, AX
	VEXTRACTF32X4 $0, Z0, K2, (AX)
	DECQ BX
	JZ next
	ADDQ R13, AX
	VEXTRACTF32X4 $1, Z0, K2, (AX)
	DECQ BX
	JZ next
	ADDQ R13, AX
	VEXTRACTF32X4 $2, Z0, K2, (AX)
	DECQ BX
	JZ next
	ADDQ R13, AX
	VEXTRACTF32X4 $3, Z0, K2, (AX)

next:
	ADDQ $16, DI
	LEAQ (SI)(R12*4), SI
	SUBQ $4, n+40(FP)
	JGT group
	VZEROUPPER
	RET
