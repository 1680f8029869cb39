//go:build goexperiment.simd && amd64

// Softmax of one row with AVX-512 (ops_simd.go's softmaxAVX512), in three
// passes over x: the maximum, e^(x-max) and its sum, the scaling by
// 1/sum. A row's last partial vector is read and written through a mask
// (K1), so no pass has a scalar tail, and each horizontal reduction stays
// in registers. The exponential is exp16's, instruction for instruction.

#include "textflag.h"

// The constants of exp16 (ops_simd.go), as float32 bits.
DATA softmaxConst<>+0(SB)/4, $0xc2d00000  // expLo512 = -104
DATA softmaxConst<>+4(SB)/4, $0x42b0c0a5  // expHi = 88.3762626647949
DATA softmaxConst<>+8(SB)/4, $0x3fb8aa3b  // expLog2e
DATA softmaxConst<>+12(SB)/4, $0xbf318000 // -expC1
DATA softmaxConst<>+16(SB)/4, $0x395e8083 // -expC2
DATA softmaxConst<>+20(SB)/4, $0x39506967 // expP0
DATA softmaxConst<>+24(SB)/4, $0x3ab743ce // expP1
DATA softmaxConst<>+28(SB)/4, $0x3c088908 // expP2
DATA softmaxConst<>+32(SB)/4, $0x3d2aa9c1 // expP3
DATA softmaxConst<>+36(SB)/4, $0x3e2aaaaa // expP4
DATA softmaxConst<>+40(SB)/4, $0x3f000000 // expP5
DATA softmaxConst<>+44(SB)/4, $0x3f800000 // 1
DATA softmaxConst<>+48(SB)/4, $0xff800000 // -Inf
GLOBL softmaxConst<>(SB), RODATA|NOPTR, $52

// EXP16 sets Z0 to e^Z0 (exp16), using Z1-Z3.
#define EXP16 \
	VMAXPS Z20, Z0, Z0 \
	VMINPS Z21, Z0, Z0 \
	VMULPS Z22, Z0, Z1 \
	VRNDSCALEPS $0, Z1, Z1 \
	VFMADD231PS Z23, Z1, Z0 \
	VFMADD231PS Z24, Z1, Z0 \
	VMOVAPS Z25, Z2 \
	VFMADD213PS Z26, Z0, Z2 \
	VFMADD213PS Z27, Z0, Z2 \
	VFMADD213PS Z28, Z0, Z2 \
	VFMADD213PS Z29, Z0, Z2 \
	VFMADD213PS Z30, Z0, Z2 \
	VMULPS Z0, Z0, Z3 \
	VADDPS Z31, Z0, Z0 \
	VFMADD231PS Z3, Z2, Z0 \
	VSCALEFPS Z1, Z0, Z0

// func softmaxAVX512Asm(x *float32, n int) (ok bool)
//
// Replaces x[:n] (n ≥ 1) with its softmax; when every entry is -Inf it
// leaves x as it is and returns false. Registers:
//   Z4      the running maximum, then the maximum broadcast
//   Z5      the running sum, then 1/sum broadcast
//   Z0-Z3   one vector of x and exp16's temporaries
//   Z20-Z31 exp16's constants, broadcast
//   K1      the lanes of the last partial vector (none when n%16 = 0)
//   SI x, DX the byte offset of the last partial vector (4·(n &^ 15)),
//   CX the offset of the vector at hand
TEXT ·softmaxAVX512Asm(SB), NOSPLIT, $0-17
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), DX
	MOVQ DX, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	ANDQ $-16, DX
	SHLQ $2, DX
	LEAQ softmaxConst<>(SB), AX
	VBROADCASTSS 48(AX), Z4

	// The maximum.
	XORQ CX, CX
	CMPQ CX, DX
	JEQ maxtail

maxloop:
	VMAXPS (SI)(CX*1), Z4, Z4
	ADDQ $64, CX
	CMPQ CX, DX
	JNE maxloop

maxtail:
	VMOVUPS.Z (SI)(DX*1), K1, Z0
	VMAXPS Z0, Z4, K1, Z4
	VEXTRACTF32X8 $1, Z4, Y0
	VMAXPS Y0, Y4, Y4
	VEXTRACTF128 $1, Y4, X0
	VMAXPS X0, X4, X4
	VPERMILPS $0x4e, X4, X0
	VMAXPS X0, X4, X4
	VPERMILPS $0xb1, X4, X0
	VMAXPS X0, X4, X4
	VUCOMISS 48(AX), X4
	JNE finite
	JPS finite // a NaN: carry on, as the portable code does
	MOVB $0, ok+16(FP)
	VZEROUPPER
	RET

finite:
	VBROADCASTSS X4, Z4
	VBROADCASTSS 0(AX), Z20
	VBROADCASTSS 4(AX), Z21
	VBROADCASTSS 8(AX), Z22
	VBROADCASTSS 12(AX), Z23
	VBROADCASTSS 16(AX), Z24
	VBROADCASTSS 20(AX), Z25
	VBROADCASTSS 24(AX), Z26
	VBROADCASTSS 28(AX), Z27
	VBROADCASTSS 32(AX), Z28
	VBROADCASTSS 36(AX), Z29
	VBROADCASTSS 40(AX), Z30
	VBROADCASTSS 44(AX), Z31

	// e^(x-max), stored, and its sum.
	VPXORD Z5, Z5, Z5
	XORQ CX, CX
	CMPQ CX, DX
	JEQ exptail

exploop:
	VMOVUPS (SI)(CX*1), Z0
	VSUBPS Z4, Z0, Z0
	EXP16
	VMOVUPS Z0, (SI)(CX*1)
	VADDPS Z0, Z5, Z5
	ADDQ $64, CX
	CMPQ CX, DX
	JNE exploop

exptail:
	VMOVUPS.Z (SI)(DX*1), K1, Z0
	VSUBPS Z4, Z0, Z0
	EXP16
	VMOVUPS Z0, K1, (SI)(DX*1)
	VADDPS Z0, Z5, K1, Z5
	VEXTRACTF32X8 $1, Z5, Y0
	VADDPS Y0, Y5, Y5
	VEXTRACTF128 $1, Y5, X0
	VADDPS X0, X5, X5
	VPERMILPS $0x4e, X5, X0
	VADDPS X0, X5, X5
	VPERMILPS $0xb1, X5, X0
	VADDPS X0, X5, X5
	VMOVSS 44(AX), X0
	VDIVSS X5, X0, X5
	VBROADCASTSS X5, Z5

	// The scaling by 1/sum.
	XORQ CX, CX
	CMPQ CX, DX
	JEQ scaletail

scaleloop:
	VMULPS (SI)(CX*1), Z5, Z0
	VMOVUPS Z0, (SI)(CX*1)
	ADDQ $64, CX
	CMPQ CX, DX
	JNE scaleloop

scaletail:
	VMOVUPS.Z (SI)(DX*1), K1, Z0
	VMULPS Z5, Z0, Z0
	VMOVUPS Z0, K1, (SI)(DX*1)
	MOVB $1, ok+16(FP)
	VZEROUPPER
	RET
