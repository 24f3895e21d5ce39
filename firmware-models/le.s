# le.s: Latent Equilibrium plasticity (RESEARCH.md section 1) on every plastic synapse block of
# the core, as the plasticity processor runs it. The compiler's link pass (compiler/link.ts) writes
# this core's table at `le_table`; firmware-models/README.md documents the table and the method,
# firmware-models/le-reference.ts is the float reference of one pass.
#
# One pass, after every `wait 1`:
#   per plastic block    W[s][c] += rate_n * e[c] * s_prev[s]      rate_n = eta * eta_scale * dt * n
#   per learning bias    b[c]    += rate_n * e[c]
# with e read through the column ADC (vadc), s_prev from the row drivers (vrowd: what drove the row
# in the last step) and n = analog steps since the record's last update (rdstep), so that under
# cycle timing each update stands for the time that passed (n = 1 under ideal timing), capped at
# the record's n_max (B_NMAX / BI_NMAX, linked by compiler/link.ts: T_pres / dt, one presentation),
# so that no update is larger than the per-sample step the learning rate is set for.
# Float chips (mode 0) update float32 weights as the engine's kernel does, bit for bit:
#   W + fround(e * fround(s * rate)),  b + fround(e * rate).
# Fixed chips (modes 1, 2) work in 16-bit lanes on ADC codes centred on the code of 0:
#   delta = ((de * ds) * K >> 15) >> S   with stochastic rounding (vnarrowsr) to 8-bit codes,
# K and S fixed-point constants with the block scale folded in; mode 2 (sign per row) keeps both
# magnitude rows of a signal: w = exc - inh + delta, exc = max(w, 0), inh = max(-w, 0).
# Transpose feedback blocks (flag 2) get the mirrored update B[i][k] += rate_n * diff_i * r_k
# (rows carry diff, columns read r), which is what keeps separate B storage near W^T on hardware;
# on the emulator B is W^T by construction and the bus drops these writes, but their cycles count.
#
# Vector registers kept across the loop: v0 = 0 (never written), v29 = the ADC code of 0 in 16-bit
# lanes (fixed), v30 = lane indices (float lanes on float chips, 16-bit lanes on fixed chips).
# Scalar registers kept: s0 = table, s1 = mode, s2 = scratch base, s3/s4 = record loop state.

        # table header (compiler/link.ts writes it)
        .equ T_VERSION, 0
        .equ T_MODE, 4            # 0 float32, 1 fixed with sign per synapse, 2 fixed with sign per row
        .equ T_NBLOCKS, 8
        .equ T_BLOCKS, 12         # address of the block records
        .equ T_NBIAS, 16
        .equ T_BIAS, 20           # address of the bias records
        .equ T_SCRATCH, 24        # address of the scratch area
        .equ T_ZERO, 28           # ADC code of 0.0 in 16-bit lanes (fixed chips)

        # block record, 48 bytes
        .equ B_ROW0, 0
        .equ B_SIGNALS, 4
        .equ B_RPS, 8             # rows per signal (2: excitatory and inhibitory row)
        .equ B_COL0, 12
        .equ B_COLS, 16
        .equ B_RATE, 20           # float32 bits of eta*eta_scale*dt (float) or K in Q0.15 (fixed)
        .equ B_SHIFT, 24          # S (fixed)
        .equ B_OBS, 28            # 3: e of the columns (forward); 0: r of the columns (mirror)
        .equ B_FLAGS, 32          # 1: rows carry an input population, 2: transpose feedback mirror
        .equ B_LAST, 36           # analog step of the last update (firmware state)
        .equ B_NMAX, 44           # steps one update may stand for at most (B_LAST + 8; link.ts)
        .equ B_SIZE, 48

        # bias record, 32 bytes
        .equ BI_COL0, 0
        .equ BI_COLS, 4
        .equ BI_RATE, 8
        .equ BI_SHIFT, 12
        .equ BI_LAST, 16
        .equ BI_PRESHIFT, 20      # left shift of the ADC code difference before the multiply (fixed)
        .equ BI_NMAX, 24          # steps one update may stand for at most (BI_LAST + 8; link.ts)
        .equ BI_SIZE, 32

        .equ KMAX, 32767

        .text
        .globl _start
