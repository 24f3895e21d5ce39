# vec-scale: scale a block of synapse rows by 0.75 with stochastic rounding, then read the
# neurons' rates through the ADC. The C twin is vec-scale.c; both must leave the same synapses,
# the same `result` bytes and the same exit code (test/processor/firmware.test.ts).
#
# Per row: load 128 8-bit codes, widen to two registers of 64 16-bit lanes, shift left by 7 to
# make room for fraction bits, multiply by 0.75 (Q0.15, saturating), narrow back to 8 bits with
# stochastic rounding (shift 7), store the row (the chip clamps to its code range), wait one step.

        .equ NROWS, 8
        .equ SCALE, 24576          # 0.75 in Q0.15
        .equ FRAC, 7

        .text
        .globl _start
_start:
        li      s0, 0              # row
        li      s1, NROWS
        li      s2, SCALE
        li      s3, FRAC
        li      s4, 1
row:
        vlds.b  v1, s0, zero       # columns 0..127 of the row
        vwiden.lo v2, v1
        vwiden.hi v3, v1
        vslli.hs v2, v2, 7
        vslli.hs v3, v3, 7
        vmulfs.hs v2, v2, s2
        vmulfs.hs v3, v3, s2
        vnarrowsr.lo v4, v2, s3
        vnarrowsr.hi v4, v3, s3
        vsts.b  v4, s0, zero
        wait    s4                 # let the analog core advance one step
        addi    s0, s0, 1
        blt     s0, s1, row

        vadc.b  v5, 0, zero        # rates r of columns 0..127 as ADC codes
        la      t0, result
        vst     v5, 0(t0)

        li      a0, 0              # checksum: sum of the unsigned codes
        li      t1, 0
        li      t2, 128
sum:
        vext.bu t3, v5, t1
        add     a0, a0, t3
        addi    t1, t1, 1
        blt     t1, t2, sum

        li      a7, 93             # exit with the checksum
        ecall

        .data
        .align 4
result: .space 128
