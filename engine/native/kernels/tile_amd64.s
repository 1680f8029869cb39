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
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15

loop:
	VMOVUPS 0(SI), Z16
	VMOVUPS 64(SI), Z17
	VFMADD231PS.BCST (R8)(CX*1), Z16, Z0
	VFMADD231PS.BCST (R8)(CX*1), Z17, Z1
	VFMADD231PS.BCST (R9)(CX*1), Z16, Z2
	VFMADD231PS.BCST (R9)(CX*1), Z17, Z3
	VFMADD231PS.BCST (R10)(CX*1), Z16, Z4
	VFMADD231PS.BCST (R10)(CX*1), Z17, Z5
	VFMADD231PS.BCST (R11)(CX*1), Z16, Z6
	VFMADD231PS.BCST (R11)(CX*1), Z17, Z7
	VFMADD231PS.BCST (R12)(CX*1), Z16, Z8
	VFMADD231PS.BCST (R12)(CX*1), Z17, Z9
	VFMADD231PS.BCST (R13)(CX*1), Z16, Z10
	VFMADD231PS.BCST (R13)(CX*1), Z17, Z11
	VFMADD231PS.BCST (AX)(CX*1), Z16, Z12
	VFMADD231PS.BCST (AX)(CX*1), Z17, Z13
	VFMADD231PS.BCST (BX)(CX*1), Z16, Z14
	VFMADD231PS.BCST (BX)(CX*1), Z17, Z15
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
	VMOVUPS Z0, K1, 0(DI)
	VMOVUPS Z1, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z2, K1, 0(DI)
	VMOVUPS Z3, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z4, K1, 0(DI)
	VMOVUPS Z5, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z6, K1, 0(DI)
	VMOVUPS Z7, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z8, K1, 0(DI)
	VMOVUPS Z9, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z10, K1, 0(DI)
	VMOVUPS Z11, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z12, K1, 0(DI)
	VMOVUPS Z13, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
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
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7

loop:
	VMOVUPS 0(SI), Z16
	VMOVUPS 64(SI), Z17
	VFMADD231PS.BCST (R8)(CX*1), Z16, Z0
	VFMADD231PS.BCST (R8)(CX*1), Z17, Z1
	VFMADD231PS.BCST (R9)(CX*1), Z16, Z2
	VFMADD231PS.BCST (R9)(CX*1), Z17, Z3
	VFMADD231PS.BCST (R10)(CX*1), Z16, Z4
	VFMADD231PS.BCST (R10)(CX*1), Z17, Z5
	VFMADD231PS.BCST (R11)(CX*1), Z16, Z6
	VFMADD231PS.BCST (R11)(CX*1), Z17, Z7
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
	VMOVUPS Z0, K1, 0(DI)
	VMOVUPS Z1, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z2, K1, 0(DI)
	VMOVUPS Z3, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
	VMOVUPS Z4, K1, 0(DI)
	VMOVUPS Z5, K2, 64(DI)
	DECQ BX
	JZ done
	ADDQ DX, DI
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
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	VPXORD Z4, Z4, Z4
	VPXORD Z5, Z5, Z5
	VPXORD Z6, Z6, Z6
	VPXORD Z7, Z7, Z7
	VPXORD Z8, Z8, Z8
	VPXORD Z9, Z9, Z9
	VPXORD Z10, Z10, Z10
	VPXORD Z11, Z11, Z11
	VPXORD Z12, Z12, Z12
	VPXORD Z13, Z13, Z13
	VPXORD Z14, Z14, Z14
	VPXORD Z15, Z15, Z15
	XORQ CX, CX
	CMPQ CX, DX
	JEQ tail

loop:
	VMOVUPS (R8)(CX*1), Z16
	VMOVUPS (R9)(CX*1), Z17
	VMOVUPS (R10)(CX*1), Z18
	VMOVUPS (R11)(CX*1), Z19
	VMOVUPS (SI)(CX*1), Z20
	VMOVUPS (R13)(CX*1), Z21
	VMOVUPS (AX)(CX*1), Z22
	VMOVUPS (BX)(CX*1), Z23
	VFMADD231PS Z20, Z16, Z0
	VFMADD231PS Z20, Z17, Z1
	VFMADD231PS Z20, Z18, Z2
	VFMADD231PS Z20, Z19, Z3
	VFMADD231PS Z21, Z16, Z4
	VFMADD231PS Z21, Z17, Z5
	VFMADD231PS Z21, Z18, Z6
	VFMADD231PS Z21, Z19, Z7
	VFMADD231PS Z22, Z16, Z8
	VFMADD231PS Z22, Z17, Z9
	VFMADD231PS Z22, Z18, Z10
	VFMADD231PS Z22, Z19, Z11
	VFMADD231PS Z23, Z16, Z12
	VFMADD231PS Z23, Z17, Z13
	VFMADD231PS Z23, Z18, Z14
	VFMADD231PS Z23, Z19, Z15
	ADDQ $64, CX
	CMPQ CX, DX
	JNE loop

