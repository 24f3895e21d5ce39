# cd.s: contrastive-divergence training of Boltzmann samplers made of lif neurons (issue 7), run by
# the plasticity processor on its core. The host (emulator/lif/cd-firmware.ts) writes the table at
# `cd_table`; firmware-models/README.md documents it, firmware-models/cd-reference.ts is the float
# reference of one update.
#
# The core holds `networks` networks of n neurons each, network k on columns k n .. k n + n - 1;
# neuron g's spikes drive synapse rows 2g (excitatory) and 2g + 1 (inhibitory), magnitudes with the
# sign per row (bss2: 6-bit codes). Each iteration:
#   1. sampling: every `wait` analog steps, read z of every column (vadc observable 6, the neuron's
#      refractory state: neural sampling's binary state) and count, per column g and offset d,
#          count[g][0] += z_g,   count[g][d] += z_g z_{g+d}   (d = 1 .. n - 1)
#      in 16-bit lanes (64 columns per vector; the partner column is a second ADC read from col0 + d,
#      so no lane shuffle is needed); pairs that cross a network boundary are counted and never used;
#   2. update, per network and unit i (column g = k n + i), with S samples per iteration:
#          b_g       += eta_t (<z_i>_data     - count[g][0] / S)
#          W_g,g+d   += eta_t (<z_i z_i+d>_data - count[g][d] / S)      (i + d < n)
#      eta_t = eta decay / (decay + t) at iteration t; parameters in Q16 (1.0 = 65536) in memory;
#   3. write: W -> synapse codes round(|W| m_E) on the excitatory row (W > 0) or round(|W| m_I) on
#      the inhibitory row (W < 0), clamped to the code range, both directions (post i, pre j and post
#      j, pre i: W is symmetric), one row read-modify-write per presynaptic neuron and sign;
#      b -> bias DAC codes round(b m_B) (the leak potential moves by alpha b: the measured activation
#      function's translation), clamped to the DAC's range, one vstp.h per 64 columns.
# Rounding is half up throughout (mulh + the product's bit 31).
#
# Vector registers kept: v29 = the z threshold (ADC code between z = 0 and z = 1), v31 = 0.
# Scalar registers kept: s0 = table, s1 = iteration, s2 = samples left.

        .equ H_VERSION, 0
        .equ H_COLS, 4            # N = n * networks columns
        .equ H_N, 8               # units per network
        .equ H_NETS, 12
        .equ H_CHUNKS, 16         # ceil(N / 64)
        .equ H_SAMPLES, 20        # samples per iteration S (1 .. 32767)
        .equ H_WAIT, 24           # analog steps between samples
        .equ H_ITERS, 28          # iterations to run (0: until the host stops)
        .equ H_ETA, 32            # eta, Q16
        .equ H_DECAY, 36          # eta_t = eta decay / (decay + t); 0: eta_t = eta
        .equ H_ME, 40             # excitatory synapse codes per unit W, Q16
        .equ H_MI, 44             # inhibitory synapse codes per unit |W|, Q16
        .equ H_MB, 48             # bias DAC codes per unit b, Q16
        .equ H_BMIN, 52           # bias code range
        .equ H_BMAX, 56
        .equ H_WMAX, 60           # largest synapse code
        .equ H_ZTHR, 64           # ADC code (16-bit lanes) between z = 0 and z = 1
        .equ H_DONE, 68           # iterations done (firmware writes it; the host reads it)
        .equ H_DATA, 72           # address of the data moments: [n][n] Q16 words, D[i][0] = <z_i>, D[i][d] = <z_i z_i+d>
        .equ H_PARAMS, 76         # address of the parameters: [N][n] Q16 words, P[g][0] = b_g, P[g][d] = W_g,g+d
        .equ H_COUNT, 80          # address of the counters: [chunks][n] vectors of 64 16-bit lanes
        .equ H_BCODE, 84          # address of the bias codes: chunks * 64 halfwords

        .equ OBS_Z, 6
        .equ VBYTES, 128
        .equ LANES, 64

        .text
        .globl _start
_start:
        la      s0, cd_table
        lw      t0, H_ZTHR(s0)
        vsplat.h v29, t0
        vxor    v31, v31, v31
        call    write_all          # the initial parameters onto the array
        li      s1, 0