_start:
        la      s0, le_table
        lw      s1, T_MODE(s0)
        lw      s2, T_SCRATCH(s0)
        # every record starts counting its steps now
        rdstep  t0
        lw      t1, T_NBLOCKS(s0)
        lw      t2, T_BLOCKS(s0)
1:      beqz    t1, 2f
        sw      t0, B_LAST(t2)
        addi    t2, t2, B_SIZE
        addi    t1, t1, -1
        j       1b
2:      lw      t1, T_NBIAS(s0)
        lw      t2, T_BIAS(s0)
3:      beqz    t1, 4f
        sw      t0, BI_LAST(t2)
        addi    t2, t2, BI_SIZE
        addi    t1, t1, -1
        j       3b
4:      beqz    s1, init_float
        lw      t0, T_ZERO(s0)
        vsplat.h v29, t0
        li      t1, 0
        li      t2, 64
5:      vins.h  v30, t1, t1
        addi    t1, t1, 1
        blt     t1, t2, 5b
        j       main_loop
init_float:
        li      t1, 0
        li      t2, 32
6:      vins.w  v30, t1, t1
        addi    t1, t1, 1
        blt     t1, t2, 6b
        vcvt.f.w v30, v30

main_loop:
        li      t0, 1
        wait    t0                # let one analog step pass
        lw      s3, T_NBLOCKS(s0)
        lw      s4, T_BLOCKS(s0)
1:      beqz    s3, 3f
        mv      a0, s4
        beqz    s1, 2f
        call    fixed_block
        j       4f
2:      call    float_block
4:      addi    s4, s4, B_SIZE
        addi    s3, s3, -1
        j       1b
3:      lw      s3, T_NBIAS(s0)
        lw      s4, T_BIAS(s0)
5:      beqz    s3, 7f
        mv      a0, s4
        beqz    s1, 6f
        call    fixed_bias
        j       8f
6:      call    float_bias
8:      addi    s4, s4, BI_SIZE
        addi    s3, s3, -1
        j       5b
7:      la      t0, le_passes     # one more full pass (the host reports passes per sample)
        lw      t1, 0(t0)
        addi    t1, t1, 1
        sw      t1, 0(t0)
        j       main_loop

# ---------------------------------------------------------------- steps since the last update
# a0 + t1 = the record's B_LAST / BI_LAST field; returns n in t2 (0: nothing to do) via jr s11,
# capped at the record's B_NMAX / BI_NMAX (8 bytes after its last-update field): the steps one
# update may stand for, linked from the chip and network (compiler/link.ts, firmware-models/README.md).
steps_since:
        add     t3, a0, t1
        rdstep  t0
        lw      t4, 0(t3)
        sub     t2, t0, t4
        sw      t0, 0(t3)
        lw      t4, 8(t3)         # n_max
        bleu    t2, t4, 1f
        mv      t2, t4
1:      jr      s11

# float32 rate times n: t2 = n, a1 = rate bits -> a1 = float32(n) * rate bits (via jr s11)
scale_float:
        vsplat.w v1, t2
        vcvt.f.w v1, v1
        vmuls.f v1, v1, a1
        vext.w  a1, v1, zero
        jr      s11

# fixed-point K times n: a1 = K, t3 = S, t2 = n -> a1 = K*n and t3 = S' with a1 <= KMAX (via jr s11)
scale_fixed:
        mul     a1, a1, t2
        li      t4, KMAX
1:      ble     a1, t4, 2f
        beqz    t3, 3f
        addi    a1, a1, 1
        srai    a1, a1, 1
        addi    t3, t3, -1
        j       1b
3:      mv      a1, t4            # the update saturates: as large as the lanes allow
2:      jr      s11

