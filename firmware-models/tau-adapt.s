# tau-adapt.s: the tau adaptation of RESEARCH.md section 1 ("Spatial noise") on the plasticity
# processor, acting on the tau_m trim DACs (vldp/vstp selector 1). Float reference and protocol:
# firmware-models/tau-adapt-reference.ts; the host (emulator/tau-adapt-firmware.ts) writes the
# table at `ta_table` and runs the protocol (no nudging, no weight learning, samples of a few steps).
#
# The rule tau_m += eta (ubr - basal) du, with no error in the membrane, is measured through the
# column ADC as
#     ubr - basal ~ r - basal         (rate of a calibrated circuit, gain 1, offset 0, linear region)
#     tau_m du    ~ basal - u         (du = (basal - u) / tau_m; u moves by dt du in a step)
# so per update, n analog steps after the last one,
#     t += K n (r - basal)(basal - u)       float lanes (ideal chip): K = eta / tau_m^2 per record
#     code += ((dr db / 2) K n >> 15) >> S  fixed lanes: dr, db in ADC codes, stochastic rounding
# only where r' > 1/2 (the activation's linear region; hard-sigmoid neurons outside it keep their
# trim) and only on the record's columns.
#
# Vector registers kept across the loop: v30 = lane indices, v29 = the r' threshold (splat).
# Scalar: s0 = table, s1 = mode.

        .equ TA_MODE, 0           # 0 float32 lanes, 1 fixed (16-bit lanes of ADC codes)
        .equ TA_NREC, 4
        .equ TA_RECS, 8           # address of the records
        .equ TA_HALF, 12          # r' threshold: float32 bits (float) or its ADC code (fixed)
        .equ TA_LAST, 16          # analog step of the last update (firmware state)
        .equ TA_UPDATES, 20       # updates done (the host reads it)

        .equ R_COL0, 0            # record: columns [col0, col0 + cols) of one population
        .equ R_COLS, 4
        .equ R_K, 8               # float32 bits of K (float) or K in Q0.15 (fixed)
        .equ R_S, 12              # S (fixed)
        .equ R_SIZE, 16

        .equ KMAX, 32767
        .equ NMAX, 65535

        .text
        .globl _start
_start:
        la      s0, ta_table
        lw      s1, TA_MODE(s0)
        rdstep  t0
        sw      t0, TA_LAST(s0)
        lw      t0, TA_HALF(s0)
        beqz    s1, 2f
        vsplat.h v29, t0
        li      t1, 0
        li      t2, 64
1:      vins.h  v30, t1, t1
        addi    t1, t1, 1
        blt     t1, t2, 1b
        j       loop
2:      vsplat.w v29, t0
        li      t1, 0
        li      t2, 32
3:      vins.w  v30, t1, t1
        addi    t1, t1, 1
        blt     t1, t2, 3b
        vcvt.f.w v30, v30

loop:
        li      t0, 1
        wait    t0
        # n = steps since the last update (at most NMAX)
        rdstep  t0
        lw      t1, TA_LAST(s0)
        sw      t0, TA_LAST(s0)
        sub     s2, t0, t1
        beqz    s2, loop
        li      t1, NMAX
        bleu    s2, t1, 1f
        mv      s2, t1
1:      lw      s3, TA_NREC(s0)
        lw      s4, TA_RECS(s0)
2:      beqz    s3, 3f
        mv      a0, s4
        beqz    s1, 4f
        call    fixed_record
        j       5f
4:      call    float_record
5:      addi    s4, s4, R_SIZE
        addi    s3, s3, -1
        j       2b
3:      lw      t0, TA_UPDATES(s0)
        addi    t0, t0, 1
        sw      t0, TA_UPDATES(s0)
        j       loop

# ---------------------------------------------------------------- float32 lanes (a0 = record)
float_record:
        lw      a4, R_COL0(a0)
        lw      a5, R_COLS(a0)
        lw      a1, R_K(a0)
        vsplat.w v1, s2           # K n as float32
        vcvt.f.w v1, v1
        vmuls.f v1, v1, a1
        vext.w  a1, v1, zero
        li      t0, 0
1:      add     t6, a4, t0
        vadc.f  v2, 0, t6         # r
        vadc.f  v3, 5, t6         # basal
        vadc.f  v4, 1, t6         # u
        vadc.f  v5, 2, t6         # r'
        vsub.f  v6, v2, v3        # r - basal
        vsub.f  v7, v3, v4        # basal - u
        vmul.f  v6, v6, v7
        vmuls.f v6, v6, a1        # delta t = K n (r - basal)(basal - u)
        vcmplt.f v8, v29, v5      # r' > threshold: the linear region
        vand    v6, v6, v8
        sub     t1, a5, t0        # columns left; lanes past them keep their trim
        li      t2, 32
        bge     t1, t2, 2f
        vsplat.w v9, t1
        vcvt.f.w v9, v9
        vcmplt.f v9, v30, v9
        vand    v6, v6, v9
2:      vldp.f  v10, 1, t6
        vadd.f  v10, v10, v6
        vstp.f  v10, 1, t6        # the chip clamps the trim to +-trim_range
        addi    t0, t0, 32
        blt     t0, a5, 1b
        ret

# ---------------------------------------------------------------- fixed: 16-bit lanes (a0 = record)
fixed_record:
        lw      a4, R_COL0(a0)
        lw      a5, R_COLS(a0)
        lw      a1, R_K(a0)
        lw      a3, R_S(a0)
        # K n in Q0.15 with S' <= S: halve (rounding) while K n exceeds the lane
        mul     a1, a1, s2
        li      t4, KMAX
1:      ble     a1, t4, 2f
        beqz    a3, 3f
        addi    a1, a1, 1
        srai    a1, a1, 1
        addi    a3, a3, -1
        j       1b
3:      mv      a1, t4
2:      li      t0, 0
        li      t5, 7
4:      add     t6, a4, t0
        vadc.h  v2, 0, t6         # r codes
        vadc.h  v3, 5, t6         # basal codes
        vadc.h  v4, 1, t6         # u codes
        vadc.h  v5, 2, t6         # r' codes
        vsub.h  v6, v2, v3        # dr = r - basal (codes)
        vsub.h  v7, v3, v4        # db = basal - u (codes)
        vsll.hs v6, v6, t5        # dr 2^7, db 2^7: their fractional product is dr db / 2
        vsll.hs v7, v7, t5
        vmulf.hs v6, v6, v7
        vmulfs.hs v6, v6, a1      # x K n (Q0.15)
        vxor    v8, v8, v8
        vnarrowsr.lo v8, v6, a3   # >> S with stochastic rounding, into 8-bit lanes
        vwiden.lo v6, v8          # delta code in 16-bit lanes (|delta| <= 127 per update)
        vcmplt.h v9, v29, v5      # r' > threshold
        vand    v6, v6, v9
        sub     t1, a5, t0
        li      t2, 64
        bge     t1, t2, 5f
        vsplat.h v9, t1
        vcmplt.h v9, v30, v9
        vand    v6, v6, v9
5:      vldp.h  v10, 1, t6        # tau_m trim codes
        vadd.hs v10, v10, v6
        vstp.h  v10, 1, t6        # the chip clamps to the DAC's range
        addi    t0, t0, 64
        blt     t0, a5, 4b
        ret

        .data
        .align 4
ta_table:                         # written by the host (emulator/tau-adapt-firmware.ts)
        .space 16