iteration:
        lw      t0, H_ITERS(s0)
        beqz    t0, 1f
        bgeu    s1, t0, finish
1:      call    clear_counters
        lw      s2, H_SAMPLES(s0)
sample:
        lw      t0, H_WAIT(s0)
        wait    t0
        call    accumulate
        addi    s2, s2, -1
        bnez    s2, sample
        mv      a0, s1
        call    update
        call    write_all
        addi    s1, s1, 1
        sw      s1, H_DONE(s0)
        j       iteration
finish:
        li      a0, 0
        li      a7, 93
        ecall

# ---------------------------------------------------------------- counters = 0
clear_counters:
        lw      t0, H_COUNT(s0)
        lw      t1, H_CHUNKS(s0)
        lw      t2, H_N(s0)
        mul     t1, t1, t2
1:      vst     v31, 0(t0)
        addi    t0, t0, VBYTES
        addi    t1, t1, -1
        bnez    t1, 1b
        ret

# ---------------------------------------------------------------- one sample of z into the counters
accumulate:
        lw      t0, H_COUNT(s0)    # counters of chunk c, offset 0
        lw      t1, H_CHUNKS(s0)
        lw      t2, H_N(s0)
        lw      a1, H_COLS(s0)
        li      t3, 0              # col0 = 64 c
1:      vadc.h  v1, OBS_Z, t3
        vcmplt.hu v1, v29, v1      # z mask: all ones where threshold < code
        vld     v2, 0(t0)
        vsub.h  v2, v2, v1         # count += z
        vst     v2, 0(t0)
        li      t4, 1              # d
        addi    t5, t0, VBYTES
2:      bge     t4, t2, 3f
        add     t6, t3, t4
        bge     t6, a1, 4f         # partner columns past the array: no pair of this chunk is within a network
        vadc.h  v3, OBS_Z, t6      # z of column g + d in lane g
        vcmplt.hu v3, v29, v3
        vand    v3, v3, v1
        vld     v2, 0(t5)
        vsub.h  v2, v2, v3         # count += z_g z_g+d
        vst     v2, 0(t5)
4:      addi    t4, t4, 1
        addi    t5, t5, VBYTES
        j       2b
3:      mv      t0, t5
        addi    t3, t3, LANES
        addi    t1, t1, -1
        bnez    t1, 1b
        ret

# ---------------------------------------------------------------- parameters += eta_t (data - model)
# a0 = iteration t.
update:
        lw      t0, H_ETA(s0)
        lw      t1, H_DECAY(s0)
        beqz    t1, 1f
        mul     t0, t0, t1
        add     t2, t1, a0
        divu    t0, t0, t2         # eta_t = eta decay / (decay + t), Q16 (floor)
1:      mv      a1, t0
        lw      a2, H_SAMPLES(s0)
        lw      a3, H_N(s0)
        lw      a4, H_COLS(s0)
        lw      a5, H_PARAMS(s0)   # &P[g][0]
        lw      a6, H_COUNT(s0)
        li      t0, 0              # g
        li      t1, 0              # i = g mod n
2:      bge     t0, a4, 9f
        srli    t2, t0, 6          # &count[g >> 6][0][g & 63]
        mul     t2, t2, a3
        slli    t2, t2, 7
        add     t2, t2, a6
        andi    t3, t0, 63
        slli    t3, t3, 1
        add     t2, t2, t3
        lw      t3, H_DATA(s0)     # &D[i][0]
        mul     t4, t1, a3
        slli    t4, t4, 2
        add     t3, t3, t4
        li      t4, 0              # d
        sub     t5, a3, t1         # d < n - i
3:      bge     t4, t5, 4f
        lhu     t6, 0(t2)
        slli    t6, t6, 16
        divu    t6, t6, a2         # model moment, Q16 (floor)
        lw      a7, 0(t3)
        sub     a7, a7, t6         # data - model, Q16
        mul     t6, a1, a7
        mulh    a7, a1, a7
        srli    t6, t6, 16
        slli    a7, a7, 16
        or      a7, a7, t6         # eta_t (data - model), Q16 (floor)
        slli    t6, t4, 2
        add     t6, t6, a5
        lw      s3, 0(t6)
        add     s3, s3, a7
        sw      s3, 0(t6)
        addi    t4, t4, 1
        addi    t2, t2, VBYTES
        addi    t3, t3, 4
        j       3b