# ---------------------------------------------------------------- float32 block (a0 = record)
float_block:
        li      t1, B_LAST
        jal     s11, steps_since
        beqz    t2, 9f
        lw      a1, B_RATE(a0)
        jal     s11, scale_float
        lw      a2, B_ROW0(a0)
        lw      a3, B_SIGNALS(a0)
        lw      a4, B_COL0(a0)
        lw      a5, B_COLS(a0)
        lw      a6, B_OBS(a0)
        add     a7, a4, a5        # end column
        # c[s] = fround(s_prev * rate_n) for every row, 32 rows per row-driver read
        li      t0, 0
        mv      t5, s2
1:      add     t6, a2, t0
        vrowd.f v1, t6
        vmuls.f v1, v1, a1
        vst     v1, 0(t5)
        addi    t0, t0, 32
        addi    t5, t5, 128
        blt     t0, a3, 1b
        mv      s5, t5            # e segments follow
        mv      t6, a4
2:      bnez    a6, 3f
        vadc.f  v2, 0, t6
        j       4f
3:      vadc.f  v2, 3, t6
4:      vst     v2, 0(t5)
        addi    t6, t6, 32
        addi    t5, t5, 128
        blt     t6, a7, 2b
        # the rows that carried a value (a row that carried 0 does not change): (row, c) pairs
        mv      s7, t5            # the list follows the e segments
        mv      s10, t5
        li      s6, 0
        mv      s8, s2
5:      lw      t1, 0(s8)
        beqz    t1, 6f
        add     t0, a2, s6
        sw      t0, 0(s10)
        sw      t1, 4(s10)
        addi    s10, s10, 8
6:      addi    s6, s6, 1
        addi    s8, s8, 4
        blt     s6, a3, 5b
        beq     s7, s10, 9f
        # per 32-column segment, its e in v2 once, then W[row] += fround(e * c) for the listed rows
        mv      t6, a4
        mv      t5, s5
7:      vld     v2, 0(t5)
        mv      s8, s7
8:      lw      s9, 0(s8)
        lw      t1, 4(s8)
        vlds.f  v4, s9, t6
        vmuls.f v5, v2, t1        # e * c (t1: c as float32 bits)
        vadd.f  v4, v4, v5
        vsts.f  v4, s9, t6
        addi    s8, s8, 8
        bltu    s8, s10, 8b
        addi    t6, t6, 32
        addi    t5, t5, 128
        blt     t6, a7, 7b
9:      ret

# ---------------------------------------------------------------- float32 bias (a0 = record)
float_bias:
        li      t1, BI_LAST
        jal     s11, steps_since
        beqz    t2, 9f
        lw      a1, BI_RATE(a0)
        jal     s11, scale_float
        lw      a4, BI_COL0(a0)
        lw      a5, BI_COLS(a0)
        li      t0, 0
1:      add     t6, a4, t0
        vldp.f  v1, 0, t6
        vadc.f  v2, 3, t6
        vmuls.f v2, v2, a1
        sub     t1, a5, t0        # columns left; lanes past them must keep their bias
        li      t2, 32
        bge     t1, t2, 2f
        vsplat.w v3, t1
        vcvt.f.w v3, v3
        vcmplt.f v3, v30, v3
        vand    v2, v2, v3
2:      vadd.f  v1, v1, v2
        vstp.f  v1, 0, t6
        addi    t0, t0, 32
        blt     t0, a5, 1b
9:      ret

# ---------------------------------------------------------------- fixed-point block (a0 = record)
fixed_block:
        li      t1, B_LAST
        jal     s11, steps_since
        beqz    t2, 9f
        lw      a1, B_RATE(a0)
        lw      t3, B_SHIFT(a0)
        jal     s11, scale_fixed
        lw      a2, B_ROW0(a0)
        lw      a3, B_SIGNALS(a0)
        lw      a4, B_COL0(a0)
        lw      a5, B_COLS(a0)
        lw      a6, B_OBS(a0)
        lw      s10, B_RPS(a0)
        add     a7, a4, a5        # end column
        mul     s7, a3, s10       # rows of the block
        # ds per row = row-driver code - code of 0, 64 rows per read, 16-bit each
        li      t0, 0
        mv      t5, s2