tail:
	KORTESTW K1, K1
	JEQ reduce
	VMOVUPS.Z (R8)(CX*1), K1, Z16
	VMOVUPS.Z (R9)(CX*1), K1, Z17
	VMOVUPS.Z (R10)(CX*1), K1, Z18
	VMOVUPS.Z (R11)(CX*1), K1, Z19
	VMOVUPS.Z (SI)(CX*1), K1, Z20
	VMOVUPS.Z (R13)(CX*1), K1, Z21
	VMOVUPS.Z (AX)(CX*1), K1, Z22
	VMOVUPS.Z (BX)(CX*1), K1, Z23
	VFMADD231PS Z20, Z16, Z0
	VFMADD231PS Z20, Z17, Z1
	VFMADD231PS Z20, Z18, Z2
	VFMADD231PS Z20, Z19, Z3
	VFMADD231PS Z21, Z16, Z4
	VFMADD231PS Z21, Z17, Z5
	VFMADD231PS Z21, Z18, Z6
	VFMADD231PS Z21, Z19, Z7
	VFMADD231PS Z22, Z16, Z8
	VFMADD231PS Z22, Z17, Z9
	VFMADD231PS Z22, Z18, Z10
	VFMADD231PS Z22, Z19, Z11
	VFMADD231PS Z23, Z16, Z12
	VFMADD231PS Z23, Z17, Z13
	VFMADD231PS Z23, Z18, Z14
	VFMADD231PS Z23, Z19, Z15

reduce:
	VSHUFF32X4 $0x44, Z1, Z0, Z16
	VSHUFF32X4 $0xee, Z1, Z0, Z17
	VADDPS Z17, Z16, Z24
	VSHUFF32X4 $0x44, Z3, Z2, Z16
	VSHUFF32X4 $0xee, Z3, Z2, Z17
	VADDPS Z17, Z16, Z25
	VSHUFF32X4 $0x44, Z5, Z4, Z16
	VSHUFF32X4 $0xee, Z5, Z4, Z17
	VADDPS Z17, Z16, Z26
	VSHUFF32X4 $0x44, Z7, Z6, Z16
	VSHUFF32X4 $0xee, Z7, Z6, Z17
	VADDPS Z17, Z16, Z27
	VSHUFF32X4 $0x44, Z9, Z8, Z16
	VSHUFF32X4 $0xee, Z9, Z8, Z17
	VADDPS Z17, Z16, Z28
	VSHUFF32X4 $0x44, Z11, Z10, Z16
	VSHUFF32X4 $0xee, Z11, Z10, Z17
	VADDPS Z17, Z16, Z29
	VSHUFF32X4 $0x44, Z13, Z12, Z16
	VSHUFF32X4 $0xee, Z13, Z12, Z17
	VADDPS Z17, Z16, Z30
	VSHUFF32X4 $0x44, Z15, Z14, Z16
	VSHUFF32X4 $0xee, Z15, Z14, Z17
	VADDPS Z17, Z16, Z31
	VSHUFF32X4 $0x88, Z25, Z24, Z16
	VSHUFF32X4 $0xdd, Z25, Z24, Z17
	VADDPS Z17, Z16, Z0
	VSHUFF32X4 $0x88, Z27, Z26, Z16
	VSHUFF32X4 $0xdd, Z27, Z26, Z17
	VADDPS Z17, Z16, Z1
	VSHUFF32X4 $0x88, Z29, Z28, Z16
	VSHUFF32X4 $0xdd, Z29, Z28, Z17
	VADDPS Z17, Z16, Z2
	VSHUFF32X4 $0x88, Z31, Z30, Z16
	VSHUFF32X4 $0xdd, Z31, Z30, Z17
	VADDPS Z17, Z16, Z3
	VSHUFPS $0x88, Z1, Z0, Z16
	VSHUFPS $0xdd, Z1, Z0, Z17
	VADDPS Z17, Z16, Z4
	VSHUFPS $0x88, Z3, Z2, Z16
	VSHUFPS $0xdd, Z3, Z2, Z17
	VADDPS Z17, Z16, Z5
	VSHUFPS $0x88, Z5, Z4, Z16
	VSHUFPS $0xdd, Z5, Z4, Z17
	VADDPS Z17, Z16, Z0

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