4:      addi    t0, t0, 1
        addi    t1, t1, 1
        bne     t1, a3, 5f
        li      t1, 0
5:      slli    t6, a3, 2
        add     a5, a5, t6
        j       2b
9:      ret

# ---------------------------------------------------------------- parameters -> synapse and bias codes
write_all:
        lw      a3, H_N(s0)
        lw      a4, H_NETS(s0)
        lw      a5, H_PARAMS(s0)
        lw      a6, H_ME(s0)
        lw      a7, H_MI(s0)
        lw      s10, H_WMAX(s0)
        li      s3, 0              # first column of the network
1:      beqz    a4, 8f
        li      s4, 0              # presynaptic unit j
2:      bge     s4, a3, 7f
        add     s5, s3, s4
        slli    s6, s5, 1          # excitatory row of neuron k n + j
        addi    s7, s6, 1          # its inhibitory row
        vlds.h  v4, s6, s3         # lanes 0 .. n - 1: the network's columns
        vlds.h  v5, s7, s3
        li      s8, 0              # postsynaptic unit i
3:      bge     s8, a3, 6f
        beq     s8, s4, 5f
        blt     s8, s4, 31f        # W_ij = P[k n + min(i, j)][|i - j|]
        mv      t0, s4
        sub     t1, s8, s4
        j       32f
31:     mv      t0, s8
        sub     t1, s4, s8
32:     add     t0, t0, s3
        mul     t0, t0, a3
        add     t0, t0, t1
        slli    t0, t0, 2
        add     t0, t0, a5
        lw      t0, 0(t0)          # W, Q16
        mv      t4, a6
        li      t6, 0              # 0: excitatory, 1: inhibitory
        bgez    t0, 33f
        neg     t0, t0
        mv      t4, a7
        li      t6, 1
33:     mul     t5, t0, t4
        mulh    t1, t0, t4
        srli    t5, t5, 31
        add     t5, t1, t5         # round(|W| m / 2^32), half up
        ble     t5, s10, 34f
        mv      t5, s10
34:     li      t2, 0
        li      t3, 0
        bnez    t6, 35f
        mv      t2, t5
        j       36f
35:     mv      t3, t5
36:     vins.h  v4, t2, s8
        vins.h  v5, t3, s8
5:      addi    s8, s8, 1
        j       3b
6:      vsts.h  v4, s6, s3
        vsts.h  v5, s7, s3
        addi    s4, s4, 1
        j       2b
7:      add     s3, s3, a3
        addi    a4, a4, -1
        j       1b
        # biases: codes of every column, then one vstp.h per 64 columns
8:      lw      a4, H_COLS(s0)
        lw      t4, H_MB(s0)
        lw      a6, H_BMIN(s0)
        lw      a7, H_BMAX(s0)
        lw      s9, H_BCODE(s0)
        li      s3, 0
        mv      t5, a5
9:      bge     s3, a4, 10f
        lw      t0, 0(t5)          # b, Q16
        mul     t1, t0, t4
        mulh    t2, t0, t4
        srli    t1, t1, 31
        add     t2, t2, t1         # round(b m_B / 2^32), half up
        bge     t2, a6, 91f
        mv      t2, a6
91:     ble     t2, a7, 92f
        mv      t2, a7
92:     slli    t1, s3, 1
        add     t1, t1, s9
        sh      t2, 0(t1)
        slli    t1, a3, 2
        add     t5, t5, t1
        addi    s3, s3, 1
        j       9b
10:     lw      t1, H_CHUNKS(s0)
        li      t0, 0
        mv      t2, s9
11:     vld     v6, 0(t2)
        vstp.h  v6, 0, t0
        addi    t2, t2, VBYTES
        addi    t0, t0, LANES
        addi    t1, t1, -1
        bnez    t1, 11b
        ret

        .data
        .balign 16
cd_table:                          # the host appends the table and its arrays here
        .word   1