1:      add     t6, a2, t0
        vrowd.h v1, t6
        vsub.h  v1, v1, v29
        vst     v1, 0(t5)
        addi    t0, t0, 64
        addi    t5, t5, 128
        blt     t0, s7, 1b
        mv      s5, t5            # de per column follows, 64 columns per 128 bytes
        mv      t6, a4
2:      bnez    a6, 3f
        vadc.h  v2, 0, t6
        j       4f
3:      vadc.h  v2, 3, t6
4:      vsub.h  v2, v2, v29
        vst     v2, 0(t5)
        addi    t6, t6, 64
        addi    t5, t5, 128
        blt     t6, a7, 2b
        # rows: 128 columns per segment, the two 64-lane halves narrowed into one 8-bit register
        li      s6, 0
        mv      s8, s2
        slli    s9, s10, 1        # bytes of ds per signal
        mv      s7, a2            # first row of the signal
5:      lh      t1, 0(s8)
        beqz    t1, 8f            # a row that carried 0 does not change
        mv      t6, a4
        mv      t5, s5
6:      vld     v2, 0(t5)
        vmuls.hs v4, v2, t1       # de * ds
        vmulfs.hs v4, v4, a1      # * K >> 15
        vxor    v6, v6, v6
        vnarrowsr.lo v6, v4, t3   # >> S, stochastic rounding, into 8-bit lanes 0..63
        sub     t0, a7, t6
        li      t2, 64
        ble     t0, t2, 7f
        vld     v3, 128(t5)
        vmuls.hs v5, v3, t1
        vmulfs.hs v5, v5, a1
        vnarrowsr.hi v6, v5, t3   # lanes 64..127
7:      li      t2, 2
        bne     s10, t2, 10f
        addi    t4, s7, 1         # the inhibitory row of the pair
        vlds.b  v7, s7, t6
        vlds.b  v8, t4, t6
        vsub.bs v9, v7, v8        # w = exc - inh
        vadd.bs v9, v9, v6
        vmax.b  v7, v9, v0        # exc = max(w, 0)
        vsub.bs v8, v0, v9
        vmax.b  v8, v8, v0        # inh = max(-w, 0)
        vsts.b  v7, s7, t6
        vsts.b  v8, t4, t6
        j       11f
10:     vlds.b  v7, s7, t6
        vadd.bs v7, v7, v6
        vsts.b  v7, s7, t6
11:     addi    t6, t6, 128
        addi    t5, t5, 256
        blt     t6, a7, 6b
8:      addi    s6, s6, 1
        add     s8, s8, s9
        add     s7, s7, s10
        blt     s6, a3, 5b
9:      ret

# ---------------------------------------------------------------- fixed-point bias (a0 = record)
fixed_bias:
        li      t1, BI_LAST
        jal     s11, steps_since
        beqz    t2, 9f
        lw      a1, BI_RATE(a0)
        lw      t3, BI_SHIFT(a0)
        jal     s11, scale_fixed
        lw      a4, BI_COL0(a0)
        lw      a5, BI_COLS(a0)
        lw      t4, BI_PRESHIFT(a0)
        li      t0, 0
1:      add     t6, a4, t0
        vldp.h  v1, 0, t6         # bias DAC codes
        vadc.h  v2, 3, t6
        vsub.h  v2, v2, v29
        vsll.hs v2, v2, t4
        vmulfs.hs v2, v2, a1
        vxor    v3, v3, v3
        vnarrowsr.lo v3, v2, t3
        vwiden.lo v4, v3          # delta in 16-bit lanes
        sub     t1, a5, t0        # columns left; lanes past them must keep their bias
        li      t2, 64
        bge     t1, t2, 2f
        vsplat.h v5, t1
        vcmplt.h v5, v30, v5
        vand    v4, v4, v5
2:      vadd.hs v1, v1, v4
        vstp.h  v1, 0, t6
        addi    t0, t0, 64
        blt     t0, a5, 1b
9:      ret

        .data
        .align 4
le_passes:
        .word 0                   # full passes so far (the host reads it for its reports)
        .align 4
le_table:                         # this core's table, linked by compiler/link.ts
